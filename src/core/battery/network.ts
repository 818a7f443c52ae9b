import type { KubernetesObject } from '@kubernetes/client-node';
import type { GenericShortcut, ShortcutTemplate, BatteryInput, Undo } from './types.js';
import type { ScenarioContext } from '../scenarios/apply.js';
import { applyObjects } from '../scenarios/apply.js';
import { recreatable } from './workloads.js';

/** The namespaces whose traffic a lesson's `networkReach` checks judge, with the directions judged there. */
export function judgedNamespaces(input: BatteryInput): Map<string, Set<'ingress' | 'egress'>> {
  const out = new Map<string, Set<'ingress' | 'egress'>>();
  for (const c of input.lesson.checks) {
    if (c.type !== 'networkReach') continue;
    const p = c.params as { namespace: string; directions?: ('ingress' | 'egress')[] };
    const s = out.get(p.namespace) ?? new Set();
    for (const d of p.directions ?? ['ingress', 'egress']) s.add(d);
    out.set(p.namespace, s);
  }
  return out;
}

const NAME = 'kube-seclab-battery';
const policyRef = (namespace: string, name: string) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace } });

/** Add one NetworkPolicy; the undo deletes it. */
async function addPolicy(ctx: ScenarioContext, lessonId: string, np: KubernetesObject): Promise<Undo> {
  const o = ctx.cluster.rename.value(np);
  await applyObjects(ctx, [o], lessonId);
  return async () => {
    await ctx.cluster.delete(policyRef(o.metadata!.namespace!, o.metadata!.name!));
  };
}

function extraPolicy(ns: string, name: string, spec: Record<string, unknown>): KubernetesObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `${NAME}-${name}`, namespace: ns }, spec } as KubernetesObject;
}

export const netpolAllowAll: ShortcutTemplate = {
  id: 'netpol-allow-all',
  description: 'the fix, then one more policy that allows every pod of the namespace everything in (or out)',
  instances: (input) =>
    [...judgedNamespaces(input)].flatMap(([ns, dirs]) =>
      [...dirs].map((dir): GenericShortcut => ({
        template: 'netpol-allow-all',
        name: `netpol-allow-all ${dir} ${ns}`,
        description: `a NetworkPolicy allowing all ${dir} to every pod of ${ns}, added next to the fix`,
        apply: (ctx) =>
          addPolicy(
            ctx,
            input.lesson.id,
            extraPolicy(
              ns,
              `allow-all-${dir}`,
              dir === 'ingress' ? { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] } : { podSelector: {}, policyTypes: ['Egress'], egress: [{}] },
            ),
          ),
      })),
    ),
};

export const netpolAnyNamespace: ShortcutTemplate = {
  id: 'netpol-any-namespace',
  description: 'the fix, then ingress allowed from `namespaceSelector: {}` (every pod of every namespace, a new one included)',
  instances: (input) =>
    [...judgedNamespaces(input)]
      .filter(([, d]) => d.has('ingress'))
      .map(([ns]): GenericShortcut => ({
        template: 'netpol-any-namespace',
        name: `netpol-any-namespace ${ns}`,
        description: `a NetworkPolicy letting pods of any namespace into every pod of ${ns}, added next to the fix`,
        apply: (ctx) =>
          addPolicy(
            ctx,
            input.lesson.id,
            extraPolicy(ns, 'any-namespace', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: {} }] }] }),
          ),
      })),
};

/** The solution's NetworkPolicies in the namespaces the lesson judges. */
function solutionPolicies(input: BatteryInput): KubernetesObject[] {
  const judged = judgedNamespaces(input);
  return input.solution.filter((o) => o.kind === 'NetworkPolicy' && judged.has(o.metadata?.namespace ?? ''));
}

export const netpolSelectsNothing: ShortcutTemplate = {
  id: 'netpol-selects-nothing',
  description: "one of the fix's policies with a podSelector that matches no pod (a typo in a label)",
  instances: (input) =>
    solutionPolicies(input).map((np): GenericShortcut => {
      const { namespace, name } = np.metadata as { namespace: string; name: string };
      return {
        template: 'netpol-selects-nothing',
        name: `netpol-selects-nothing ${namespace}/${name}`,
        description: `NetworkPolicy ${namespace}/${name} of the fix selecting no pod (its podSelector mistyped)`,
        async apply(ctx): Promise<Undo> {
          const ref = ctx.cluster.rename.value(policyRef(namespace, name));
          const live = await ctx.cluster.read(ref);
          if (!live) throw new Error(`NetworkPolicy ${namespace}/${name} of the solution is not there`);
          const changed: any = recreatable(live);
          changed.spec.podSelector = { matchLabels: { 'kube-seclab.dev/battery': 'matches-no-pod' } };
          await ctx.cluster.replace({ ...changed, metadata: { ...changed.metadata, resourceVersion: live.metadata!.resourceVersion } });
          return async () => {
            const cur = await ctx.cluster.read(ref);
            const back = recreatable(live);
            if (cur) await ctx.cluster.replace({ ...back, metadata: { ...back.metadata, resourceVersion: cur.metadata!.resourceVersion } });
            else await applyObjects(ctx, [back], input.lesson.id);
          };
        },
      };
    }),
};

export const netpolElsewhere: ShortcutTemplate = {
  id: 'netpol-elsewhere',
  description: "the fix's policies applied in another namespace (`kubectl apply` without `-n`): they select no pod of the lesson",
  instances: (input) => {
    const byNs = new Map<string, KubernetesObject[]>();
    for (const np of solutionPolicies(input)) byNs.set(np.metadata!.namespace!, [...(byNs.get(np.metadata!.namespace!) ?? []), np]);
    return [...byNs].map(([ns, nps]): GenericShortcut => ({
      template: 'netpol-elsewhere',
      name: `netpol-elsewhere ${ns}`,
      description: `the NetworkPolicies of ${ns} applied in namespace default instead`,
      clusterScoped: true,
      async apply(ctx): Promise<Undo> {
        const lives: KubernetesObject[] = [];
        for (const np of nps) {
          const live = await ctx.cluster.read(ctx.cluster.rename.value(policyRef(ns, np.metadata!.name!)));
          if (live) lives.push(live);
        }
        const moved = lives.map((l) => {
          const c: any = recreatable(l);
          c.metadata.namespace = 'default';
          c.metadata.name = `${NAME}-${c.metadata.name}`;
          return c;
        });
        await applyObjects(ctx, moved, input.lesson.id);
        for (const l of lives) await ctx.cluster.delete(policyRef(l.metadata!.namespace!, l.metadata!.name!));
        return async () => {
          for (const m of moved) await ctx.cluster.delete(policyRef('default', m.metadata.name));
          await applyObjects(
            ctx,
            lives.map((l) => recreatable(l)),
            input.lesson.id,
          );
        };
      },
    }));
  },
};
