import { describe, it, expect } from 'vitest';
import { kubeRouterPods } from '../../src/engines/kind/kubeRouter.js';
import { enforceablePods, notYetEnforced, stillCurrent, podList } from '../../src/core/checks/policySync.js';

// Lines as kube-router writes them on the lab's kind node (iptables-save -t filter).
const jump = (flag: 'd' | 's', ip: string, ns: string, name: string, extra = '') =>
  `-A KUBE-ROUTER-FORWARD -${flag} ${ip}/32${extra} -m comment --comment "rule to jump traffic ${flag === 'd' ? 'destined to' : 'from'} POD name:${name} namespace: ${ns} to chain KUBE-POD-FW-EIJCDXZKEJZK6LF6" -j KUBE-POD-FW-EIJCDXZKEJZK6LF6`;
const table = (...lines: string[]) => ['*filter', ':KUBE-ROUTER-FORWARD - [0:0]', ':KUBE-ROUTER-INPUT - [0:0]', ...lines, 'COMMIT'].join('\n');

describe('kube-router rules', () => {
  it('names a pod at an address only when traffic to and from it is taken in', () => {
    const t = table(
      jump('d', '10.244.2.57', 'kube-system', 'coredns-a'),
      jump('d', '10.244.2.57', 'kube-system', 'coredns-a', ' -m physdev --physdev-is-bridged'),
      jump('s', '10.244.2.57', 'kube-system', 'coredns-a'),
      jump('d', '10.244.2.60', 'storefront', 'api-1'), // only half written: not in force for this pod
      `-A KUBE-ROUTER-INPUT -s 10.244.2.60/32 -m comment --comment "rule to jump traffic from POD name:api-1 namespace: storefront to chain KUBE-POD-FW-X" -j KUBE-POD-FW-X`,
      jump('s', '10.244.2.61', 'storefront', 'db-0'),
      jump('d', '10.244.2.61', 'storefront', 'db-0'),
    );
    const m = kubeRouterPods(t)!;
    expect([...m.keys()].sort()).toEqual(['kube-system/coredns-a', 'storefront/db-0']);
    expect([...m.get('storefront/db-0')!]).toEqual(['10.244.2.61']);
  });

  it('tells another plugin (no kube-router chains) from kube-router with no pods', () => {
    expect(kubeRouterPods('*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j KIND-NETWORK-POLICIES\nCOMMIT')).toBeUndefined();
    expect(kubeRouterPods(table())!.size).toBe(0);
  });
});

describe('waiting for enforcement', () => {
  const pod = (namespace: string, name: string, ip: string | undefined, more: Record<string, unknown> = {}) => ({
    metadata: { namespace, name, ...(more.deleting ? { deletionTimestamp: 'x' } : {}) },
    spec: { hostNetwork: !!more.hostNetwork },
    status: { phase: (more.phase as string) ?? 'Running', podIP: ip, podIPs: ip ? [{ ip }] : [] },
  });

  it('waits for the pods the plugin enforces for: on the pod network, with an address, not finished, not being deleted', () => {
    const got = enforceablePods([
      pod('s', 'api-new', '10.0.0.9'),
      pod('kube-system', 'kube-proxy', '172.18.0.2', { hostNetwork: true }),
      pod('s', 'starting', undefined, { phase: 'Pending' }),
      pod('s', 'done', '10.0.0.3', { phase: 'Succeeded' }),
      pod('s', 'old', '10.0.0.4', { deleting: true }),
      pod('s', 'init', '10.0.0.5', { phase: 'Pending' }),
    ]);
    expect(got).toEqual([
      { namespace: 's', name: 'api-new', ip: '10.0.0.9' },
      { namespace: 's', name: 'init', ip: '10.0.0.5' },
    ]);
  });

  it('is not done while a recreated pod is held at its old address or not at all', () => {
    const required = [
      { namespace: 's', name: 'probe', ip: '10.0.0.20' },
      { namespace: 's', name: 'db-0', ip: '10.0.0.21' },
      { namespace: 's', name: 'api-2', ip: '10.0.0.22' },
    ];
    const enforced = new Map([
      ['s/probe', new Set(['10.0.0.20'])],
      ['s/db-0', new Set(['10.0.0.7'])],
    ]); // db-0: the StatefulSet pod before its restart
    expect(notYetEnforced(required, enforced).map((p) => p.name)).toEqual(['db-0', 'api-2']);
    enforced.set('s/db-0', new Set(['10.0.0.21']));
    enforced.set('s/api-2', new Set(['10.0.0.22']));
    expect(notYetEnforced(required, enforced)).toEqual([]);
  });

  it('stops waiting for a pod that went away or moved, never for the probe', () => {
    const probe = { namespace: 's', name: 'probe', ip: '10.0.0.20' };
    const required = [probe, { namespace: 's', name: 'api-1', ip: '10.0.0.8' }, { namespace: 's', name: 'db-0', ip: '10.0.0.7' }];
    const now = [{ namespace: 's', name: 'db-0', ip: '10.0.0.7' }];
    expect(stillCurrent(required, now, (p) => p.name === 'probe')).toEqual([probe, { namespace: 's', name: 'db-0', ip: '10.0.0.7' }]);
    expect(stillCurrent(required, [{ namespace: 's', name: 'db-0', ip: '10.0.0.30' }], () => false)).toEqual([]);
    expect(podList([...required, ...required], 2)).toBe('s/probe, s/api-1 and 1 more');
  });
});

describe("the checks' own pods", () => {
  it('are left out only while this process runs them, whatever labels a pod carries', async () => {
    const { checkPodStarted, checkPodEnded, notACheckPod } = await import('../../src/core/checks/watch.js');
    const probe = { metadata: { namespace: 'gallery', name: 'kube-seclab-probe-ab12cd', labels: { app: 'uploader', 'kube-seclab.dev/check': 'probe' } } };
    expect(notACheckPod(probe)).toBe(true); // a label alone hides nothing
    checkPodStarted('gallery', 'kube-seclab-probe-ab12cd');
    expect(notACheckPod(probe)).toBe(false);
    expect(notACheckPod({ metadata: { namespace: 'other', name: 'kube-seclab-probe-ab12cd' } })).toBe(true);
    checkPodEnded('gallery', 'kube-seclab-probe-ab12cd');
    expect(notACheckPod(probe)).toBe(true);
  });
});
