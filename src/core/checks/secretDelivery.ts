import { z } from 'zod';
import type { CheckPrimitive } from './types.js';

const schema = z
  .object({
    workload: z
      .object({
        kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).default('Deployment'),
        namespace: z.string(),
        name: z.string(),
      })
      .strict(),
    container: z.string(),
    secret: z.string(),
    /** Each key the app reads, and where it reads it: a file path and/or an env var name (either will do). */
    keys: z
      .array(
        z
          .object({ key: z.string(), file: z.string().startsWith('/').optional(), env: z.string().optional() })
          .strict()
          .refine((k) => k.file || k.env, { message: 'say where the app reads the key: `file` and/or `env`' }),
      )
      .min(1),
  })
  .strict();
type P = z.infer<typeof schema>;

type Key = P['keys'][number];

/** The file a volume gives a key at (its items, or the key itself), if it gives it at all. */
function pathOf(items: { key: string; path: string }[] | undefined, key: string): string | undefined {
  if (!items?.length) return key;
  return items.find((i) => i.key === key)?.path;
}

const join = (dir: string, file: string) => `${dir.replace(/\/+$/, '')}/${file}`;

/**
 * How a pod spec's container reads one key of the Secret, in any way the app can: a `secret`
 * volume or a `projected` volume's secret source (with or without items, mounted at the folder or
 * one file through subPath), an env var from `secretKeyRef`, or `envFrom.secretRef` (prefix
 * included). Undefined: it does not.
 */
export function delivery(spec: any, container: string, secret: string, k: Key): string | undefined {
  const c = (spec?.containers ?? []).find((x: any) => x.name === container);
  if (!c) return undefined;
  if (k.file) {
    for (const m of c.volumeMounts ?? []) {
      const v = (spec.volumes ?? []).find((x: any) => x.name === m.name);
      const sources: { items?: { key: string; path: string }[]; how: string }[] = [];
      if (v?.secret?.secretName === secret) sources.push({ items: v.secret.items, how: 'a secret volume' });
      for (const s of v?.projected?.sources ?? []) if (s.secret?.name === secret) sources.push({ items: s.secret.items, how: 'a projected volume' });
      for (const s of sources) {
        const rel = pathOf(s.items, k.key);
        if (!rel) continue;
        const at = m.subPath ? (m.subPath === rel ? m.mountPath : undefined) : join(m.mountPath, rel);
        if (at === k.file) return `${s.how} at ${k.file}`;
      }
    }
  }
  if (k.env) {
    // The last definition of a name wins: env over envFrom, later over earlier.
    const env = [...(c.env ?? [])].reverse().find((e: any) => e.name === k.env);
    if (env) return env.valueFrom?.secretKeyRef?.name === secret && env.valueFrom.secretKeyRef.key === k.key ? `env ${k.env} from secretKeyRef` : undefined;
    for (const f of [...(c.envFrom ?? [])].reverse()) {
      if (f.secretRef?.name === secret && `${f.prefix ?? ''}${k.key}` === k.env) return `env ${k.env} from envFrom`;
    }
  }
  return undefined;
}

/**
 * The app gets its credentials from the Secret, however it is delivered: the template and every
 * running pod of the workload read each key where the app looks for it (a file or an env var).
 */
export const secretDelivery: CheckPrimitive<P> = {
  type: 'secretDelivery',
  schema,
  watches: (p) => [
    { apiVersion: 'apps/v1', kind: p.workload.kind, namespace: p.workload.namespace },
    { apiVersion: 'v1', kind: 'Pod', namespace: p.workload.namespace },
    { apiVersion: 'v1', kind: 'Secret', namespace: p.workload.namespace },
  ],
  scope: (p) => ({ namespaces: [p.workload.namespace] }),
  async run(ctx, p) {
    const w = p.workload;
    const name = `${w.kind} ${w.namespace}/${w.name}`;
    const obj: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: w.kind, metadata: { name: w.name, namespace: w.namespace } });
    if (!obj) return { passed: false, message: `${name} is gone — deleting the workload is not a fix` };
    const secret: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: p.secret, namespace: w.namespace } });
    if (!secret) return { passed: false, message: `Secret ${w.namespace}/${p.secret} does not exist` };
    const empty = p.keys.filter((k) => !secret.data?.[k.key]);
    if (empty.length)
      return { passed: false, message: `Secret ${w.namespace}/${p.secret} has no ${empty.map((k) => k.key).join(' or ')} — the app would start without it` };
    const sel = Object.entries(obj.spec?.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const pods = sel
      ? (await ctx.cluster.list<any>('v1', 'Pod', w.namespace, sel)).filter(
          (x) => !x.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(x.status?.phase),
        )
      : [];
    const specs: [string, any][] = [
      [`the pod template of ${name}`, obj.spec?.template?.spec],
      ...pods.map((x): [string, any] => [`its running pod ${x.metadata.name}`, x.spec]),
    ];
    const hows = new Set<string>();
    for (const [where, spec] of specs) {
      for (const k of p.keys) {
        const how = delivery(spec, p.container, p.secret, k);
        if (!how) {
          const want = [k.file && `the file ${k.file}`, k.env && `env var ${k.env}`].filter(Boolean).join(' or ');
          return {
            passed: false,
            message: `${where}: container ${p.container} does not get key ${k.key} of Secret ${p.secret} as ${want}, where the app reads it`,
          };
        }
        hows.add(how);
      }
    }
    return {
      passed: true,
      message: `container ${p.container} of ${name} (template and ${pods.length} running pod${pods.length === 1 ? '' : 's'}) reads ${p.keys.map((k) => k.key).join(', ')} from Secret ${p.secret} (${[...hows].join(', ')})`,
    };
  },
};
