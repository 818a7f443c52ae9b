import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import type { KubernetesObject } from '@kubernetes/client-node';
import { objRef } from '../../lessons/schema.js';
import { applyObjects, loadManifests, pinImageDigest, waitDeployment } from '../../scenarios/objects.js';
import type { StepKind } from '../types.js';
import { shellQuote } from '../../shell.js';

/** `-n NS ` for a namespaced object, nothing for a cluster-scoped one. */
const inNs = (ns: string | undefined) => (ns ? `-n ${shellQuote(ns)} ` : '');

/** The objects of a manifest file, or of every manifest of a folder. */
async function objectsAt(path: string): Promise<KubernetesObject[]> {
  if ((await stat(path)).isDirectory()) return loadManifests(path);
  return parseAllDocuments(await readFile(path, 'utf8'))
    .map((d) => d.toJS())
    .filter((o) => o && typeof o === 'object');
}

/** Apply the manifests of a file or folder of this one (server-side, labelled with the lesson). */
export const apply: StepKind<string> = {
  type: 'apply',
  schema: z.string().min(1),
  async run(ctx, p) {
    await applyObjects(
      ctx,
      (await objectsAt(join(ctx.dir, p))).map((o) => ctx.cluster.rename.value(o)),
      ctx.lessonId,
    );
  },
  scope: async (p, dir) => ({ objects: await objectsAt(join(dir, p)) }),
  byHand: (p, h) => ({ run: h.applyCommand(h.file(p)) }),
  files: (p) => [p],
};

/** The resource a kubectl command names: `kind.group` (a core kind: its kind alone), so no short name is ambiguous. */
function resource(r: { apiVersion: string; kind: string }): string {
  const group = r.apiVersion.includes('/') ? r.apiVersion.split('/')[0] : '';
  return `${r.kind.toLowerCase()}${group ? `.${group}` : ''}`;
}

const ref = (r: { kind: string; name: string; namespace?: string }) => ({ kind: r.kind, metadata: { name: r.name, namespace: r.namespace } });

export const del: StepKind<z.infer<typeof objRef>> = {
  type: 'delete',
  schema: objRef,
  async run(ctx, r) {
    await ctx.cluster.delete({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name, namespace: r.namespace } });
  },
  scope: (r) => ({ objects: [ref(r)] }),
  byHand: (r) => ({ run: `kubectl ${inNs(r.namespace)}delete ${resource(r)} ${shellQuote(r.name)} --ignore-not-found` }),
};

/** A JSON merge patch of one object. */
export const patch: StepKind<z.infer<typeof objRef> & { merge: Record<string, unknown> }> = {
  type: 'patch',
  schema: objRef.extend({ merge: z.record(z.string(), z.unknown()) }),
  async run(ctx, p) {
    const { merge, ...r } = p;
    await ctx.cluster.mergePatch({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name, namespace: r.namespace }, ...merge } as KubernetesObject);
  },
  scope: (r) => ({ objects: [ref(r)] }),
  byHand: ({ merge, ...r }) => ({
    run: `kubectl ${inNs(r.namespace)}patch ${resource(r)} ${shellQuote(r.name)} --type merge -p ${shellQuote(JSON.stringify(merge))}`,
  }),
};

/** Replace every object of a kind in a namespace as it is (what re-encrypts Secrets after an encryption change). */
export const rewrite: StepKind<{ apiVersion: string; kind: string; namespace: string }> = {
  type: 'rewrite',
  schema: z.object({ apiVersion: z.string(), kind: z.string(), namespace: z.string() }).strict(),
  async run(ctx, p) {
    const items = await ctx.cluster.list(p.apiVersion, p.kind, p.namespace);
    for (const o of items) await ctx.cluster.replace(o);
  },
  scope: (p) => ({ namespaces: [p.namespace] }),
  byHand: (p) => ({ run: `kubectl -n ${shellQuote(p.namespace)} get ${resource(p)} -o json | kubectl replace -f -` }),
};

/** Wait until a Deployment is rolled out (its current template's pods ready, no older one left). */
export const wait: StepKind<{ kind: 'Deployment'; namespace: string; name: string; timeoutSeconds: number }> = {
  type: 'wait',
  schema: z
    .object({ kind: z.enum(['Deployment']).default('Deployment'), namespace: z.string(), name: z.string(), timeoutSeconds: z.number().default(30) })
    .strict(),
  async run(ctx, p) {
    await waitDeployment(ctx, p.namespace, p.name, p.timeoutSeconds * 1000);
  },
  scope: (p) => ({ namespaces: [p.namespace] }),
  byHand: (p) => ({ run: `kubectl -n ${shellQuote(p.namespace)} rollout status deployment/${shellQuote(p.name)} --timeout=${p.timeoutSeconds}s` }),
};

/**
 * Pin a Deployment's images by digest — the digest its running pods report (what the node really
 * runs; digests differ per machine, so no fix file can carry them). On the local engine, where
 * pods are simulated, a stable made-up digest.
 */
export const pinImageDigestStep: StepKind<{ namespace: string; name: string }> = {
  type: 'pinImageDigest',
  schema: z.object({ namespace: z.string(), name: z.string() }).strict(),
  async run(ctx, p) {
    await pinImageDigest(ctx, p.namespace, p.name);
  },
  scope: (p) => ({ namespaces: [p.namespace] }),
  byHand: (p) => ({
    todo:
      `Pin Deployment ${p.namespace}/${p.name}'s images by digest: the digest its pods run ` +
      `(\`kubectl -n ${shellQuote(p.namespace)} get pods -o jsonpath='{..imageID}'\`), written as REPOSITORY@sha256:DIGEST in its containers' image ` +
      `(\`kubectl -n ${shellQuote(p.namespace)} set image deployment/${shellQuote(p.name)} CONTAINER=REPOSITORY@sha256:DIGEST\`)`,
  }),
};
