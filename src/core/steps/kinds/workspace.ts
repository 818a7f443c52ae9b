import { readFile, mkdir, rm, cp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { z } from 'zod';
import { x as tarExtract } from 'tar';
import { workspacePath } from '../../lessons/schema.js';
import { workspaceFile as inWorkspace } from '../../workspace.js';
import { writeFileAtomic } from '../../fsutil.js';
import { UserError } from '../../errors.js';
import type { StepKind } from '../types.js';
import { shellQuote } from '../../shell.js';

/** A file handed to the learner on their own machine (the lab's workspace folder), e.g. a cluster config to review. */
export const workspaceFile: StepKind<{ path: string; content?: string; file?: string }> = {
  type: 'workspaceFile',
  schema: z
    .object({ path: workspacePath, content: z.string().optional(), file: z.string().optional() })
    .strict()
    .refine((p) => (p.content === undefined) !== (p.file === undefined), 'give either content or file'),
  async run(ctx, p) {
    const content = p.content ?? (await readFile(join(ctx.dir, p.file ?? ''), 'utf8'));
    const target = inWorkspace(ctx, p.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFileAtomic(target, content);
  },
  undo: (p) => [{ workspace: p.path }],
  scope: () => ({}), // a file on the learner's machine
  byHand: (p, h) => {
    const target = shellQuote(join(h.names.workspace, p.path));
    if (p.file) return { run: `mkdir -p ${shellQuote(dirname(join(h.names.workspace, p.path)))} && cp ${shellQuote(h.file(p.file))} ${target}` };
    return { todo: `write ${target} with the content this step gives in the steps file above` };
  },
  files: (p) => (p.file ? [p.file] : []),
};

const LOCAL_BUILDS = "builds the app it hands out, and a shared cluster's nodes cannot run the lab's local builds";

/** A folder handed to the learner (an app's sources, say): `from` (in this folder) copied over `path` in the workspace, which it replaces. */
export const workspaceDir: StepKind<{ path: string; from: string }> = {
  type: 'workspaceDir',
  schema: z.object({ path: workspacePath, from: workspacePath }).strict(),
  async run(ctx, p) {
    const target = inWorkspace(ctx, p.path);
    await rm(target, { recursive: true, force: true });
    await mkdir(dirname(target), { recursive: true });
    await cp(join(ctx.dir, p.from), target, { recursive: true });
  },
  undo: (p) => [{ workspace: p.path }],
  scope: () => LOCAL_BUILDS,
  byHand: (p, h) => {
    const target = shellQuote(join(h.names.workspace, p.path));
    return { run: `rm -rf ${target} && cp -R ${shellQuote(h.file(p.from))} ${target}` };
  },
  files: (p) => [p.from],
};

/**
 * An npm package tarball in the workspace (one a scenario handed out, e.g. npm-offline/x-1.2.3.tgz)
 * unpacked over a folder of it — what `npm install --offline <tarball>` does to node_modules/<x>.
 */
export const unpack: StepKind<{ tarball: string; into: string }> = {
  type: 'unpack',
  schema: z.object({ tarball: workspacePath, into: workspacePath }).strict(),
  async run(ctx, p) {
    const tarball = inWorkspace(ctx, p.tarball);
    if (!existsSync(tarball)) throw new UserError(`the workspace has no ${p.tarball}`, 'a lesson reset hands it out again');
    const target = inWorkspace(ctx, p.into);
    await rm(target, { recursive: true, force: true });
    await mkdir(target, { recursive: true });
    // npm's tarballs hold the package under package/
    await tarExtract({ file: tarball, cwd: target, strip: 1, strict: true });
  },
  undo: (p) => [{ workspace: p.into }],
  scope: () => LOCAL_BUILDS,
  byHand: (p, h) => {
    const into = shellQuote(join(h.names.workspace, p.into));
    return { run: `rm -rf ${into} && mkdir -p ${into} && tar -xzf ${shellQuote(join(h.names.workspace, p.tarball))} -C ${into} --strip-components=1` };
  },
};

export { LOCAL_BUILDS };
