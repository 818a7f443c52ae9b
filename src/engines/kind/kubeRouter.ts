/**
 * What kube-router (the lab node image's NetworkPolicy enforcement) has put in force, read from the
 * node's filter table (`iptables-save -t filter`). kube-router rebuilds every rule in one full sync
 * from its view of the pods and policies, and writes them with one iptables-restore after the ipsets
 * they use; every pod it enforces for (any pod of the node on the pod network that has an address and
 * has not finished) gets a jump for traffic to it and one for traffic from it:
 *
 *   -A KUBE-ROUTER-FORWARD -d 10.244.2.57/32 -m comment --comment "rule to jump traffic destined to POD name:N namespace: NS to chain …"
 *   -A KUBE-ROUTER-FORWARD -s 10.244.2.57/32 -m comment --comment "rule to jump traffic from POD name:N namespace: NS to chain …"
 *
 * A pod named with its current address is in the rules of a sync that saw it — its own rules and its
 * place in every other pod's peer sets, with the policies as they were then.
 */

/** `namespace/name` → the addresses the rules hold the pod at (both directions). `undefined`: not kube-router's rules. */
export function kubeRouterPods(iptablesSave: string): Map<string, Set<string>> | undefined {
  if (!iptablesSave.includes(':KUBE-ROUTER-FORWARD') && !iptablesSave.includes('-A KUBE-ROUTER-FORWARD')) return undefined;
  const to = new Map<string, Set<string>>();
  const from = new Map<string, Set<string>>();
  const re =
    /^-A KUBE-ROUTER-FORWARD -([ds]) (\S+?)(?:\/32|\/128)? .*--comment "rule to jump traffic (destined to|from) POD name:(\S+) namespace: (\S+) to chain/;
  for (const line of iptablesSave.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const [, flag, ip, dir, name, ns] = m;
    if ((flag === 'd') !== (dir === 'destined to')) continue;
    const into = flag === 'd' ? to : from;
    const key = `${ns}/${name}`;
    if (!into.has(key)) into.set(key, new Set());
    into.get(key)!.add(ip);
  }
  const out = new Map<string, Set<string>>();
  for (const [key, ips] of to) {
    const both = [...ips].filter((ip) => from.get(key)?.has(ip));
    if (both.length) out.set(key, new Set(both));
  }
  return out;
}
