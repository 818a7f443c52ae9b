import { z } from 'zod';
import type { CheckPrimitive, CheckContext } from './types.js';
import { apiError } from '../kube/errors.js';
import { MANAGED_LABEL } from '../kube/client.js';
import { podSpecsIn, podSpecWatches, portableSpec, type PodSpecSource } from './podSpecs.js';

const schema = z
  .object({
    namespace: z.string(),
    /**
     * One workload (its pod template only). Without it: EVERY pod spec of the namespace — its live
     * pods (with or without an owner, ephemeral containers included) and every workload's pod
     * template (Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs,
     * CronJobs). Prefer that: one insecure sibling is enough to escape.
     */
    kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Pod']).optional(),
    name: z.string().optional(),
    level: z.enum(['baseline', 'restricted']),
  })
  .strict()
  .refine((p) => !p.kind || !!p.name, { message: '`kind` needs a `name`' });
type P = z.infer<typeof schema>;

/** The lab's namespace per level that enforces it (as the lesson data names it; renamed on a shared cluster). */
export const pssNamespace = (level: string) => `kube-seclab-pss-${level}`;

/** A namespace per level that enforces it, where pod templates are dry-run through PodSecurity. */
async function levelNamespace(ctx: CheckContext, level: string): Promise<string> {
  const name = ctx.cluster.rename.ns(pssNamespace(level));
  const existing = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (!existing) {
    await ctx.cluster.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        labels: { [MANAGED_LABEL]: 'kube-seclab', 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/enforce-version': 'latest' },
      },
    });
  }
  return name;
}

/** What PodSecurity says of one pod spec, at a level: undefined when it meets it, else why not. */
export async function pssVerdict(ctx: CheckContext, level: string, spec: any, labels?: Record<string, string>): Promise<string | undefined> {
  const ns = await levelNamespace(ctx, level);
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'pss-check-', namespace: ns, labels }, spec: portableSpec(spec) };
  let res = await ctx.cluster.dryRunCreate(pod);
  for (let i = 0; !res.allowed && /serviceaccount .*not found/i.test(res.message) && i < 20; i++) {
    await new Promise((r) => setTimeout(r, 150)); // a brand-new namespace's default ServiceAccount
    res = await ctx.cluster.dryRunCreate(pod);
  }
  if (res.allowed) return undefined;
  const m = res.message.match(/violates PodSecurity "[^"]+": (.*)$/);
  if (m) return m[1];
  return `could not be evaluated: ${apiError({ message: res.message }).message}`;
}

async function oneWorkload(ctx: CheckContext, p: P): Promise<PodSpecSource | string> {
  const kind = p.kind ?? 'Deployment';
  const name = `${kind} ${p.namespace}/${p.name}`;
  const obj: any = await ctx.cluster.read({ apiVersion: kind === 'Pod' ? 'v1' : 'apps/v1', kind, metadata: { name: p.name!, namespace: p.namespace } });
  if (!obj) return `${name} not found`;
  const template = kind === 'Pod' ? obj : obj.spec?.template;
  return { what: name, kind, name: p.name!, live: kind === 'Pod', labels: template?.metadata?.labels, spec: template?.spec ?? {} };
}

/**
 * Does every pod of a namespace (or one workload's template) meet a Pod Security Standard? Asked of
 * the API server's own PodSecurity admission: each pod spec is dry-run as a Pod in a namespace that
 * enforces the level (identical specs once).
 */
export const podSecurity: CheckPrimitive<P> = {
  type: 'podSecurity',
  schema,
  watches: (p) =>
    p.name ? [{ apiVersion: p.kind === 'Pod' ? 'v1' : 'apps/v1', kind: p.kind ?? 'Deployment', namespace: p.namespace }] : podSpecWatches(p.namespace),
  timeoutMs: () => 30_000,
  scope: (p) => ({ namespaces: [p.namespace, pssNamespace(p.level)] }),
  async run(ctx, p) {
    let sources: PodSpecSource[];
    if (p.name) {
      const one = await oneWorkload(ctx, p);
      if (typeof one === 'string') return { passed: false, message: one };
      sources = [one];
    } else {
      sources = await podSpecsIn(ctx, p.namespace);
      if (!sources.length) return { passed: false, message: `namespace ${p.namespace} has no pod and no workload — deleting the workload is not a fix` };
    }
    // Identical specs (a Deployment's template and its pods, say) are asked once.
    const verdicts = new Map<string, Promise<string | undefined>>();
    const judged = await Promise.all(
      sources.map(async (s) => {
        const key = JSON.stringify(portableSpec(s.spec));
        if (!verdicts.has(key)) verdicts.set(key, pssVerdict(ctx, p.level, s.spec, s.labels));
        return { s, why: await verdicts.get(key)! };
      }),
    );
    const bad = judged.filter((j) => j.why);
    // Live pods first: what runs now is the worse news.
    bad.sort((a, b) => Number(b.s.live) - Number(a.s.live));
    if (bad.length) {
      const more =
        bad.length > 1
          ? ` (and ${bad.length - 1} more: ${bad
              .slice(1, 4)
              .map((b) => b.s.what)
              .join(', ')}${bad.length > 4 ? ', …' : ''})`
          : '';
      return { passed: false, message: `${bad[0].s.what} violates Pod Security "${p.level}": ${bad[0].why}${more}` };
    }
    const pods = sources.filter((s) => s.live).length;
    const what = p.name
      ? sources[0].what
      : `every pod spec in namespace ${p.namespace} (${pods} pod${pods === 1 ? '' : 's'}, ${sources.length - pods} template${sources.length - pods === 1 ? '' : 's'})`;
    return { passed: true, message: `${what} meets the Pod Security "${p.level}" standard` };
  },
};
