/**
 * Waiting for a node's NetworkPolicy enforcement to catch up with the pods (pure logic; the engine
 * reads what is in force, see Engine.policyEnforcedPods).
 *
 * A connection between two pods is judged by the rules the node holds for both: the sender's egress
 * and the receiver's ingress, and each one's place in the other's peer sets. A pod the node's plugin
 * has not taken in yet — a probe pod that just started, but just as well the api pod a Deployment
 * restart recreated a second ago with a new address — is judged by rules of before it existed. So a
 * probe waits until the rules name every pod of its node with the address it has now.
 */

export interface PodAddress {
  namespace: string;
  name: string;
  ip: string;
}

interface PodLike {
  metadata?: { name?: string; namespace?: string; deletionTimestamp?: unknown };
  spec?: { hostNetwork?: boolean | null; nodeName?: string };
  status?: { phase?: string; podIP?: string; podIPs?: { ip?: string }[] | null };
}

/**
 * The pods a NetworkPolicy plugin enforces for (as kube-router decides it: on the pod network, with an
 * address, not finished), each with its addresses; pods being deleted are left out (their rules may
 * already be gone, and nothing should be judged by talking to them).
 */
export function enforceablePods(pods: PodLike[]): PodAddress[] {
  const out: PodAddress[] = [];
  for (const p of pods) {
    if (p.spec?.hostNetwork || p.metadata?.deletionTimestamp) continue;
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    const ips = new Set([p.status?.podIP, ...(p.status?.podIPs ?? []).map((x) => x.ip)].filter((x): x is string => !!x));
    for (const ip of ips) out.push({ namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', ip });
  }
  return out;
}

/** The pods (with their address) the enforced rules do not hold yet. */
export function notYetEnforced(required: PodAddress[], enforced: Map<string, Set<string>>): PodAddress[] {
  return required.filter((r) => !enforced.get(`${r.namespace}/${r.name}`)?.has(r.ip));
}

/**
 * The required pods that are still there at the same address (a pod deleted or readdressed since is
 * nobody's peer any more: waiting for it would never end); `keep` stays whatever happens.
 */
export function stillCurrent(required: PodAddress[], now: PodAddress[], keep: (p: PodAddress) => boolean): PodAddress[] {
  const live = new Set(now.map((p) => `${p.namespace}/${p.name}@${p.ip}`));
  return required.filter((r) => keep(r) || live.has(`${r.namespace}/${r.name}@${r.ip}`));
}

export function podList(pods: PodAddress[], max = 4): string {
  const names = [...new Set(pods.map((p) => `${p.namespace}/${p.name}`))];
  return names.slice(0, max).join(', ') + (names.length > max ? ` and ${names.length - max} more` : '');
}
