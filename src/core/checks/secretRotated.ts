import { z } from 'zod';
import type { CheckPrimitive, CheckContext } from './types.js';

const ref = z
  .object({
    workload: z.object({ kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).default('Deployment'), name: z.string() }).strict(),
    /** Its container (default: the first). */
    container: z.string().optional(),
    /** The environment variable the credential is read from. */
    env: z.string(),
  })
  .strict();
type Ref = z.infer<typeof ref>;

const schema = z
  .object({
    namespace: z.string(),
    /** The values that leaked: nothing may accept or use them any more. */
    leaked: z.array(z.string()).min(1),
    /** What accepts the credential (the provider): the one value it accepts. */
    accepter: ref,
    /** What uses it: each must hold the value the accepter accepts. */
    users: z.array(ref).default([]),
    /** A new value has at least this many characters. */
    minLength: z.number().int().positive().default(16),
  })
  .strict();
type P = z.infer<typeof schema>;

interface Resolved {
  value?: string;
  from?: { secret: string; key: string };
  problem?: string;
  stale?: string;
  pods: any[];
  what: string;
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** When a Secret was last written (its newest managedFields entry, else its creation): what a pod started before it cannot have in its environment. */
export function lastWrite(secret: any): number {
  const times = [secret.metadata?.creationTimestamp, ...(secret.metadata?.managedFields ?? []).map((m: any) => m.time)]
    .filter(Boolean)
    .map((t: string) => Date.parse(t));
  return Math.max(...times, 0);
}

/** The value a workload's container reads into an environment variable, and where it comes from. */
async function resolveRef(ctx: CheckContext, ns: string, r: Ref): Promise<Resolved> {
  const what = `${r.workload.kind} ${ns}/${r.workload.name}`;
  const w: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: r.workload.kind, metadata: { name: r.workload.name, namespace: ns } });
  if (!w) return { problem: `${what} is gone — deleting it is not a fix`, pods: [], what };
  const cs: any[] = w.spec?.template?.spec?.containers ?? [];
  const c = r.container ? cs.find((x) => x.name === r.container) : cs[0];
  if (!c) return { problem: `${what} has no container ${r.container ?? ''}`, pods: [], what };
  const sel = Object.entries(w.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = (sel ? await ctx.cluster.list<any>('v1', 'Pod', ns, sel) : []).filter(
    (x) => !x.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(x.status?.phase),
  );
  let source: { secret: string; key: string } | undefined;
  let literal: string | undefined;
  let fromConfigMap: string | undefined;
  // envFrom first, env after: the later definition wins, as the kubelet builds the environment.
  for (const f of c.envFrom ?? []) {
    const key = r.env.startsWith(f.prefix ?? '') ? r.env.slice((f.prefix ?? '').length) : undefined;
    if (key === undefined) continue;
    if (f.secretRef) {
      const s: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: f.secretRef.name, namespace: ns } });
      if (s?.data?.[key] !== undefined) {
        source = { secret: f.secretRef.name, key };
        literal = undefined;
        fromConfigMap = undefined;
      }
    } else if (f.configMapRef) {
      const m: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: f.configMapRef.name, namespace: ns } });
      if (m?.data?.[key] !== undefined) {
        fromConfigMap = f.configMapRef.name;
        source = undefined;
        literal = undefined;
      }
    }
  }
  for (const e of c.env ?? []) {
    if (e.name !== r.env) continue;
    source = undefined;
    literal = undefined;
    fromConfigMap = undefined;
    if (e.valueFrom?.secretKeyRef) source = { secret: e.valueFrom.secretKeyRef.name, key: e.valueFrom.secretKeyRef.key };
    else if (e.valueFrom?.configMapKeyRef) fromConfigMap = e.valueFrom.configMapKeyRef.name;
    else literal = String(e.value ?? '');
  }
  if ((w.spec?.replicas ?? 1) < 1 || !pods.length) return { problem: `${what} has no running pod — it must keep working, with the new value`, pods, what };
  const where = `${what} (env ${r.env} of container ${c.name})`;
  if (literal !== undefined)
    return {
      problem: `${where} has the credential written into the Deployment itself — anyone who may read Deployments reads it; keep it in a Secret (valueFrom.secretKeyRef)`,
      value: literal,
      pods,
      what,
    };
  if (fromConfigMap)
    return {
      problem: `${where} reads the credential from ConfigMap ${fromConfigMap}, in plain text for anyone who may read ConfigMaps — keep it in a Secret`,
      pods,
      what,
    };
  if (!source) return { problem: `${where} gets no credential at all`, pods, what };
  const s: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: source.secret, namespace: ns } });
  if (s?.data?.[source.key] === undefined)
    return { problem: `${where} reads key ${source.key} of Secret ${source.secret}, which ${s ? 'has no such key' : 'does not exist'}`, pods, what };
  // Pods keep the environment they started with: one started before the Secret's last change still has the old value.
  const written = lastWrite(s);
  // A container reads its environment when it starts (again after a crash): the time its container last started, where the pods really run.
  const started = (x: any) => {
    const c = (x.status?.containerStatuses ?? []).find((st: any) => st.name === (r.container ?? cs[0]?.name));
    return Date.parse(c?.state?.running?.startedAt ?? x.status?.startTime ?? x.metadata?.creationTimestamp ?? 0);
  };
  // Both times are whole seconds: a pod that started in the very second of the change may have the old value.
  const stale = pods.find((x) => started(x) <= written);
  return {
    value: b64(s.data[source.key]),
    from: source,
    pods,
    what,
    stale:
      stale &&
      `pod ${stale.metadata.name} of ${what} started before Secret ${source.secret} was last changed (or in the same second), so it may still hold the old value in its environment — restart it: \`kubectl -n ${ns} rollout restart ${r.workload.kind.toLowerCase()}/${r.workload.name}\``,
  };
}

/**
 * A leaked credential rotated: what accepts it (the provider, through an environment variable fed by
 * a Secret) now accepts a new value — not a leaked one, long enough —, everything that uses it holds
 * that same value, and every running pod of both started after the Secret it reads was last changed
 * (an environment is read once, at start: a pod of before still accepts or sends the old value).
 */
export const secretRotated: CheckPrimitive<P> = {
  type: 'secretRotated',
  schema,
  watches: (p) => [
    { apiVersion: 'v1', kind: 'Secret', namespace: p.namespace },
    { apiVersion: 'v1', kind: 'Pod', namespace: p.namespace },
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: p.namespace },
  ],
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p) {
    const acc = await resolveRef(ctx, p.namespace, p.accepter);
    if (acc.problem) return { passed: false, message: acc.problem };
    const v = acc.value!;
    if (p.leaked.includes(v))
      return {
        passed: false,
        message: `${acc.what} still accepts the leaked value (Secret ${acc.from!.secret}, key ${acc.from!.key}): whoever saw it can still use it — rotate it: a new random value (e.g. \`openssl rand -hex 16\`) there and wherever it is used, then restart both`,
      };
    if (v.length < p.minLength)
      return {
        passed: false,
        message: `the new value ${acc.what} accepts (Secret ${acc.from!.secret}) has ${v.length} characters — use at least ${p.minLength} random ones (\`openssl rand -hex 16\`)`,
      };
    const users: Resolved[] = [];
    for (const u of p.users) {
      const r = await resolveRef(ctx, p.namespace, u);
      if (r.problem) return { passed: false, message: r.problem };
      if (r.value !== v) {
        return {
          passed: false,
          message: p.leaked.includes(r.value!)
            ? `${r.what} still uses the leaked value (Secret ${r.from!.secret}, key ${r.from!.key}), which ${acc.what} no longer accepts — give it the new one`
            : `${r.what} uses another value (Secret ${r.from!.secret}, key ${r.from!.key}) than the one ${acc.what} accepts (Secret ${acc.from!.secret}, key ${acc.from!.key}) — it cannot work`,
        };
      }
      users.push(r);
    }
    const stale = [acc, ...users].find((r) => r.stale);
    if (stale) return { passed: false, message: stale.stale! };
    const pods = acc.pods.length + users.reduce((n, u) => n + u.pods.length, 0);
    return {
      passed: true,
      message: `${acc.what} accepts a new value (Secret ${acc.from!.secret}, key ${acc.from!.key}, ${v.length} characters), not the leaked one; ${users.map((u) => `${u.what} (Secret ${u.from!.secret})`).join(', ') || 'nothing else'} uses the same, and all ${pods} running pods started after those Secrets last changed`,
    };
  },
};
