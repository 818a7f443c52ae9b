import { z } from 'zod';
import type { CheckPrimitive, CheckContext, CheckScope } from './types.js';
import { apiError } from '../kube/errors.js';

/** A pod (by its Deployment or its labels) or, as a destination, an address block. */
const endpoint = z.object({
  namespace: z.string().optional(),
  deployment: z.string().optional(),
  podLabels: z.record(z.string(), z.string()).optional(),
  cidr: z.string().optional(),
}).strict().refine((e) => (e.cidr ? !e.deployment && !e.podLabels : !!e.namespace && (!!e.deployment || !!e.podLabels)), {
  message: 'an endpoint is {namespace, deployment} or {namespace, podLabels}, or {cidr}',
});
type Endpoint = z.infer<typeof endpoint>;

interface Resolved { kind: 'pod'; namespace: string; labels: Record<string, string>; nsLabels: Record<string, string>; name: string; ports: Map<string, number> }
interface ResolvedCidr { kind: 'cidr'; cidr: string; name: string }

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined;

export function matches(sel: Selector, labels: Record<string, string>): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = e.key in labels;
    const val = labels[e.key];
    if (e.operator === 'In' && !(has && e.values?.includes(val))) return false;
    if (e.operator === 'NotIn' && has && e.values?.includes(val)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function ipToInt(ip: string): number { return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0); }
function cidrRange(c: string): [number, number] {
  const [ip, bits = '32'] = c.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(ip) / size) * size;
  return [start, start + size - 1];
}
function cidrWithin(inner: string, outer: string): boolean {
  if (inner.includes(':') || outer.includes(':')) return false;
  const [a, b] = cidrRange(inner); const [c, d] = cidrRange(outer);
  return a >= c && b <= d;
}
function cidrOverlaps(x: string, y: string): boolean {
  if (x.includes(':') || y.includes(':')) return false;
  const [a, b] = cidrRange(x); const [c, d] = cidrRange(y);
  return a <= d && c <= b;
}

type Peer = { podSelector?: Selector; namespaceSelector?: Selector; ipBlock?: { cidr: string; except?: string[] } };
type PortSpec = { port?: number | string; endPort?: number; protocol?: string };

function peerMatches(peer: Peer, policyNs: string, other: Resolved | ResolvedCidr): boolean {
  if (peer.ipBlock) {
    if (other.kind !== 'cidr') return false; // pod IPs in the lab are not modelled as blocks
    return cidrWithin(other.cidr, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((e) => cidrOverlaps(other.cidr, e));
  }
  if (other.kind !== 'pod') return false;
  if (peer.namespaceSelector) {
    if (!matches(peer.namespaceSelector, other.nsLabels)) return false;
  } else if (other.namespace !== policyNs) return false;
  return peer.podSelector ? matches(peer.podSelector, other.labels) : true;
}

function portMatches(ports: PortSpec[] | undefined, port: number | undefined, protocol: string, target: Resolved | ResolvedCidr): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (port === undefined) return false;
    if (typeof p.port === 'string') return target.kind === 'pod' && target.ports.get(p.port) === port;
    return p.endPort ? port >= p.port && port <= p.endPort : p.port === port;
  });
}

interface Verdict { allowed: boolean; isolated: boolean; policies: string[] }

function direction(policies: any[], subject: Resolved, dir: 'Ingress' | 'Egress', other: Resolved | ResolvedCidr, port: number | undefined, protocol: string): Verdict {
  const applying = policies.filter((np) => {
    if (np.metadata?.namespace !== subject.namespace) return false;
    if (!matches(np.spec?.podSelector ?? {}, subject.labels)) return false;
    const types: string[] = np.spec?.policyTypes ?? (np.spec?.egress ? ['Ingress', 'Egress'] : ['Ingress']);
    return types.includes(dir);
  });
  if (applying.length === 0) return { allowed: true, isolated: false, policies: [] };
  const allowing = applying.filter((np) => (np.spec?.[dir === 'Ingress' ? 'ingress' : 'egress'] ?? []).some((rule: any) => {
    const peers: Peer[] | undefined = dir === 'Ingress' ? rule.from : rule.to;
    const peerOk = !peers || peers.length === 0 || peers.some((pe) => peerMatches(pe, np.metadata.namespace, other));
    const portTarget = dir === 'Ingress' ? subject : other;
    return peerOk && portMatches(rule.ports, port, protocol, portTarget);
  }));
  return { allowed: allowing.length > 0, isolated: true, policies: (allowing.length ? allowing : applying).map((np) => np.metadata.name) };
}

async function resolve(ctx: CheckContext, e: Endpoint, nsCache: Map<string, Record<string, string>>): Promise<Resolved | ResolvedCidr> {
  if (e.cidr) return { kind: 'cidr', cidr: e.cidr, name: e.cidr };
  const ns = e.namespace!;
  if (!nsCache.has(ns)) {
    const o: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    nsCache.set(ns, { 'kubernetes.io/metadata.name': ns, ...(o?.metadata?.labels ?? {}) });
  }
  let labels = e.podLabels ?? {};
  const ports = new Map<string, number>();
  let name = `pods {${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')}} in ${ns}`;
  if (e.deployment) {
    const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: e.deployment, namespace: ns } });
    if (!d) throw new EndpointMissing(`Deployment ${ns}/${e.deployment} not found`);
    labels = d.spec?.template?.metadata?.labels ?? {};
    for (const c of d.spec?.template?.spec?.containers ?? []) for (const p of c.ports ?? []) if (p.name) ports.set(p.name, p.containerPort);
    name = `${ns}/${e.deployment}`;
  }
  return { kind: 'pod', namespace: ns, labels, nsLabels: nsCache.get(ns)!, name, ports };
}
class EndpointMissing extends Error {}

/**
 * The NetworkPolicies of the namespaces the pods are in (only those can select them). A namespace
 * whose policies the lab may not read (kube-system, from a learner's confined identity in a shared
 * cluster) is reported, and counted as having none.
 */
async function policiesOf(ctx: CheckContext, pods: (Resolved | ResolvedCidr)[]): Promise<{ policies: any[]; unreadable: string[] }> {
  const namespaces = [...new Set(pods.flatMap((p) => (p.kind === 'pod' ? [p.namespace] : [])))];
  const unreadable: string[] = [];
  const lists = await Promise.all(namespaces.map((ns) => ctx.cluster.list<any>('networking.k8s.io/v1', 'NetworkPolicy', ns).catch((e) => {
    if (apiError(e).code !== 403) throw e;
    unreadable.push(ns);
    return [];
  })));
  return { policies: lists.flat(), unreadable };
}
const unreadableNote = (u: string[]) => (u.length ? ` (the NetworkPolicies of ${u.join(', ')} are not readable here and count as none)` : '');

/** Shared-cluster scope of endpoints: a Deployment's namespace is read; for pods by labels, only its Namespace's labels. */
function endpointScope(eps: Endpoint[]): CheckScope {
  const namespaces = eps.filter((e) => e.namespace && e.deployment).map((e) => e.namespace!);
  const labelsOf = eps.filter((e) => e.namespace && !e.deployment).map((e) => e.namespace!);
  return { namespaces, labelsOf };
}

const npWatch = (nss: (string | undefined)[]) => [
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'v1', kind: 'Namespace' },
  ...[...new Set(nss.filter(Boolean))].map((ns) => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns })),
];

const connSchema = z.object({
  from: endpoint,
  to: endpoint,
  port: z.number().int().optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
  expect: z.enum(['allow', 'deny']),
}).strict();
type Conn = z.infer<typeof connSchema>;

/**
 * NetworkPolicy analysis (the API-level half of network lessons): would the policies in the
 * cluster let `from` open a connection to `to` on a port? Egress of the source and ingress of the
 * destination must both allow it, as a policy-enforcing CNI decides.
 */
export const networkConnection: CheckPrimitive<Conn> = {
  type: 'networkConnection',
  schema: connSchema,
  watches: (p) => npWatch([p.from.namespace, p.to.namespace]),
  scope: (p) => endpointScope([p.from, p.to]),
  async run(ctx, p) {
    const nsCache = new Map<string, Record<string, string>>();
    let src, dst;
    try {
      src = await resolve(ctx, p.from, nsCache);
      dst = await resolve(ctx, p.to, nsCache);
    } catch (e) {
      if (e instanceof EndpointMissing) return { passed: false, message: e.message };
      throw e;
    }
    const { policies, unreadable } = await policiesOf(ctx, [src, dst]);
    const what = `${src.name} → ${dst.name}${p.port ? `:${p.port}` : ''}${p.protocol !== 'TCP' ? `/${p.protocol}` : ''}`;
    const eg = src.kind === 'pod' ? direction(policies, src, 'Egress', dst, p.port, p.protocol) : { allowed: true, isolated: false, policies: [] };
    const ing = dst.kind === 'pod' ? direction(policies, dst, 'Ingress', src, p.port, p.protocol) : { allowed: true, isolated: false, policies: [] };
    const allowed = eg.allowed && ing.allowed;
    if (allowed) {
      const via = [...eg.policies, ...ing.policies];
      const how = !eg.isolated && !ing.isolated ? 'nothing isolates either side' : `allowed by ${via.join(', ')}`;
      return { passed: p.expect === 'allow', message: `${what} is open (${how})${unreadableNote(unreadable)}` };
    }
    const blocker = !eg.allowed ? `egress of ${src.name} (policies ${eg.policies.join(', ')} allow no such rule)` : `ingress of ${dst.name} (policies ${ing.policies.join(', ')} allow no such rule)`;
    return { passed: p.expect === 'deny', message: `${what} is blocked by ${blocker}${unreadableNote(unreadable)}` };
  },
};

const isoSchema = z.object({
  namespace: z.string(),
  deployment: z.string().optional(),
  podLabels: z.record(z.string(), z.string()).optional(),
  ingress: z.boolean().optional(),
  egress: z.boolean().optional(),
}).strict();
type Iso = z.infer<typeof isoSchema>;

/** Is a pod isolated for ingress and/or egress (selected by a policy of that type)? */
export const networkIsolation: CheckPrimitive<Iso> = {
  type: 'networkIsolation',
  schema: isoSchema,
  watches: (p) => npWatch([p.namespace]),
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p) {
    let pod;
    try {
      pod = (await resolve(ctx, { namespace: p.namespace, deployment: p.deployment, podLabels: p.deployment ? undefined : p.podLabels ?? {} }, new Map())) as Resolved;
    } catch (e) {
      if (e instanceof EndpointMissing) return { passed: false, message: e.message };
      throw e;
    }
    const policies: any[] = await ctx.cluster.list('networking.k8s.io/v1', 'NetworkPolicy', p.namespace);
    const probe: ResolvedCidr = { kind: 'cidr', cidr: '203.0.113.1/32', name: '' };
    const ing = direction(policies, pod, 'Ingress', probe, undefined, 'TCP').isolated;
    const eg = direction(policies, pod, 'Egress', probe, undefined, 'TCP').isolated;
    const problems: string[] = [];
    if (p.ingress !== undefined && ing !== p.ingress) problems.push(ing ? 'is isolated for ingress' : 'is not isolated for ingress (no policy selects it for Ingress)');
    if (p.egress !== undefined && eg !== p.egress) problems.push(eg ? 'is isolated for egress' : 'is not isolated for egress (no policy selects it for Egress)');
    if (problems.length) return { passed: false, message: `${pod.name} ${problems.join(' and ')}` };
    return { passed: true, message: `${pod.name} is ${[ing ? 'isolated for ingress' : 'open for ingress', eg ? 'isolated for egress' : 'open for egress'].join(', ')}` };
  },
};
