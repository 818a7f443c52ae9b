import { z } from 'zod';
import type { CheckPrimitive, CheckContext } from './types.js';

/**
 * How containers start: their command line (command + args) and their effective environment (env,
 * with valueFrom resolved from ConfigMaps and Secrets, and envFrom with its prefixes, in the order the
 * kubelet applies them), plus the text of every ConfigMap and Secret they read (env, envFrom, volumes:
 * a start script can come from one). Judged over every container of every pod and pod template of a
 * namespace (or of one workload): a setting hidden in a ConfigMap, in NODE_OPTIONS or in a sibling
 * Deployment counts as much as one in the Deployment the lesson named.
 */

const forbidSchema = z
  .object({
    /** A regular expression that must not match. */
    pattern: z.string(),
    /** Where: the command line, the environment's values, the ConfigMaps/Secrets the container reads, or all of them (default). */
    in: z.array(z.enum(['commandLine', 'env', 'configData'])).default(['commandLine', 'env', 'configData']),
    message: z.string(),
  })
  .strict();

const requireSchema = z
  .object({
    /** An environment variable of the effective environment. */
    env: z.string(),
    /** Only for containers whose environment has this variable (e.g. METRICS_HOST matters where METRICS_PORT is set). */
    when: z.string().optional(),
    oneOf: z.array(z.string()).optional(),
    /** The variable must be set (to anything, with oneOf: to one of those). */
    message: z.string(),
  })
  .strict();

const schema = z
  .object({
    namespace: z.string(),
    /** Only this workload's pods and template (default: every pod and template of the namespace). */
    workload: z
      .object({ kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).default('Deployment'), name: z.string() })
      .strict()
      .optional(),
    /** Only containers of this name (default: all, init containers included). */
    container: z.string().optional(),
    forbid: z.array(forbidSchema).default([]),
    require: z.array(requireSchema).default([]),
  })
  .strict();
type P = z.infer<typeof schema>;

const TEMPLATES: [string, string, (o: any) => any][] = [
  ['apps/v1', 'Deployment', (o) => o.spec?.template],
  ['apps/v1', 'StatefulSet', (o) => o.spec?.template],
  ['apps/v1', 'DaemonSet', (o) => o.spec?.template],
  ['apps/v1', 'ReplicaSet', (o) => o.spec?.template],
  ['batch/v1', 'Job', (o) => o.spec?.template],
  ['batch/v1', 'CronJob', (o) => o.spec?.jobTemplate?.spec?.template],
];

interface Spec {
  what: string;
  spec: any;
}

/** The pod specs to judge: live pods (not finished) and templates; a controller-owned ReplicaSet/Job through its owner. */
async function podSpecs(ctx: CheckContext, p: P): Promise<Spec[] | string> {
  const ns = p.namespace;
  if (p.workload) {
    const w: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: p.workload.kind, metadata: { name: p.workload.name, namespace: ns } });
    if (!w) return `${p.workload.kind} ${ns}/${p.workload.name} is gone — deleting it is not a fix`;
    const sel = w.spec?.selector?.matchLabels ?? {};
    const pods = await ctx.cluster.list<any>(
      'v1',
      'Pod',
      ns,
      Object.entries(sel)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    );
    return [
      { what: `${p.workload.kind} ${ns}/${p.workload.name}`, spec: w.spec?.template?.spec ?? {} },
      ...pods.filter((x) => !['Succeeded', 'Failed'].includes(x.status?.phase)).map((x) => ({ what: `pod ${ns}/${x.metadata.name}`, spec: x.spec ?? {} })),
    ];
  }
  const out: Spec[] = [];
  const [pods, ...lists] = await Promise.all([ctx.cluster.list<any>('v1', 'Pod', ns), ...TEMPLATES.map(([a, k]) => ctx.cluster.list<any>(a, k, ns))]);
  for (const x of pods)
    if (!['Succeeded', 'Failed'].includes(x.status?.phase) && !x.metadata?.labels?.['kube-seclab.dev/check'])
      out.push({ what: `pod ${ns}/${x.metadata.name}`, spec: x.spec ?? {} });
  TEMPLATES.forEach(([, kind, template], i) => {
    for (const o of lists[i]) {
      if ((kind === 'ReplicaSet' || kind === 'Job') && (o.metadata?.ownerReferences ?? []).some((r: any) => r.controller)) continue;
      out.push({ what: `${kind} ${ns}/${o.metadata.name}`, spec: template(o)?.spec ?? {} });
    }
  });
  return out;
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** The ConfigMaps and Secrets of the namespace, by name: their data as text. */
async function configData(ctx: CheckContext, ns: string): Promise<{ cm: Map<string, Record<string, string>>; secret: Map<string, Record<string, string>> }> {
  const [cms, secrets] = await Promise.all([ctx.cluster.list<any>('v1', 'ConfigMap', ns), ctx.cluster.list<any>('v1', 'Secret', ns).catch(() => [] as any[])]);
  return {
    cm: new Map(
      cms.map((c) => [c.metadata.name, { ...(c.data ?? {}), ...Object.fromEntries(Object.entries(c.binaryData ?? {}).map(([k, v]) => [k, b64(String(v))])) }]),
    ),
    secret: new Map(secrets.map((s) => [s.metadata.name, Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, b64(String(v))]))])),
  };
}

/** A container's environment as the kubelet builds it: envFrom first (in order, prefixed), then env (later wins). */
export function effectiveEnv(c: any, data: { cm: Map<string, Record<string, string>>; secret: Map<string, Record<string, string>> }): Map<string, string> {
  const env = new Map<string, string>();
  for (const f of c.envFrom ?? []) {
    const src = f.configMapRef ? data.cm.get(f.configMapRef.name) : f.secretRef ? data.secret.get(f.secretRef.name) : undefined;
    for (const [k, v] of Object.entries(src ?? {})) env.set(`${f.prefix ?? ''}${k}`, v);
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env.set(e.name, String(e.value));
    else if (e.valueFrom?.configMapKeyRef) {
      const v = data.cm.get(e.valueFrom.configMapKeyRef.name)?.[e.valueFrom.configMapKeyRef.key];
      if (v !== undefined) env.set(e.name, v);
    } else if (e.valueFrom?.secretKeyRef) {
      const v = data.secret.get(e.valueFrom.secretKeyRef.name)?.[e.valueFrom.secretKeyRef.key];
      if (v !== undefined) env.set(e.name, v);
    } else if (!e.valueFrom) env.set(e.name, '');
  }
  return env;
}

/** The text of every ConfigMap and Secret a container reads: env, envFrom, and the pod's volumes it mounts. */
function readData(spec: any, c: any, data: { cm: Map<string, Record<string, string>>; secret: Map<string, Record<string, string>> }): [string, string][] {
  const out: [string, string][] = [];
  const add = (kind: 'cm' | 'secret', name?: string) => {
    if (!name) return;
    for (const [k, v] of Object.entries(data[kind].get(name) ?? {})) out.push([`${kind === 'cm' ? 'ConfigMap' : 'Secret'} ${name} (${k})`, v]);
  };
  for (const f of c.envFrom ?? []) {
    add('cm', f.configMapRef?.name);
    add('secret', f.secretRef?.name);
  }
  for (const e of c.env ?? []) {
    add('cm', e.valueFrom?.configMapKeyRef?.name);
    add('secret', e.valueFrom?.secretKeyRef?.name);
  }
  const mounted = new Set((c.volumeMounts ?? []).map((m: any) => m.name));
  for (const v of spec.volumes ?? []) {
    if (!mounted.has(v.name)) continue;
    add('cm', v.configMap?.name);
    add('secret', v.secret?.secretName);
    for (const s of v.projected?.sources ?? []) {
      add('cm', s.configMap?.name);
      add('secret', s.secret?.name);
    }
  }
  return out;
}

export const containerStart: CheckPrimitive<P> = {
  type: 'containerStart',
  schema,
  watches: (p) => [
    { apiVersion: 'v1', kind: 'Pod', namespace: p.namespace },
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: p.namespace },
    { apiVersion: 'v1', kind: 'Secret', namespace: p.namespace },
    ...TEMPLATES.map(([apiVersion, kind]) => ({ apiVersion, kind, namespace: p.namespace })),
  ],
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p) {
    const specs = await podSpecs(ctx, p);
    if (typeof specs === 'string') return { passed: false, message: specs };
    const data = await configData(ctx, p.namespace);
    let containers = 0;
    for (const s of specs) {
      for (const c of [...(s.spec.initContainers ?? []), ...(s.spec.containers ?? [])]) {
        if (p.container && c.name !== p.container) continue;
        containers++;
        const where = `${s.what}, container ${c.name}`;
        const env = effectiveEnv(c, data);
        const line = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
        for (const f of p.forbid) {
          const re = new RegExp(f.pattern);
          if (f.in.includes('commandLine') && re.test(line)) return { passed: false, message: `${where}: ${f.message} (command line: ${line.slice(0, 120)})` };
          if (f.in.includes('env'))
            for (const [k, v] of env) if (re.test(v)) return { passed: false, message: `${where}: ${f.message} (env ${k}=${v.slice(0, 80)})` };
          if (f.in.includes('configData'))
            for (const [src, v] of readData(s.spec, c, data)) if (re.test(v)) return { passed: false, message: `${where}: ${f.message} (in ${src})` };
        }
        for (const r of p.require) {
          if (r.when && !env.has(r.when)) continue;
          const v = env.get(r.env);
          if (v === undefined || (r.oneOf && !r.oneOf.includes(v)))
            return { passed: false, message: `${where}: ${r.message}${v === undefined ? ` (${r.env} is not set)` : ` (${r.env}=${v})`}` };
        }
      }
    }
    if (!containers)
      return {
        passed: false,
        message: p.container
          ? `no container ${p.container} in namespace ${p.namespace}${p.workload ? ` (${p.workload.kind} ${p.workload.name})` : ''} — deleting it is not a fix`
          : `nothing runs in namespace ${p.namespace}`,
      };
    return {
      passed: true,
      message: `${containers} container${containers === 1 ? '' : 's'} of ${specs.length} pod spec${specs.length === 1 ? '' : 's'} in ${p.workload ? `${p.workload.kind} ${p.namespace}/${p.workload.name}` : `namespace ${p.namespace}`} (command lines, environments with ConfigMaps and Secrets resolved) as required`,
    };
  },
};
