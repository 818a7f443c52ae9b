import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import type { CheckPrimitive } from './types.js';

const schema = z
  .object({
    /** The Service the webhook must call (the verifier). */
    service: z.object({ namespace: z.string(), name: z.string() }).strict(),
    /** The namespace whose requests it must judge. */
    namespace: z.string(),
    /** Namespaces it must leave alone (the verifier's own, so it can always restart). */
    exempt: z.array(z.string()).default([]),
    resource: z.string().default('pods'),
    operations: z.array(z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT'])).default(['CREATE', 'UPDATE']),
    /** Also `kubectl debug`: the pods/ephemeralcontainers subresource (UPDATE) must be sent too. */
    ephemeralContainers: z.boolean().default(false),
    /** The CA that signed the verifier's serving certificate: the webhook's caBundle must hold it. */
    caBundleFrom: z
      .object({ namespace: z.string(), secret: z.string(), key: z.string().default('ca.crt') })
      .strict()
      .optional(),
  })
  .strict();
type P = z.infer<typeof schema>;

type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Rule {
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  operations?: string[];
  scope?: string;
}
export interface Webhook {
  name: string;
  failurePolicy?: string;
  rules?: Rule[];
  namespaceSelector?: Selector;
  objectSelector?: Selector;
  matchConditions?: unknown[];
  clientConfig?: { service?: { namespace?: string; name?: string }; caBundle?: string; url?: string };
}
export interface WebhookConfig {
  metadata?: { name?: string };
  webhooks?: Webhook[];
}

/** A Kubernetes label selector against a set of labels (an empty or absent selector selects everything). */
export function selectorMatches(sel: Selector | undefined, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel?.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

const isEmptySelector = (s: Selector | undefined) => !s || (!Object.keys(s.matchLabels ?? {}).length && !(s.matchExpressions ?? []).length);

/** Do the rules send `resource` (core group, v1, namespaced) for this operation to the webhook? */
export function rulesCover(rules: Rule[] | undefined, resource: string, op: string): boolean {
  return (rules ?? []).some(
    (r) =>
      (r.apiGroups ?? []).some((g) => g === '' || g === '*') &&
      (r.apiVersions ?? []).some((v) => v === 'v1' || v === '*') &&
      (r.resources ?? []).some(
        (x) => x === resource || x === '*/*' || (x === '*' && !resource.includes('/')) || (resource.includes('/') && x === `${resource.split('/')[0]}/*`),
      ) &&
      (r.operations ?? []).some((o) => o === op || o === '*') &&
      (!r.scope || r.scope === '*' || r.scope === 'Namespaced'),
  );
}

/** The certificates (DER, base64) in a PEM bundle. */
function certsOf(pem: string): string[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
    .map((b) => {
      try {
        return new X509Certificate(b).raw.toString('base64');
      } catch {
        return '';
      }
    })
    .filter(Boolean);
}

/** What is wrong with one webhook, for the target namespace (empty: nothing). */
export function webhookProblems(
  w: Webhook,
  t: { namespace: string; nsLabels: Labels; resource: string; operations: string[]; caPem?: string; ephemeralContainers?: boolean },
): string[] {
  const out: string[] = [];
  const missing = t.operations.filter((op) => !rulesCover(w.rules, t.resource, op));
  if (missing.length)
    out.push(
      `its rules do not send ${t.resource} ${missing.join(' and ')} requests (apiGroups [""], apiVersions ["v1"], resources ["${t.resource}"], operations [${t.operations.map((o) => `"${o}"`).join(', ')}])`,
    );
  if (t.ephemeralContainers && !rulesCover(w.rules, `${t.resource}/ephemeralcontainers`, 'UPDATE'))
    out.push(
      `its rules do not send ${t.resource}/ephemeralcontainers UPDATE requests: \`kubectl debug\` adds a container with any image to a running pod unchecked — add "${t.resource}/ephemeralcontainers" to resources`,
    );
  if (w.failurePolicy !== 'Fail')
    out.push(`failurePolicy is ${w.failurePolicy ?? 'unset'}: when the verifier is down, slow or unreachable, pods are admitted unchecked — use Fail`);
  if (!selectorMatches(w.namespaceSelector, t.nsLabels))
    out.push(
      `its namespaceSelector does not select namespace ${t.namespace} (labels: ${
        Object.entries(t.nsLabels)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ') || 'none'
      })`,
    );
  if (!isEmptySelector(w.objectSelector)) out.push('it has an objectSelector: pods without (or with) those labels skip verification — leave it out');
  if ((w.matchConditions ?? []).length) out.push('it has matchConditions: pods that do not match them skip verification — leave them out');
  if (t.caPem !== undefined) {
    const want = certsOf(t.caPem);
    const raw = w.clientConfig?.caBundle ?? '';
    const have = certsOf(Buffer.from(raw, 'base64').toString('utf8'));
    if (!raw) out.push("it has no caBundle: the API server cannot trust the verifier's certificate, so every call fails");
    else if (!want.some((c) => have.includes(c)))
      out.push("its caBundle is not the CA that signed the verifier's certificate, so every call fails TLS verification");
  }
  return out;
}

/**
 * The verdict over every webhook configuration: one webhook calling the service must judge the
 * namespace fully (rules, Fail, selectors, caBundle), and none calling it may cover an exempt namespace.
 */
export function judgeWebhooks(
  configs: WebhookConfig[],
  t: {
    service: { namespace: string; name: string };
    namespace: string;
    nsLabels: Labels;
    exempt: Record<string, Labels>;
    resource: string;
    operations: string[];
    caPem?: string;
    ephemeralContainers?: boolean;
  },
): { passed: boolean; message: string } {
  const svc = `${t.service.namespace}/${t.service.name}`;
  const calling = configs.flatMap((c) =>
    (c.webhooks ?? [])
      .filter((w) => w.clientConfig?.service?.namespace === t.service.namespace && w.clientConfig?.service?.name === t.service.name)
      .map((w) => ({ config: c.metadata?.name ?? '?', w })),
  );
  if (!calling.length)
    return {
      passed: false,
      message: `no ValidatingWebhookConfiguration calls Service ${svc} — nothing asks the verifier, so any image is admitted in ${t.namespace}`,
    };
  for (const { config, w } of calling) {
    for (const [ns, labels] of Object.entries(t.exempt)) {
      if (rulesCover(w.rules, t.resource, 'CREATE') && selectorMatches(w.namespaceSelector, labels)) {
        const why =
          ns === t.service.namespace
            ? "the verifier's own pods would need the verifier to be admitted, so after a restart it could never come back"
            : 'its pods are not signed, so they would be refused the next time they restart';
        return {
          passed: false,
          message: `ValidatingWebhookConfiguration ${config}, webhook ${w.name}, also covers namespace ${ns}: ${why} — scope the namespaceSelector to ${t.namespace}`,
        };
      }
    }
  }
  // kubectl debug may be judged by a webhook of its own (same verifier, same care): the pods one need not send it too.
  const fullyGuarded = (w: Webhook) => !webhookProblems(w, { ...t, operations: [], ephemeralContainers: false }).length;
  const ephemeralElsewhere =
    !!t.ephemeralContainers && calling.some((c) => rulesCover(c.w.rules, `${t.resource}/ephemeralcontainers`, 'UPDATE') && fullyGuarded(c.w));
  const judged = calling
    .map((c) => ({ ...c, problems: webhookProblems(c.w, { ...t, ephemeralContainers: t.ephemeralContainers && !ephemeralElsewhere }) }))
    .sort((a, b) => a.problems.length - b.problems.length);
  const best = judged[0];
  if (best.problems.length) return { passed: false, message: `ValidatingWebhookConfiguration ${best.config}, webhook ${best.w.name}: ${best.problems[0]}` };
  return {
    passed: true,
    message: `ValidatingWebhookConfiguration ${best.config} (webhook ${best.w.name}) sends every ${t.resource} ${t.operations.join('/')}${t.ephemeralContainers ? ` and ${t.resource}/ephemeralcontainers UPDATE` : ''} in ${t.namespace} to ${svc}, failurePolicy Fail, over TLS it can verify`,
  };
}

/** A validating admission webhook really enforces on a namespace (and leaves the exempt ones alone). */
export const validatingWebhook: CheckPrimitive<P> = {
  type: 'validatingWebhook',
  schema,
  watches: (p) => [
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration' },
    { apiVersion: 'v1', kind: 'Namespace' },
    ...(p.caBundleFrom ? [{ apiVersion: 'v1', kind: 'Secret', namespace: p.caBundleFrom.namespace }] : []),
  ],
  async run(ctx, p) {
    const labelsOf = async (name: string): Promise<Labels> =>
      (await ctx.cluster.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }))?.metadata?.labels ?? { 'kubernetes.io/metadata.name': name };
    let caPem: string | undefined;
    if (p.caBundleFrom) {
      const s: any = await ctx.cluster.read({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: p.caBundleFrom.secret, namespace: p.caBundleFrom.namespace },
      });
      const b64 = s?.data?.[p.caBundleFrom.key];
      if (!b64)
        return {
          passed: false,
          message: `Secret ${p.caBundleFrom.namespace}/${p.caBundleFrom.secret} has no ${p.caBundleFrom.key} — the verifier's CA is missing (a lesson reset puts it back)`,
        };
      caPem = Buffer.from(b64, 'base64').toString('utf8');
    }
    const configs = await ctx.cluster.list<WebhookConfig & { apiVersion: string; kind: string }>(
      'admissionregistration.k8s.io/v1',
      'ValidatingWebhookConfiguration',
    );
    const exempt = Object.fromEntries(await Promise.all(p.exempt.map(async (ns) => [ns, await labelsOf(ns)] as const)));
    return judgeWebhooks(configs, {
      service: p.service,
      namespace: p.namespace,
      nsLabels: await labelsOf(p.namespace),
      exempt,
      resource: p.resource,
      operations: p.operations,
      caPem,
      ephemeralContainers: p.ephemeralContainers,
    });
  },
};
