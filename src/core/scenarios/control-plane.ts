import { parse, parseDocument, stringify } from 'yaml';
import type { ScenarioContext } from './apply.js';
import type { Component } from '../engine/index.js';
import { controlPlaneOf, manifestFlags, toNodePath } from '../engine/index.js';
import { UserError } from '../errors.js';
import { sleep } from '../fsutil.js';

const KINDS: Record<string, [string, string]> = { secrets: ['v1', 'Secret'], configmaps: ['v1', 'ConfigMap'] };

/**
 * Turning encryption at rest off the way Kubernetes' docs say: identity first, restart, rewrite
 * every encrypted resource, and only then drop the flag — otherwise the API server can no longer
 * read what was stored encrypted and never becomes ready again.
 */
async function decryptAll(ctx: ScenarioContext): Promise<void> {
  const manifest = await controlPlaneOf(ctx.engine).readManifest('kube-apiserver');
  const flag = manifestFlags(manifest).get('--encryption-provider-config');
  if (!flag) return;
  // The flag names a path in the API server's container; the file is where its hostPath volume puts it on the node.
  const path = toNodePath(manifest, flag).nodePath;
  if (!path) return;
  const text = await controlPlaneOf(ctx.engine).readNodeFile(path);
  if (!text) return;
  let cfg: any;
  try {
    cfg = parse(text);
  } catch {
    return;
  }
  const resources: string[] = [];
  for (const r of cfg?.resources ?? []) resources.push(...(r.resources ?? []));
  if (!(await anyEncrypted(ctx, resources))) return; // nothing to decrypt: spare the API server a restart
  for (const r of cfg?.resources ?? []) {
    const providers: any[] = r.providers ?? [];
    r.providers = [{ identity: {} }, ...providers.filter((p) => !('identity' in p))];
  }
  await controlPlaneOf(ctx.engine).writeNodeFile(path, stringify(cfg));
  // A changed pod annotation makes a kubelet restart the static pod (a comment would not: it compares pods, not files).
  const doc = parseDocument(manifest);
  doc.setIn(['metadata', 'annotations', 'kube-seclab.dev/restarted-for'], `decrypting before reset ${new Date().toISOString()}`);
  await controlPlaneOf(ctx.engine).writeManifest('kube-apiserver', doc.toString());
  for (const res of new Set(resources)) {
    const kind = KINDS[res];
    if (!kind) continue;
    for (const o of await ctx.cluster.list(kind[0], kind[1])) await ctx.cluster.replace(o).catch(() => {}); // gone or changed meanwhile
  }
}

/** Is any object of these resources stored encrypted in etcd? (Read from the raw bytes.) */
async function anyEncrypted(ctx: ScenarioContext, resources: string[]): Promise<boolean> {
  for (const res of new Set(resources)) {
    const kind = KINDS[res];
    if (!kind) return true; // a resource we cannot enumerate: assume so
    for (const o of await ctx.cluster.list(kind[0], kind[1])) {
      const raw = await controlPlaneOf(ctx.engine).etcdGet(`/registry/${res}/${o.metadata!.namespace}/${o.metadata!.name}`);
      if (raw?.subarray(0, 8).toString() === 'k8s:enc:') return true;
    }
  }
  return false;
}

/** Is the API server itself up (whatever the controller-manager or scheduler do)? */
async function apiServerUp(ctx: ScenarioContext): Promise<boolean> {
  const st = await ctx.engine.status();
  return st.components.find((x) => x.name === 'kube-apiserver')?.healthy ?? st.healthy;
}

/**
 * Put a control-plane component back to the manifest the cluster was created with — unless the
 * edit a reset's scenario is about to make turns the current manifest into the same pod as the
 * baseline (the engine's `unlessSameAfter`). Decrypting comes first either way.
 */
export async function restoreComponent(ctx: ScenarioContext, c: Component, unlessSameAfter?: (manifest: string) => string): Promise<void> {
  // What the API server stored encrypted must be decrypted while it still has the keys: restored
  // first, it reads none of it again and never becomes ready. Only the API server needs to be up
  // for that (a controller-manager restarting must not skip it); a manifest that does not start
  // cannot decrypt anything, and must still be restorable.
  if (c === 'kube-apiserver' && (await apiServerUp(ctx))) {
    try {
      await decryptAll(ctx);
    } catch {
      await sleep(5000); // the API server restarting on a busy machine: once more
      try {
        await decryptAll(ctx);
      } catch (e) {
        // The manifest stays as it is (with its keys): the cluster keeps working, a reset can try again.
        throw new UserError(
          `could not decrypt what the API server stored encrypted before putting it back: ${(e as Error).message.split('\n')[0]}`,
          'run the reset again once `kube-seclab status` shows the API server healthy',
        );
      }
    }
  }
  await ctx.engine.controlPlane?.restoreManifest(c, { unlessSameAfter });
}
