import { z } from 'zod';
import type { CheckPrimitive, CheckContext } from './types.js';
import { apiError } from '../kube/errors.js';
import { MANAGED_LABEL } from '../kube/client.js';

const schema = z.object({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Pod']).default('Deployment'),
  namespace: z.string(),
  name: z.string(),
  level: z.enum(['baseline', 'restricted']),
}).strict();
type P = z.infer<typeof schema>;

/** The lab's namespace per level that enforces it (as the lesson data names it; renamed on a shared cluster). */
export const pssNamespace = (level: string) => `kube-seclab-pss-${level}`;

/** A namespace per level that enforces it, where pod templates are dry-run through PodSecurity. */
async function levelNamespace(ctx: CheckContext, level: string): Promise<string> {
  const name = ctx.cluster.rename.ns(pssNamespace(level));
  const existing = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (!existing) {
    await ctx.cluster.apply({
      apiVersion: 'v1', kind: 'Namespace',
      metadata: { name, labels: { [MANAGED_LABEL]: 'kube-seclab', 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/enforce-version': 'latest' } },
    });
  }
  return name;
}

/**
 * Does a workload's pod template meet a Pod Security Standard? Asked of the API server's own
 * PodSecurity admission: the template is dry-run as a Pod in a namespace that enforces the level.
 */
export const podSecurity: CheckPrimitive<P> = {
  type: 'podSecurity',
  schema,
  watches: (p) => [{ apiVersion: p.kind === 'Pod' ? 'v1' : 'apps/v1', kind: p.kind, namespace: p.namespace }],
  scope: (p) => ({ namespaces: [p.namespace, pssNamespace(p.level)] }),
  async run(ctx, p) {
    const name = `${p.kind} ${p.namespace}/${p.name}`;
    const obj: any = await ctx.cluster.read({ apiVersion: p.kind === 'Pod' ? 'v1' : 'apps/v1', kind: p.kind, metadata: { name: p.name, namespace: p.namespace } });
    if (!obj) return { passed: false, message: `${name} not found` };
    const template = p.kind === 'Pod' ? obj : obj.spec?.template;
    const spec = structuredClone(template?.spec ?? {});
    // Only the security-relevant spec matters; names that only exist in the workload's namespace go.
    spec.serviceAccountName = 'default';
    delete spec.serviceAccount;
    delete spec.nodeName;
    spec.automountServiceAccountToken = false;
    const ns = await levelNamespace(ctx, p.level);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'pss-check-', namespace: ns, labels: template?.metadata?.labels }, spec };
    let res = await ctx.cluster.dryRunCreate(pod);
    for (let i = 0; !res.allowed && /serviceaccount .*not found/i.test(res.message) && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 150)); // a brand-new namespace's default ServiceAccount
      res = await ctx.cluster.dryRunCreate(pod);
    }
    if (res.allowed) return { passed: true, message: `${name} meets the Pod Security "${p.level}" standard` };
    const m = res.message.match(/violates PodSecurity "[^"]+": (.*)$/);
    if (m) return { passed: false, message: `${name} violates Pod Security "${p.level}": ${m[1]}` };
    return { passed: false, message: `${name} could not be evaluated: ${apiError({ message: res.message }).message}` };
  },
};
