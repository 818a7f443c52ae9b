import { describe, it, expect, inject } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { waitNamespacesGone, type ScenarioContext } from '../../src/core/scenarios/apply.js';
import { engines } from '../../src/engines/index.js';

const env = { ...process.env, KUBE_SECLAB_DATA: inject('labData') };
const NS = 'reset-wait-probe';
const cm = (finalizers: string[]) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'held', namespace: NS, finalizers },
  data: { a: 'b' },
});

describe("a reset's wait for a terminating namespace", () => {
  it('says what holds the namespace when it does not go, and sees it go once the hold is released', async () => {
    const lab = await Lab.open({ engines, env, engine: 'local' });
    const cluster = await lab.cluster();
    const ctx = { cluster } as unknown as ScenarioContext;
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await cluster.apply(cm(['kube-seclab.io/test-hold']));
    try {
      await cluster.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
      const err = await waitNamespacesGone(ctx, [NS], 20_000).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/^namespace reset-wait-probe is still terminating after 20 s \(.*kube-seclab\.io\/test-hold/);
      // Released: the namespace controller's back-off would wait; the waiter's nudge has it look again.
      await cluster.mergePatch({ ...cm([]), metadata: { name: 'held', namespace: NS, finalizers: null } } as never);
      const t0 = Date.now();
      await waitNamespacesGone(ctx, [NS], 60_000);
      expect(await cluster.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })).toBeUndefined();
      console.log(`namespace gone ${((Date.now() - t0) / 1000).toFixed(1)} s after its last finalizer was removed`);
    } finally {
      await cluster.mergePatch({ ...cm([]), metadata: { name: 'held', namespace: NS, finalizers: null } } as never).catch(() => {});
    }
  });
});
