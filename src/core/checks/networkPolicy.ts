import { z } from 'zod';
import type { CheckPrimitive, CheckContext, CheckScope } from './types.js';
import { apiError } from '../kube/errors.js';
import {
  IpSet,
  PortSet,
  addressExcess,
  addressPorts,
  addressSide,
  applying,
  matches,
  podToPod,
  selectorText,
  type NetworkPolicy,
  type PodRef,
  type Proto,
  type Selector,
} from './netpolModel.js';

export { matches } from './netpolModel.js';

type Labels = Record<string, string>;
const NAME_LABEL = 'kubernetes.io/metadata.name';
/** The namespace a new namespace would get in the hypothetical peers (no real namespace has it). */
const NEW_NS = 'kube-seclab-new-namespace';
/** Addresses messages prefer to name, in this order. */
const TELLING = ['169.254.169.254/32', '8.8.8.8/32', '203.0.113.10/32', '198.51.100.7/32', '1.1.1.1/32'];

// ------------------------------------------------------------------------------------ the cluster

/** What the policies are judged against: every policy, namespace and pod (as labels and named ports) the lab may read. */
interface World {
  policies: NetworkPolicy[];
  namespaces: Map<string, Labels>;
  /** Pods and pod templates (Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs), not on the host network. */
  pods: PodRef[];
  /** Namespaces whose objects could not be read (a learner's confined identity): counted as empty. */
  unreadable: string[];
  /** Only the check's own namespaces were read (a shared cluster). */
  confined: boolean;
}

const WORKLOADS: [string, string, (o: any) => any][] = [
  ['v1', 'Pod', (o) => ({ metadata: o.metadata, spec: o.spec })],
  ['apps/v1', 'Deployment', (o) => o.spec?.template],
  ['apps/v1', 'StatefulSet', (o) => o.spec?.template],
  ['apps/v1', 'DaemonSet', (o) => o.spec?.template],
  ['apps/v1', 'ReplicaSet', (o) => o.spec?.template],
  ['batch/v1', 'Job', (o) => o.spec?.template],
  ['batch/v1', 'CronJob', (o) => o.spec?.jobTemplate?.spec?.template],
];

function namedPorts(spec: any): Map<string, { port: number; protocol: Proto }[]> {
  const m = new Map<string, { port: number; protocol: Proto }[]>();
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.name) continue;
      m.set(p.name, [...(m.get(p.name) ?? []), { port: p.containerPort, protocol: (p.protocol ?? 'TCP') as Proto }]);
    }
  }
  return m;
}

const worlds = new WeakMap<object, Map<string, Promise<World>>>();

/**
 * The world, read once for all the checks of one run: they share the run's context object (a new
 * one per run), so a later run never sees an earlier run's reading.
 */
function world(ctx: CheckContext, scopeNs: string[]): Promise<World> {
  // Everything the lab may read is read, whatever the check: one read serves them all (confined: only the scope's).
  const key = ctx.cluster.rename.active ? [...scopeNs].sort().join(',') : '*';
  const mine = worlds.get(ctx) ?? new Map<string, Promise<World>>();
  worlds.set(ctx, mine);
  const hit = mine.get(key);
  if (hit) return hit;
  const w = readWorld(ctx, scopeNs);
  mine.set(key, w);
  w.catch(() => mine.delete(key));
  return w;
}

async function readWorld(ctx: CheckContext, scopeNs: string[]): Promise<World> {
  const confined = ctx.cluster.rename.active;
  const unreadable = new Set<string>();
  const list = async (apiVersion: string, kind: string, ns?: string): Promise<any[]> => {
    try {
      return await ctx.cluster.list<any>(apiVersion, kind, ns);
    } catch (e) {
      const info = apiError(e);
      if (info.code === 403 || info.code === 404) {
        if (ns) unreadable.add(ns);
        return [];
      }
      throw e;
    }
  };
  const namespaces = new Map<string, Labels>();
  if (confined) {
    for (const ns of scopeNs) {
      const o: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
      if (o) namespaces.set(ns, { [NAME_LABEL]: ns, ...(o.metadata?.labels ?? {}) });
    }
  } else {
    for (const o of await list('v1', 'Namespace')) namespaces.set(o.metadata.name, { [NAME_LABEL]: o.metadata.name, ...(o.metadata?.labels ?? {}) });
  }
  const where = confined ? scopeNs.filter((ns) => namespaces.has(ns)) : [undefined];
  const policies: NetworkPolicy[] = (await Promise.all(where.map((ns) => list('networking.k8s.io/v1', 'NetworkPolicy', ns)))).flat();
  const pods: PodRef[] = [];
  const seen = new Set<string>();
  await Promise.all(
    WORKLOADS.map(async ([apiVersion, kind, templateOf]) => {
      const items = (await Promise.all(where.map((ns) => list(apiVersion, kind, ns)))).flat();
      for (const o of items) {
        if (kind === 'Pod' && o.status?.phase && ['Succeeded', 'Failed'].includes(o.status.phase)) continue;
        const t = templateOf(o);
        if (!t || t.spec?.hostNetwork) continue;
        const ns = o.metadata.namespace;
        const labels: Labels = t.metadata?.labels ?? {};
        const ports = namedPorts(t.spec);
        const key = JSON.stringify([ns, labels, [...ports]]);
        if (seen.has(key)) continue;
        seen.add(key);
        pods.push({
          namespace: ns,
          nsLabels: namespaces.get(ns) ?? { [NAME_LABEL]: ns },
          labels,
          namedPorts: ports,
          name: `${kind === 'Pod' ? 'pod' : kind} ${ns}/${o.metadata.name}`,
        });
      }
    }),
  );
  return { policies, namespaces, pods, unreadable: [...unreadable], confined };
}

const unreadableNote = (w: World) =>
  w.unreadable.length ? ` (the NetworkPolicies of ${w.unreadable.join(', ')} are not readable here and count as none)` : '';

// ------------------------------------------------------------------------------------ endpoints

/** A pod (by its Deployment or its labels) or, as a destination or source, an address block. */
const endpoint = z
  .object({
    namespace: z.string().optional(),
    deployment: z.string().optional(),
    podLabels: z.record(z.string(), z.string()).optional(),
    cidr: z.string().optional(),
  })
  .strict()
  .refine((e) => (e.cidr ? !e.deployment && !e.podLabels && !e.namespace && !!IpSet.tryCidr(e.cidr) : !!e.namespace && (!!e.deployment || !!e.podLabels)), {
    message: 'an endpoint is {namespace, deployment} or {namespace, podLabels}, or {cidr} (a valid CIDR)',
  });
type Endpoint = z.infer<typeof endpoint>;

class EndpointMissing extends Error {}

/** A workload's pods as the policies see them: its template's labels and named ports, and its selector. */
async function workloadPod(
  ctx: CheckContext,
  w: World,
  ns: string,
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet',
  name: string,
): Promise<{ pod: PodRef; selector: Selector }> {
  const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind, metadata: { name, namespace: ns } });
  if (!d) throw new EndpointMissing(`${kind} ${ns}/${name} not found — deleting it is not a fix`);
  const t = d.spec?.template ?? {};
  return {
    pod: { namespace: ns, nsLabels: nsLabelsOf(w, ns), labels: t.metadata?.labels ?? {}, namedPorts: namedPorts(t.spec), name: `${ns}/${name}` },
    selector: d.spec?.selector ?? { matchLabels: t.metadata?.labels ?? {} },
  };
}

const nsLabelsOf = (w: World, ns: string): Labels => w.namespaces.get(ns) ?? { [NAME_LABEL]: ns };
const labelText = (l: Labels) =>
  Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** Pods by labels: a real pod of the namespace with them (its named ports), else a pod that would have them. */
function labelledPod(w: World, ns: string, labels: Labels): PodRef {
  const real = w.pods.find((p) => p.namespace === ns && matches({ matchLabels: labels }, p.labels));
  return {
    namespace: ns,
    nsLabels: nsLabelsOf(w, ns),
    labels: real ? real.labels : labels,
    namedPorts: real ? real.namedPorts : new Map(),
    name: `pods {${labelText(labels)}} in ${ns}`,
  };
}

async function resolve(ctx: CheckContext, w: World, e: Endpoint): Promise<PodRef | { cidr: IpSet; name: string }> {
  if (e.cidr) return { cidr: IpSet.cidr(e.cidr), name: e.cidr };
  if (e.deployment) return (await workloadPod(ctx, w, e.namespace!, 'Deployment', e.deployment)).pod;
  return labelledPod(w, e.namespace!, e.podLabels ?? {});
}

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

const scopeNamespaces = (s: CheckScope) => [...new Set([...s.namespaces, ...(s.labelsOf ?? [])])];

async function guarded(fn: () => Promise<{ passed: boolean; message: string }>) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof EndpointMissing) return { passed: false, message: e.message };
    throw e;
  }
}

// ------------------------------------------------------------------------------ networkConnection

const connSchema = z
  .object({
    from: endpoint,
    to: endpoint,
    /** Absent: any port of the protocol. */
    port: z.number().int().min(1).max(65535).optional(),
    protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
    expect: z.enum(['allow', 'deny']),
  })
  .strict()
  .refine((p) => !(p.from.cidr && p.to.cidr), { message: 'one end of a connection must be a pod' });
type Conn = z.infer<typeof connSchema>;

/**
 * NetworkPolicy analysis of one connection: would the policies in the cluster let `from` open a
 * connection to `to` on a port? The sender's egress and the receiver's ingress must both allow it,
 * as a policy-enforcing CNI decides. For "this path must work"; "nothing else gets through" is
 * `networkReach`, which judges every peer, port and address.
 */
export const networkConnection: CheckPrimitive<Conn> = {
  type: 'networkConnection',
  schema: connSchema,
  watches: (p) => npWatch([p.from.namespace, p.to.namespace]),
  scope: (p) => endpointScope([p.from, p.to]),
  run: (ctx, p) =>
    guarded(async () => {
      const w = await world(ctx, scopeNamespaces(endpointScope([p.from, p.to])));
      const src = await resolve(ctx, w, p.from);
      const dst = await resolve(ctx, w, p.to);
      const want = p.port ? PortSet.of(p.protocol, p.port) : PortSet.allOf(p.protocol);
      const what = `${src.name} → ${dst.name}${p.port ? `:${p.port}` : ''}${p.protocol !== 'TCP' || !p.port ? `/${p.protocol}` : ''}`;
      let open: boolean;
      let how: string;
      if ('cidr' in src || 'cidr' in dst) {
        const pod = ('cidr' in src ? dst : src) as PodRef;
        const ips = ('cidr' in src ? src : dst) as { cidr: IpSet };
        const dir = 'cidr' in src ? 'Ingress' : 'Egress';
        const side = addressSide(w.policies, pod, dir);
        const r = addressPorts(side, ips.cidr);
        const got = p.port ? r.ports.has(p.protocol, p.port) : !r.ports.intersect(want).isEmpty();
        open = got;
        how = !side.isolated
          ? `nothing isolates ${pod.name} for ${dir.toLowerCase()}`
          : got
            ? `allowed by ${r.by.join(', ')}`
            : `blocked: ${dir.toLowerCase()} of ${pod.name} (policies ${side.applying.join(', ')} allow no such rule)`;
      } else {
        const c = podToPod(w.policies, src, dst);
        open = p.port ? c.ports.has(p.protocol, p.port) : !c.ports.intersect(want).isEmpty();
        if (open)
          how =
            !c.egress.isolated && !c.ingress.isolated
              ? 'nothing isolates either side'
              : `allowed by ${[...c.egress.allowedBy, ...c.ingress.allowedBy].join(', ')}`;
        else {
          const egOk = p.port ? c.egress.ports.has(p.protocol, p.port) : !c.egress.ports.intersect(want).isEmpty();
          how = !egOk
            ? `blocked: egress of ${src.name} (policies ${c.egress.applying.join(', ')} allow no such rule)`
            : `blocked: ingress of ${dst.name} (policies ${c.ingress.applying.join(', ')} allow no such rule)`;
        }
      }
      return { passed: open === (p.expect === 'allow'), message: `${what} is ${open ? 'open' : 'closed'} (${how})${unreadableNote(w)}` };
    }),
};

// ------------------------------------------------------------------------------ networkIsolation

const isoSchema = z
  .object({
    namespace: z.string(),
    deployment: z.string().optional(),
    podLabels: z.record(z.string(), z.string()).optional(),
    ingress: z.boolean().optional(),
    egress: z.boolean().optional(),
  })
  .strict();
type Iso = z.infer<typeof isoSchema>;

/** Is a pod isolated for ingress and/or egress (selected by a policy of that type)? */
export const networkIsolation: CheckPrimitive<Iso> = {
  type: 'networkIsolation',
  schema: isoSchema,
  watches: (p) => npWatch([p.namespace]),
  scope: (p) => ({ namespaces: [p.namespace] }),
  run: (ctx, p) =>
    guarded(async () => {
      const w = await world(ctx, [p.namespace]);
      const pod = p.deployment ? (await workloadPod(ctx, w, p.namespace, 'Deployment', p.deployment)).pod : labelledPod(w, p.namespace, p.podLabels ?? {});
      const ing = applying(w.policies, pod, 'Ingress').length > 0;
      const eg = applying(w.policies, pod, 'Egress').length > 0;
      const problems: string[] = [];
      if (p.ingress !== undefined && ing !== p.ingress)
        problems.push(ing ? 'is isolated for ingress' : 'is not isolated for ingress (no policy selects it for Ingress)');
      if (p.egress !== undefined && eg !== p.egress)
        problems.push(eg ? 'is isolated for egress' : 'is not isolated for egress (no policy selects it for Egress: list Egress in policyTypes)');
      if (problems.length) return { passed: false, message: `${pod.name} ${problems.join(' and ')}` };
      return {
        passed: true,
        message: `${pod.name} is ${[ing ? 'isolated for ingress' : 'open for ingress', eg ? 'isolated for egress' : 'open for egress'].join(', ')}`,
      };
    }),
};

// ----------------------------------------------------------------------------------- networkReach

const tierSchema = z
  .object({
    deployment: z.string().optional(),
    statefulSet: z.string().optional(),
    daemonSet: z.string().optional(),
    podLabels: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .refine((t) => [t.deployment, t.statefulSet, t.daemonSet, t.podLabels].filter(Boolean).length === 1, {
    message: 'a tier is one of {deployment}, {statefulSet}, {daemonSet}, {podLabels}',
  });

/**
 * One end of an allowed path: a tier's name; `others` (any other pod of the namespace, a new one
 * included); `namespace` (every pod of the namespace); `pods` (any pod of any namespace);
 * `anywhere` (any pod and any address); pods by namespace and labels; or addresses.
 */
const peerSpec = z.union([
  z.string(),
  z.object({ namespace: z.string(), podLabels: z.record(z.string(), z.string()).optional() }).strict(),
  z.object({ cidr: z.union([z.string(), z.array(z.string()).min(1)]) }).strict(),
]);
type PeerSpec = z.infer<typeof peerSpec>;

const pathSchema = z
  .object({
    from: peerSpec,
    to: peerSpec,
    /** `8080`, `53/UDP`, `1000-2000/TCP`, `any` (default: any). */
    ports: z.array(z.union([z.string(), z.number().int()])).default(['any']),
  })
  .strict();

const reachSchema = z
  .object({
    /** The namespace whose pods are judged; tiers are its workloads. */
    namespace: z.string(),
    tiers: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), tierSchema).default({}),
    /** Every path that may exist. Anything else that is open is a finding. */
    allow: z.array(pathSchema),
    /** Whose traffic is judged: tier names, or `others` (every other pod of the namespace, a new one included). */
    subjects: z.array(z.string()).min(1),
    directions: z
      .array(z.enum(['ingress', 'egress']))
      .min(1)
      .default(['ingress', 'egress']),
  })
  .strict()
  .superRefine((p, ctx) => {
    const names = new Set([...Object.keys(p.tiers), 'others', 'namespace', 'pods', 'anywhere']);
    const bad = (where: (string | number)[], msg: string) => ctx.addIssue({ code: 'custom', path: where, message: msg });
    p.subjects.forEach((s, i) => {
      if (!(s in p.tiers) && s !== 'others') bad(['subjects', i], `"${s}" is not a tier (${Object.keys(p.tiers).join(', ')}) or "others"`);
    });
    p.allow.forEach((a, i) => {
      for (const end of ['from', 'to'] as const) {
        const v = a[end];
        if (typeof v === 'string' && !names.has(v)) bad(['allow', i, end], `"${v}" is not a tier or one of others, namespace, pods, anywhere`);
        if (typeof v === 'object' && 'cidr' in v) for (const c of [v.cidr].flat()) if (!IpSet.tryCidr(c)) bad(['allow', i, end], `"${c}" is not a CIDR`);
      }
      try {
        PortSet.parse(a.ports.map(String));
      } catch (e) {
        bad(['allow', i, 'ports'], (e as Error).message);
      }
    });
  });
type Reach = z.infer<typeof reachSchema>;

/** A pod the judgement considers, and whether it is hypothetical (what someone could create). */
interface Peer extends PodRef {
  made?: boolean;
}

interface Finding {
  peer: string;
  ports: PortSet;
  policies: string[];
  rank: number;
}

/**
 * "Nothing else gets through": for each subject (a tier, or every other pod of the namespace), every
 * connection that is open in a judged direction must be on an allowed path. Judged against every pod
 * and pod template the lab can read (every namespace), pods someone could create — in the namespace,
 * in a new namespace without labels and in one labelled like each existing namespace, with every
 * label set in use — and every address and port (ports and addresses as whole sets, not samples).
 */
export const networkReach: CheckPrimitive<Reach> = {
  type: 'networkReach',
  schema: reachSchema,
  watches: (p) => [...npWatch([p.namespace]), { apiVersion: 'v1', kind: 'Pod' }, { apiVersion: 'apps/v1', kind: 'Deployment' }],
  scope: (p) => {
    const others = p.allow.flatMap((a) => [a.from, a.to]).flatMap((e) => (typeof e === 'object' && 'namespace' in e ? [e.namespace] : []));
    return { namespaces: [p.namespace], labelsOf: [...new Set(others.filter((n) => n !== p.namespace))] };
  },
  run: (ctx, p) =>
    guarded(async () => {
      const scope = networkReach.scope!(p) as CheckScope;
      const w = await world(ctx, scopeNamespaces(scope));
      // The tiers, as their workloads' pod templates and selectors.
      const tiers = new Map<string, { pod: PodRef; selector: Selector }>();
      for (const [name, t] of Object.entries(p.tiers)) {
        if (t.podLabels) tiers.set(name, { pod: { ...labelledPod(w, p.namespace, t.podLabels), name }, selector: { matchLabels: t.podLabels } });
        else {
          const kind = t.deployment ? 'Deployment' : t.statefulSet ? 'StatefulSet' : 'DaemonSet';
          const r = await workloadPod(ctx, w, p.namespace, kind, (t.deployment ?? t.statefulSet ?? t.daemonSet)!);
          tiers.set(name, { pod: { ...r.pod, name }, selector: r.selector });
        }
      }
      const tierOf = (x: PodRef) => (x.namespace === p.namespace ? [...tiers].find(([, t]) => matches(t.selector, x.labels))?.[0] : undefined);
      const peerName = (x: Peer) => tierOf(x) ?? x.name;

      // Every pod the judgement considers: real ones, and the ones someone could create.
      const real: Peer[] = w.pods;
      const labelSets = new Map<string, Labels>([['{}', {}]]);
      for (const x of [...real, ...[...tiers.values()].map((t) => t.pod)]) labelSets.set(labelText(x.labels), x.labels);
      const pathPods = p.allow.flatMap((a) => [a.from, a.to]).flatMap((e) => (typeof e === 'object' && 'namespace' in e ? [e] : []));
      for (const e of pathPods) if (e.podLabels) labelSets.set(labelText(e.podLabels), e.podLabels);
      labelSets.set('run=shell', { run: 'shell' });
      const made: Peer[] = [
        ...[...tiers].map(([name, t]) => ({ ...t.pod, name, made: true })),
        ...pathPods.map((e) => ({ ...labelledPod(w, e.namespace, e.podLabels ?? {}), made: true })),
      ];
      // New pods, with every label set in use, in the namespace (a tier's labels make that tier; the rest
      // are others) and in every other namespace there is (another team's, a system one): their owners
      // can start pods, and name their ports anything.
      // The named ports of a new pod: someone else's pod can name any port anything — but one that is a
      // tier, or one of the allowed paths' pods, stands for that tier or those pods: it gets their ports.
      const portsFor = (ns: string, labels: Labels): PodRef['namedPorts'] => {
        const tier = ns === p.namespace ? [...tiers.values()].find((t) => matches(t.selector, labels)) : undefined;
        if (tier) return tier.pod.namedPorts;
        const ends = pathPods.filter((e) => e.namespace === ns && matches({ matchLabels: e.podLabels ?? {} }, labels));
        if (!ends.length) return 'any';
        const m = new Map<string, { port: number; protocol: Proto }[]>();
        for (const r of real) {
          if (r.namespace !== ns || !ends.some((e) => matches({ matchLabels: e.podLabels ?? {} }, r.labels)) || r.namedPorts === 'any') continue;
          for (const [k, v] of r.namedPorts) m.set(k, [...(m.get(k) ?? []), ...v]);
        }
        return m;
      };
      for (const ns of new Set([p.namespace, ...w.namespaces.keys(), ...pathPods.map((e) => e.namespace)])) {
        for (const labels of labelSets.values()) {
          made.push({
            namespace: ns,
            nsLabels: nsLabelsOf(w, ns),
            labels,
            namedPorts: portsFor(ns, labels),
            made: true,
            name: Object.keys(labels).length ? `a new pod labelled ${labelText(labels)} in ${ns}` : `a new pod without labels in ${ns}`,
          });
        }
      }
      // A new namespace: without labels, and labelled like each namespace there is (its name label is its own).
      const nsVariants = new Map<string, [string, Labels]>([['{}', ['a new namespace', {}]]]);
      for (const [name, l] of w.namespaces) {
        const rest = Object.fromEntries(Object.entries(l).filter(([k]) => k !== NAME_LABEL));
        if (Object.keys(rest).length) nsVariants.set(labelText(rest), [`a new namespace labelled like ${name}`, rest]);
      }
      for (const [, [nsDesc, nsl]] of nsVariants) {
        for (const [, labels] of labelSets) {
          made.push({
            namespace: NEW_NS,
            nsLabels: { ...nsl, [NAME_LABEL]: NEW_NS },
            labels,
            namedPorts: 'any',
            made: true,
            name: `a pod ${Object.keys(labels).length ? `labelled ${labelText(labels)}` : 'without labels'} in ${nsDesc}`,
          });
        }
      }
      const peers: Peer[] = [...real, ...made];

      // Does a path end match a pod / is it about addresses?
      const podMatches = (e: PeerSpec, x: PodRef): boolean => {
        if (typeof e === 'string') {
          if (e === 'anywhere' || e === 'pods') return true;
          if (e === 'namespace') return x.namespace === p.namespace;
          if (e === 'others') return x.namespace === p.namespace && !tierOf(x);
          return tierOf(x) === e;
        }
        if ('cidr' in e) return false;
        return x.namespace === e.namespace && matches({ matchLabels: e.podLabels ?? {} }, x.labels);
      };
      const addressesOf = (e: PeerSpec): IpSet | undefined => {
        if (e === 'anywhere') return IpSet.all();
        if (typeof e === 'object' && 'cidr' in e) return [e.cidr].flat().reduce((s, c) => s.union(IpSet.cidr(c)), IpSet.none());
        return undefined;
      };
      const portsOf = (a: { ports: (string | number)[] }) => PortSet.parse(a.ports.map(String));

      // The subjects' pods: a tier's template; for `others`, the namespace's other pods and new ones.
      const subjects: [string, Peer[]][] = p.subjects.map((s) => [
        s,
        s === 'others' ? peers.filter((x) => x.namespace === p.namespace && !tierOf(x)) : [{ ...tiers.get(s)!.pod, name: s, made: true }],
      ]);

      const findings = new Map<string, Finding[]>();
      const add = (key: string, f: Finding) => {
        const l = findings.get(key) ?? [];
        l.push(f);
        findings.set(key, l);
      };
      for (const [sname, spods] of subjects) {
        for (const s of spods) {
          const sLabel = sname === 'others' ? peerName(s) : sname;
          for (const dir of p.directions) {
            const key = `${dir === 'ingress' ? 'into' : 'out of'} ${sLabel}`;
            // Pods.
            for (const x of peers) {
              if (x === s) continue;
              const [from, to] = dir === 'ingress' ? [x, s] : [s, x];
              const c = podToPod(w.policies, from, to);
              if (c.ports.isEmpty()) continue;
              const permitted = p.allow
                .filter((a) => podMatches(a.from, from) && podMatches(a.to, to))
                .reduce((acc, a) => acc.union(portsOf(a)), PortSet.none());
              const extra = c.ports.minus(permitted);
              if (extra.isEmpty()) continue;
              const rank = x.namespace === NEW_NS ? 0 : x.namespace === p.namespace ? 1 : 2;
              add(key, { peer: peerName(x), ports: extra, policies: [...c.egress.allowedBy, ...c.ingress.allowedBy], rank });
            }
            // Addresses.
            const side = addressSide(w.policies, s, dir === 'ingress' ? 'Ingress' : 'Egress');
            const permitted = p.allow.flatMap((a) => {
              const [self, other] = dir === 'ingress' ? [a.to, a.from] : [a.from, a.to];
              const ips = addressesOf(other);
              return ips && podMatches(self, s) ? [{ ips, ports: portsOf(a) }] : [];
            });
            for (const ex of addressExcess(side.allows, permitted)) {
              const ex1 = ex.ips.example(TELLING);
              const what = ex.ips.covers(IpSet.all())
                ? 'any address'
                : ex1 === '169.254.169.254'
                  ? 'the cloud metadata address 169.254.169.254'
                  : `${ex1}${ex.ips.toString() !== `${ex1}/32` ? ` (of ${ex.ips})` : ''}`;
              add(key, { peer: what, ports: ex.ports, policies: ex.policies.filter(Boolean), rank: -1 });
            }
          }
        }
      }

      const allowed = describeAllowed(p);
      if (!findings.size) {
        const nss = new Set(peers.filter((x) => !x.made).map((x) => x.namespace)).size;
        return {
          passed: true,
          message: `nothing ${p.directions.length === 2 ? 'in or out of' : p.directions[0] === 'ingress' ? 'into' : 'out of'} ${p.subjects.join(', ')} is open beyond the ${allowed} — judged against ${real.length} pod templates in ${nss} namespace${nss === 1 ? '' : 's'}, ${made.length} pods one could create (${nsVariants.size} kinds of new namespace), every address and every port${unreadableNote(w)}`,
        };
      }
      const parts: string[] = [];
      for (const [key, fs] of findings) {
        fs.sort((a, b) => a.rank - b.rank || a.peer.length - b.peer.length);
        // One line per kind of opening: the same ports through the same policies, with the first peers it lets through.
        const groups = new Map<string, Finding[]>();
        for (const f of fs) {
          const g = `${f.ports}|${f.policies.join(',')}`;
          groups.set(g, [...(groups.get(g) ?? []), f]);
        }
        const lines = [...groups.values()].slice(0, 3).map((g) => {
          const names = [...new Set(g.map((f) => f.peer))];
          const who = names.slice(0, 2).join('; ') + (names.length > 2 ? `; and ${names.length - 2} more` : '');
          const by = g[0].policies.length ? ` (allowed by ${[...new Set(g[0].policies)].join(', ')})` : ' (nothing isolates it)';
          return `${key.startsWith('into') ? 'from' : 'to'} ${who} on ${g[0].ports}${by}`;
        });
        parts.push(`${key}: ${lines.join(' | ')}${groups.size > 3 ? ` | and ${groups.size - 3} more` : ''}`);
      }
      return {
        passed: false,
        message: `more is open than allowed — ${parts.slice(0, 4).join(' ‖ ')}${parts.length > 4 ? ` ‖ and ${parts.length - 4} more` : ''} — ${allowed}${unreadableNote(w)}`,
      };
    }),
};

function endText(e: PeerSpec): string {
  if (typeof e === 'string') return e === 'anywhere' ? 'anywhere' : e === 'pods' ? 'any pod' : e === 'namespace' ? 'any pod of the namespace' : e;
  if ('cidr' in e) return [e.cidr].flat().join(', ');
  return e.podLabels ? `${e.namespace} pods {${labelText(e.podLabels)}}` : `any pod of ${e.namespace}`;
}

/** The allowed paths touching the subjects, in a few words. */
function describeAllowed(p: Reach): string {
  const touches = (e: PeerSpec) => typeof e === 'string' && (p.subjects.includes(e) || ['namespace', 'anywhere', 'pods'].includes(e));
  const rel = p.allow.filter((a) => (p.directions.includes('ingress') && touches(a.to)) || (p.directions.includes('egress') && touches(a.from)));
  if (!rel.length) return 'allowed paths (none)';
  return `allowed paths (${rel.map((a) => `${endText(a.from)} → ${endText(a.to)} ${PortSet.parse(a.ports.map(String))}`).join(', ')})`;
}

export { selectorText };
