import type { StepKind } from './types.js';
import { apply, del, patch, rewrite, wait, pinImageDigestStep } from './kinds/objects.js';
import { generateSecret, moveSecret, rotateSecret } from './kinds/secrets.js';
import { nodeFile, removeNodeFile, kubeletConfig, manifest } from './kinds/node.js';
import { workspaceFile, workspaceDir, unpack } from './kinds/workspace.js';
import { build, sign, sbom } from './kinds/builds.js';

/** Every step kind, by the key a steps file uses. Adding one = a module + a line here (as check primitives). */
export const STEP_KINDS: Record<string, StepKind> = Object.fromEntries(
  [
    apply,
    del,
    patch,
    rewrite,
    wait,
    pinImageDigestStep,
    generateSecret,
    moveSecret,
    rotateSecret,
    nodeFile,
    removeNodeFile,
    kubeletConfig,
    manifest,
    workspaceFile,
    workspaceDir,
    unpack,
    build,
    sign,
    sbom,
  ].map((k) => [k.type, k as StepKind]),
);
