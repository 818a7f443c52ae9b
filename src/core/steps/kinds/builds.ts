import { join } from 'node:path';
import { z } from 'zod';
import { workspacePath } from '../../lessons/schema.js';
import { buildApp } from '../../builds.js';
import { deployImage, publishSbom, signDeploymentImage } from '../../scenarios/objects.js';
import type { StepKind } from '../types.js';
import { shellQuote } from '../../shell.js';
import { LOCAL_BUILDS } from './workspace.js';

const deployTo = z.object({ namespace: z.string(), name: z.string(), container: z.string().optional() }).strict();

/**
 * What `kube-seclab build PATH` does: build the app in workspace folder `path` as an image of the
 * lab's registry (on kind: docker build + loaded into the node) — and with `deploy`, point a
 * Deployment's container at it, by digest.
 */
export const build: StepKind<{ path: string; deploy?: z.infer<typeof deployTo> }> = {
  type: 'build',
  schema: z.object({ path: workspacePath, deploy: deployTo.optional() }).strict(),
  async run(ctx, p) {
    const rec = await buildApp({ engine: ctx.engine, workspace: ctx.workspace, path: p.path });
    if (p.deploy) await deployImage(ctx, p.deploy, rec.image);
  },
  scope: () => LOCAL_BUILDS,
  byHand: (p) => ({
    run: `kube-seclab build ${shellQuote(p.path)}${p.deploy ? ` --deploy ${shellQuote(`${p.deploy.namespace}/${p.deploy.name}${p.deploy.container ? `:${p.deploy.container}` : ''}`)}` : ''}`,
  }),
};

/**
 * What `kube-seclab sign` does, for the image a Deployment's container runs (by digest): sign it
 * with a key from the workspace (default signing/signing.key) and store the signature.
 */
export const sign: StepKind<{ namespace: string; name: string; container?: string; key?: string }> = {
  type: 'sign',
  schema: z.object({ namespace: z.string(), name: z.string(), container: z.string().optional(), key: workspacePath.optional() }).strict(),
  async run(ctx, p) {
    await signDeploymentImage(ctx, p);
  },
  scope: () => LOCAL_BUILDS,
  byHand: (p) => {
    const image = `"$(kubectl -n ${shellQuote(p.namespace)} get deployment ${shellQuote(p.name)} -o jsonpath=${shellQuote(p.container ? `{.spec.template.spec.containers[?(@.name=="${p.container}")].image}` : '{.spec.template.spec.containers[0].image}')})"`;
    return { run: `kube-seclab sign ${image}${p.key ? ` --key ${shellQuote(p.key)}` : ''}` };
  },
};

const sbomSchema = z
  .object({
    path: workspacePath,
    publish: z.object({ namespace: z.string(), name: z.string() }).strict(),
    /** An SBOM file of the fix folder to publish instead (one another tool made, e.g. cyclonedx-npm). */
    file: z.string().optional(),
    /** The ConfigMap key (default sbom.cdx.json): `kubectl create configmap --from-file=FILE` names it after the file. */
    key: z.string().optional(),
  })
  .strict();

/**
 * What `kube-seclab sbom PATH` writes (a CycloneDX SBOM of workspace app folder `path`: its
 * package.json and node_modules), published as ConfigMap `publish.name` (key sbom.cdx.json),
 * annotated kube-seclab.dev/image-digest with the lab's build of those very sources — what the
 * learner does with `kubectl create configmap` + `kubectl annotate`. Fails if they were never built.
 */
export const sbom: StepKind<z.infer<typeof sbomSchema>> = {
  type: 'sbom',
  schema: sbomSchema,
  async run(ctx, p) {
    await publishSbom(ctx, p.path, p.publish, ctx.lessonId, { file: p.file ? join(ctx.dir, p.file) : undefined, key: p.key });
  },
  scope: () => LOCAL_BUILDS,
  byHand: (p, h) => {
    const ns = shellQuote(p.publish.namespace);
    const name = shellQuote(p.publish.name);
    const key = p.key ?? 'sbom.cdx.json';
    const from = p.file ? shellQuote(h.file(p.file)) : 'sbom.cdx.json';
    return {
      todo:
        (p.file ? '' : `\`kube-seclab sbom ${shellQuote(p.path)} --out sbom.cdx.json\` (it prints the digest of the build the SBOM describes), then `) +
        `\`kubectl -n ${ns} create configmap ${name} --from-file=${shellQuote(`${key}=`)}${from}\` and ` +
        `\`kubectl -n ${ns} annotate configmap ${name} kube-seclab.dev/image-digest=sha256:…\` with that digest`,
    };
  },
  files: (p) => (p.file ? [p.file] : []),
};
