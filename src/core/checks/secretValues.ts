import { z } from 'zod';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { CheckContext, CheckPrimitive } from './types.js';
import { requestAs, pool } from '../rbac/cluster.js';
import { describe } from './files.js';

const homeSchema = z.object({ namespace: z.string(), secret: z.string(), key: z.string() }).strict();

const schema = z
  .object({
    /** The namespace whose every object is searched (every listable kind the API server serves). */
    namespace: z.string(),
    credentials: z
      .array(
        z
          .object({
            /** What it is, for messages: "the database password". */
            name: z.string(),
            /** The value the scenario planted (the lab knows it). */
            planted: z.string().min(6, 'a planted value shorter than 6 characters would be found everywhere'),
            /** The Secret key it belongs in: its value is the current credential, searched for everywhere else. */
            home: homeSchema.optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
type P = z.infer<typeof schema>;

// ---- matching (pure) --------------------------------------------------------------------------

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const B64_TOKEN = /[A-Za-z0-9+/_-]{8,}={0,2}/g;

/** The forms a value is looked for in: as is, URL-encoded, base64 (both alphabets, unpadded), hex. */
export function encodings(value: string): [string, string][] {
  const out: [string, string][] = [['', value]];
  const url = encodeURIComponent(value);
  if (url !== value) out.push([' (URL-encoded)', url]);
  const std = b64(value).replace(/=+$/, '');
  out.push([' (base64)', std]);
  const safe = std.replace(/\+/g, '-').replace(/\//g, '_');
  if (safe !== std) out.push([' (base64url)', safe]);
  out.push([' (hex)', Buffer.from(value, 'utf8').toString('hex')]);
  return out;
}

/** How a string holds the value, if it does: plainly, encoded, or inside a base64 blob (any alignment) or a URL. */
export function holds(s: string, value: string): string | undefined {
  const low = s.toLowerCase();
  for (const [how, form] of encodings(value)) {
    if (how === ' (hex)' ? low.includes(form) : s.includes(form)) return how;
  }
  try {
    const dec = decodeURIComponent(s);
    if (dec !== s && dec.includes(value)) return ' (URL-encoded)';
  } catch {
    /* not URL-encoded */
  }
  for (const m of s.matchAll(B64_TOKEN)) {
    for (const alphabet of ['base64', 'base64url'] as const) {
      const dec = Buffer.from(m[0], alphabet).toString('utf8');
      if (dec.includes(value)) return ' (inside base64)';
      for (const t of dec.matchAll(B64_TOKEN)) if (Buffer.from(t[0], 'base64').toString('utf8').includes(value)) return ' (inside base64, twice)';
    }
  }
  return undefined;
}

/** Every place in an object where a value shows: `data.DB_URL`, `spec.template.spec.containers[api].args[1]`, a key name… */
export function findIn(obj: unknown, value: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (typeof v === 'string') {
      const how = holds(v, value);
      if (how !== undefined) out.push(`${path || 'a value'}${how}`);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) =>
        walk(x, `${path}[${x && typeof x === 'object' && typeof (x as { name?: unknown }).name === 'string' ? (x as { name: string }).name : i}]`),
      );
      return;
    }
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'managedFields') continue;
      const p = path ? `${path}.${k}` : k;
      if (holds(k, value) !== undefined) out.push(`the key name ${p}`);
      walk(x, p);
    }
  };
  walk(obj, '');
  return out;
}

// ---- the cluster --------------------------------------------------------------------------------

interface Resource {
  apiVersion: string;
  kind: string;
  plural: string;
}
let discovered: { at: number; list: Resource[] } | undefined;

/** Every namespaced kind the API server lists (discovery, cached a minute). */
async function namespacedKinds(ctx: CheckContext): Promise<Resource[]> {
  if (discovered && Date.now() - discovered.at < 60_000) return discovered.list;
  const list: Resource[] = [];
  const add = (apiVersion: string, resources: any[]) => {
    for (const r of resources ?? []) {
      if (!r.namespaced || String(r.name).includes('/') || !r.verbs?.includes('list')) continue;
      list.push({ apiVersion, kind: r.kind, plural: r.name });
    }
  };
  const core = await requestAs(ctx.cluster, undefined, 'GET', '/api/v1');
  add('v1', core.body?.resources);
  const groups = await requestAs(ctx.cluster, undefined, 'GET', '/apis');
  await Promise.all(
    (groups.body?.groups ?? []).map(async (g: any) => {
      const gv = g.preferredVersion?.groupVersion;
      if (!gv) return;
      const res = await requestAs(ctx.cluster, undefined, 'GET', `/apis/${gv}`);
      add(gv, res.body?.resources);
    }),
  );
  // Objects that only mirror others (events about them, metrics) are searched too: nothing is skipped but bindings' tokens.
  discovered = { at: Date.now(), list };
  return list;
}

/** A Deployment's or StatefulSet's history: ReplicaSets scaled to 0 and ControllerRevisions that are not the current one. */
function isHistory(o: any, all: any[]): boolean {
  if (o.kind === 'ReplicaSet') return (o.spec?.replicas ?? 0) === 0 && !!o.metadata?.ownerReferences?.length;
  if (o.kind === 'ControllerRevision') {
    const owner = o.metadata?.ownerReferences?.[0];
    const set = all.find((x) => x.metadata?.uid === owner?.uid);
    return !!set && set.status?.updateRevision !== o.metadata?.name && set.status?.currentRevision !== o.metadata?.name;
  }
  return false;
}

async function readValue(ctx: CheckContext, h: { namespace: string; secret: string; key: string }): Promise<string | undefined> {
  const s: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: h.secret, namespace: h.namespace } });
  if (s?.data?.[h.key]) return Buffer.from(s.data[h.key], 'base64').toString('utf8');
  return s?.stringData?.[h.key];
}

/**
 * "No password in plain text" as a property: the lab knows the credentials it planted, so it looks
 * for their values — the planted one, and the current one in the Secret where each belongs — in
 * every object of the namespaces (every kind the API server serves: ConfigMaps, other Secrets,
 * env, args and command of every container, init and ephemeral containers, annotations, labels,
 * Jobs, CronJobs, Pods…), plainly, URL-encoded, base64 (inside larger blobs too) and hex, under any
 * key name. Only the credential's own Secret may hold it. A Deployment's old revisions keep the
 * planted value until it is rotated away (the rotation check judges that); the current value is
 * looked for there too.
 */
export const secretValues: CheckPrimitive<P> = {
  type: 'secretValues',
  schema,
  watches: (p) =>
    [p.namespace].flatMap((namespace) => [
      { apiVersion: 'v1', kind: 'ConfigMap', namespace },
      { apiVersion: 'v1', kind: 'Secret', namespace },
      { apiVersion: 'v1', kind: 'Pod', namespace },
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace },
      { apiVersion: 'batch/v1', kind: 'Job', namespace },
      { apiVersion: 'batch/v1', kind: 'CronJob', namespace },
    ]),
  timeoutMs: () => 30_000,
  scope: (p) => ({ namespaces: [...new Set([p.namespace, ...p.credentials.flatMap((c) => (c.home ? [c.home.namespace] : []))])] }),
  async run(ctx, p) {
    const kinds = await namespacedKinds(ctx);
    const objects: any[] = [];
    for (const ns of [p.namespace]) {
      const nsObj = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      if (nsObj) objects.push(nsObj);
      await pool(
        kinds.map((k) => async () => {
          const base = k.apiVersion === 'v1' ? '/api/v1' : `/apis/${k.apiVersion}`;
          const res = await requestAs(ctx.cluster, undefined, 'GET', `${base}/namespaces/${ns}/${k.plural}`);
          if (res.status !== 200) return [] as KubernetesObject[];
          return (res.body?.items ?? []).map((o: KubernetesObject) => ({ ...o, apiVersion: k.apiVersion, kind: k.kind }));
        }),
        8,
        (items) => objects.push(...items),
      );
    }
    const findings: string[] = [];
    for (const c of p.credentials) {
      const current = c.home ? await readValue(ctx, c.home) : undefined;
      const values: [string, string][] = [['the planted value', c.planted]];
      if (current && current !== c.planted) values.push(['its current value', current]);
      const isHome = (o: any) => c.home && o.kind === 'Secret' && o.metadata?.namespace === c.home.namespace && o.metadata?.name === c.home.secret;
      for (const o of objects) {
        if (isHome(o)) continue;
        for (const [which, v] of values) {
          if (which === 'the planted value' && isHistory(o, objects)) continue;
          const where = findIn(o, v);
          if (!where.length) continue;
          const owner = o.metadata?.ownerReferences?.[0];
          const history = isHistory(o, objects)
            ? ` (an old revision${owner ? ` of ${owner.kind} ${owner.name}` : ''} — \`kubectl rollout undo\` would bring it back; delete it)`
            : '';
          findings.push(`${c.name} (${which}) is in ${describe(o)}, ${where.slice(0, 2).join(', ')}${history}`);
        }
      }
    }
    const where = p.namespace;
    if (!findings.length) {
      return {
        passed: true,
        message: `the ${p.credentials.map((c) => c.name).join(' and ')} appear nowhere in namespace ${where} but in ${p.credentials.some((c) => c.home) ? 'their Secret' : 'no object'} (${objects.length} objects searched, any key, plain or encoded)`,
      };
    }
    const shown = findings.slice(0, 3).join('; ') + (findings.length > 3 ? `; and ${findings.length - 3} more` : '');
    return { passed: false, message: `${shown} — a credential belongs only in its Secret` };
  },
};
