import type { KubernetesObject } from '@kubernetes/client-node';
import type { GenericShortcut, ShortcutTemplate, BatteryInput, Undo } from './types.js';
import type { ScenarioContext } from '../scenarios/apply.js';
import { sleep } from '../fsutil.js';
import { recreatable } from './workloads.js';

const AR = 'admissionregistration.k8s.io/v1';

/** Lessons whose checks claim "X cannot be admitted" over a battery of variants. */
const batteryChecks = (input: BatteryInput) =>
  input.lesson.checks.filter((c) => c.type === 'admissionVariants').map((c) => c.params as { newNamespace?: boolean; namespaces: string[]; battery: string });

/** The solution's objects of a kind (as the lesson writes them). */
const solutionObjects = (input: BatteryInput, kind: string): any[] => (input.solution as any[]).filter((o) => o.apiVersion === AR && o.kind === kind);

/**
 * Change a cluster-scoped admission object in place; the undo puts the snapshot back. The API
 * server's admission view of policies and webhooks lags a moment behind a write: wait it out.
 */
async function changeObject(ctx: ScenarioContext, kind: string, name: string, change: (o: any) => any): Promise<Undo> {
  const ref = { apiVersion: AR, kind, metadata: { name } };
  const live: any = await ctx.cluster.read(ref);
  if (!live) throw new Error(`${kind} ${name} of the solution is not there`);
  const snapshot = recreatable(live);
  await ctx.cluster.replace(change(structuredClone(live)));
  await sleep(2500);
  return async () => {
    const cur: any = await ctx.cluster.read(ref);
    if (cur) await ctx.cluster.replace({ ...snapshot, metadata: { ...snapshot.metadata, resourceVersion: cur.metadata.resourceVersion } } as KubernetesObject);
    else await ctx.cluster.create(snapshot as KubernetesObject);
    await sleep(2500);
  };
}

function template(
  id: string,
  description: string,
  kind: string,
  when: (input: BatteryInput, o: any) => boolean,
  what: (o: any) => string,
  change: (o: any, input: BatteryInput) => any,
): ShortcutTemplate {
  return {
    id,
    description,
    instances: (input) =>
      (batteryChecks(input).length ? solutionObjects(input, kind).filter((o) => when(input, o)) : []).map((o): GenericShortcut => ({
        template: id,
        name: `${id} ${o.metadata.name}`,
        description: what(o),
        clusterScoped: true,
        apply: (ctx) => changeObject(ctx, kind, o.metadata.name, (live) => change(live, input)),
      })),
  };
}

export const bindingWarnOnly = template(
  'binding-warn-only',
  'the fix, with the policy binding set to Warn and Audit instead of Deny',
  'ValidatingAdmissionPolicyBinding',
  (_i, o) => (o.spec?.validationActions ?? []).includes('Deny'),
  (o) => `ValidatingAdmissionPolicyBinding ${o.metadata.name} with validationActions [Warn, Audit]: violations are reported and admitted`,
  (o) => ({ ...o, spec: { ...o.spec, validationActions: ['Warn', 'Audit'] } }),
);

export const bindingExistingNamespaces = template(
  'binding-existing-namespaces',
  'the fix, with the policy binding narrowed to the namespaces that exist today (a new namespace is not covered)',
  'ValidatingAdmissionPolicyBinding',
  (input) => batteryChecks(input).some((c) => c.newNamespace),
  (o) => `ValidatingAdmissionPolicyBinding ${o.metadata.name} selecting only today's namespaces by name`,
  (o, input) => {
    const names = [...new Set(batteryChecks(input).flatMap((c) => c.namespaces))];
    return {
      ...o,
      spec: {
        ...o.spec,
        matchResources: {
          ...o.spec?.matchResources,
          namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: names }] },
        },
      },
    };
  },
);

const rules = (o: any): any[] => o.spec?.matchConstraints?.resourceRules ?? [];
const withRules = (o: any, f: (r: any) => any) => ({
  ...o,
  spec: { ...o.spec, matchConstraints: { ...o.spec.matchConstraints, resourceRules: rules(o).map(f) } },
});

/** Resources whose UPDATE a lesson's batteries try (a Service turned into a NodePort; a pod's image changed in place). */
const updatedResources = (input: BatteryInput): string[] =>
  batteryChecks(input).flatMap((c) => (c.battery === 'node-exposure' ? ['services'] : c.battery.endsWith('images') ? ['pods'] : []));

export const policyCreateOnly = template(
  'policy-create-only',
  'the fix, with the policy matching CREATE only (an existing object changed by an UPDATE is not judged)',
  'ValidatingAdmissionPolicy',
  (input, o) =>
    rules(o).some(
      (r) =>
        (r.operations ?? []).some((x: string) => x === 'UPDATE' || x === '*') &&
        (r.resources ?? []).some((x: string) => updatedResources(input).includes(x) || x === '*'),
    ),
  (o) => `ValidatingAdmissionPolicy ${o.metadata.name} on CREATE only`,
  (o) => withRules(o, (r) => ({ ...r, operations: ['CREATE'] })),
);

export const policyWithoutEphemeral = template(
  'policy-without-ephemeral',
  'the fix, with the policy no longer matching pods/ephemeralcontainers (kubectl debug is not judged)',
  'ValidatingAdmissionPolicy',
  (_i, o) => rules(o).some((r) => (r.resources ?? []).includes('pods/ephemeralcontainers')),
  (o) => `ValidatingAdmissionPolicy ${o.metadata.name} without pods/ephemeralcontainers`,
  (o) => withRules(o, (r) => ({ ...r, resources: (r.resources ?? []).filter((x: string) => x !== 'pods/ephemeralcontainers') })),
);

const webhooks = (o: any): any[] => o.webhooks ?? [];

export const webhookFailOpen = template(
  'webhook-fail-open',
  'the fix, with the webhook set to failurePolicy Ignore and its verifier unreachable',
  'ValidatingWebhookConfiguration',
  (_i, o) => webhooks(o).some((w) => w.failurePolicy === 'Fail' || !w.failurePolicy),
  (o) => `ValidatingWebhookConfiguration ${o.metadata.name} with failurePolicy Ignore, calling a Service that is not there`,
  (o) => ({
    ...o,
    webhooks: webhooks(o).map((w) => ({
      ...w,
      failurePolicy: 'Ignore',
      clientConfig: {
        ...w.clientConfig,
        ...(w.clientConfig?.service ? { service: { ...w.clientConfig.service, name: `${w.clientConfig.service.name}-unavailable` } } : {}),
      },
    })),
  }),
);

export const webhookWithoutEphemeral = template(
  'webhook-without-ephemeral',
  'the fix, with the webhook no longer sent pods/ephemeralcontainers (kubectl debug is not judged)',
  'ValidatingWebhookConfiguration',
  (_i, o) => webhooks(o).some((w) => (w.rules ?? []).some((r: any) => (r.resources ?? []).includes('pods/ephemeralcontainers'))),
  (o) => `ValidatingWebhookConfiguration ${o.metadata.name} without pods/ephemeralcontainers`,
  (o) => ({
    ...o,
    webhooks: webhooks(o).map((w) => ({
      ...w,
      rules: (w.rules ?? []).map((r: any) => ({ ...r, resources: (r.resources ?? []).filter((x: string) => x !== 'pods/ephemeralcontainers') })),
    })),
  }),
);
