import type { CheckContext } from '../types.js';
import type { Claimant, Variant } from './types.js';
import { accessReview } from '../../rbac/cluster.js';

/**
 * The labels and annotations the cluster's admission rules single out. A policy, binding or webhook
 * that skips objects by a label ("not for the legacy jobs") is an exception anyone who may create
 * the object can claim: they label theirs. The battery cannot guess such a label, so it reads the
 * rules — objectSelectors (NotIn, DoesNotExist) and the CEL of matchConditions, validations and
 * variables — and tries each variant of X again wearing every label and annotation they name.
 */
export interface Bait {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

const KEY = String.raw`["']([^"'\\]+)["']`;
/** `labels['k'] == 'v'`, `labels['k'] != 'v'`, `labels["k"]`. */
const INDEXED = new RegExp(String.raw`metadata\.(labels|annotations)\[${KEY}\](?:\s*[!=]=\s*${KEY})?`, 'g');
/** `'k' in object.metadata.labels`. */
const IN = new RegExp(String.raw`${KEY}\s+in\s+(?:object|oldObject)\.metadata\.(labels|annotations)`, 'g');
/** `object.metadata.labels.k == 'v'` (a key CEL can write as a field). */
const FIELD = new RegExp(String.raw`metadata\.(labels|annotations)\.([A-Za-z_][A-Za-z0-9_]*)(?:\s*[!=]=\s*${KEY})?`, 'g');

/** The bait in one CEL expression. */
export function baitInExpression(expr: string, into: Bait): void {
  const found: [where: string, key: string, value: string | undefined][] = [
    ...[...expr.matchAll(INDEXED)].map((m): [string, string, string | undefined] => [m[1], m[2], m[3]]),
    ...[...expr.matchAll(IN)].map((m): [string, string, string | undefined] => [m[2], m[1], undefined]),
    ...[...expr.matchAll(FIELD)].map((m): [string, string, string | undefined] => [m[1], m[2], m[3]]),
  ];
  // A value the expression compares with first (`labels.tier == 'batch'`), then bare mentions (`has(labels.tier)`).
  for (const [where, key, value] of [...found.filter((f) => f[2] !== undefined), ...found.filter((f) => f[2] === undefined)]) {
    const map = where === 'annotations' ? into.annotations : into.labels;
    if (!(key in map)) map[key] = value ?? 'true';
  }
}

/** The labels that take an object out of a selector's reach (a selector matching only labelled objects is beaten by no label at all). */
export function baitInSelector(sel: Selector | undefined, into: Bait): void {
  for (const e of sel?.matchExpressions ?? []) {
    if (e.key in into.labels) continue;
    if (e.operator === 'NotIn' && e.values?.length) into.labels[e.key] = e.values[0];
    if (e.operator === 'DoesNotExist') into.labels[e.key] = 'true';
  }
}

function expressions(o: any): string[] {
  const s = o?.spec ?? {};
  return [
    ...(s.matchConditions ?? []).map((c: any) => c.expression),
    ...(s.validations ?? []).flatMap((v: any) => [v.expression]),
    ...(s.variables ?? []).map((v: any) => v.expression),
    ...(s.auditAnnotations ?? []).map((a: any) => a.valueExpression),
  ].filter((e): e is string => typeof e === 'string');
}

/** Every label and annotation the cluster's validating admission rules name. */
export async function admissionBait(ctx: CheckContext): Promise<Bait> {
  const bait: Bait = { labels: {}, annotations: {} };
  const list = (kind: string) => ctx.cluster.list<any>('admissionregistration.k8s.io/v1', kind).catch(() => [] as any[]);
  const [policies, bindings, webhooks] = await Promise.all([
    list('ValidatingAdmissionPolicy'),
    list('ValidatingAdmissionPolicyBinding'),
    list('ValidatingWebhookConfiguration'),
  ]);
  for (const p of policies) {
    for (const e of expressions(p)) baitInExpression(e, bait);
    baitInSelector(p.spec?.matchConstraints?.objectSelector, bait);
  }
  for (const b of bindings) baitInSelector(b.spec?.matchResources?.objectSelector, bait);
  for (const c of webhooks)
    for (const w of c.webhooks ?? []) {
      baitInSelector(w.objectSelector, bait);
      for (const m of w.matchConditions ?? []) if (typeof m.expression === 'string') baitInExpression(m.expression, bait);
    }
  return bait;
}

/** Each created variant of X again, wearing the bait (none when no rule names a label). */
export function baitedVariants(variants: Variant[], bait: Bait): Variant[] {
  const labels = Object.entries(bait.labels);
  const annotations = Object.entries(bait.annotations);
  if (!labels.length && !annotations.length) return [];
  const what = [...labels.map(([k, v]) => `label ${k}=${v}`), ...annotations.map(([k, v]) => `annotation ${k}=${v}`)].join(', ');
  return variants
    .filter((v) => v.expect === 'rejected' && 'create' in v.try)
    .map((v) => {
      const obj = structuredClone((v.try as { create: any }).create);
      obj.metadata = {
        ...obj.metadata,
        labels: { ...obj.metadata?.labels, ...bait.labels },
        annotations: { ...obj.metadata?.annotations, ...bait.annotations },
      };
      return {
        ...v,
        id: `${v.id}+exception`,
        describe: `${v.describe}, wearing the ${what} an admission rule makes an exception of`,
        outside: false,
        try: { create: obj },
      };
    });
}

const SA_GROUPS = (ns: string) => ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'];

/**
 * The controllers that create pods for anyone who may create a workload (the controller-manager
 * acts as one ServiceAccount per controller). A rule that lets their pods through — by name, by the
 * kube-system ServiceAccounts' group, by a `system:` prefix — admits X to everyone with a Deployment.
 */
export const POD_CREATORS: Claimant[] = (
  [
    ['replicaset-controller', "the ReplicaSet controller (it creates the pods of anyone's Deployment)"],
    ['job-controller', "the Job controller (it creates the pods of anyone's Job or CronJob)"],
    ['daemon-set-controller', "the DaemonSet controller (it creates the pods of anyone's DaemonSet)"],
    ['statefulset-controller', "the StatefulSet controller (it creates the pods of anyone's StatefulSet)"],
  ] as const
).map(([name, who]) => ({ subject: { user: `system:serviceaccount:kube-system:${name}`, groups: SA_GROUPS('kube-system') }, who, podsOnly: true }));

/** Who a user name is: a ServiceAccount's groups for a ServiceAccount, else authenticated only. */
function userClaimant(user: string, why: string): Claimant {
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
  return { subject: { user, groups: sa ? SA_GROUPS(sa[1]) : ['system:authenticated'] }, who: `${user} (${why})` };
}

const PROBE_USER = 'kube-seclab-exception-probe';
const USERNAME = String.raw`request\.userInfo\.username`;
const GROUPS = String.raw`request\.userInfo\.groups`;
const USER_EQ = new RegExp(String.raw`${USERNAME}\s*[!=]=\s*${KEY}|${KEY}\s*[!=]=\s*${USERNAME}`, 'g');
const USER_IN = new RegExp(String.raw`${USERNAME}\s+in\s+\[([^\]]*)\]`, 'g');
const USER_PREFIX = new RegExp(String.raw`${USERNAME}\.startsWith\(\s*${KEY}\s*\)`, 'g');
const GROUP_IN = new RegExp(String.raw`${KEY}\s+in\s+${GROUPS}`, 'g');
const GROUP_EXISTS = new RegExp(String.raw`${GROUPS}\.exists(?:_one)?\(\s*(\w+)\s*,\s*\1\s*(==|\.startsWith\()\s*${KEY}`, 'g');
const QUOTED = new RegExp(KEY, 'g');

/** The identities one CEL expression singles out (users by name or prefix, groups by name or prefix). */
export function claimantsInExpression(expr: string): Claimant[] {
  const out: Claimant[] = [];
  for (const m of expr.matchAll(USER_EQ)) out.push(userClaimant(m[1] ?? m[2], 'a user an admission rule names'));
  for (const m of expr.matchAll(USER_IN)) for (const q of m[1].matchAll(QUOTED)) out.push(userClaimant(q[1], 'a user an admission rule names'));
  for (const m of expr.matchAll(USER_PREFIX))
    out.push(userClaimant(`${m[1]}${m[1].endsWith(':') ? '' : ':'}${PROBE_USER}`, `a user name an admission rule singles out by its prefix ${m[1]}`));
  const group = (g: string, why: string) =>
    out.push({ subject: { user: PROBE_USER, groups: [g, 'system:authenticated'] }, who: `a member of group ${g} (${why})` });
  for (const m of expr.matchAll(GROUP_IN)) group(m[1], 'a group an admission rule names');
  for (const m of expr.matchAll(GROUP_EXISTS))
    if (m[2] === '==') group(m[3], 'a group an admission rule names');
    else group(`${m[3]}${PROBE_USER}`, `a group an admission rule singles out by its prefix ${m[3]}`);
  return out;
}

/**
 * The identities the cluster's validating admission rules could make an exception of: the pod-creating
 * controllers always (a webhook's backend may decide by user where no selector shows it), and every
 * user and group the CEL of a policy or a webhook's matchConditions names. Those already above the
 * rules — who may change the policy bindings and webhook configurations, system:masters among them —
 * are left out: an exception gives them nothing they do not have. None on a shared cluster, where
 * the lab may not act as anyone else.
 */
export async function admissionClaimants(ctx: CheckContext): Promise<Claimant[]> {
  if (ctx.cluster.rename.active) return [];
  const list = (kind: string) => ctx.cluster.list<any>('admissionregistration.k8s.io/v1', kind).catch(() => [] as any[]);
  const [policies, webhooks] = await Promise.all([list('ValidatingAdmissionPolicy'), list('ValidatingWebhookConfiguration')]);
  const named: Claimant[] = [];
  for (const p of policies) for (const e of expressions(p)) named.push(...claimantsInExpression(e));
  for (const c of webhooks)
    for (const w of c.webhooks ?? [])
      for (const m of w.matchConditions ?? []) if (typeof m.expression === 'string') named.push(...claimantsInExpression(m.expression));
  const seen = new Set<string>();
  const unique = [...POD_CREATORS, ...named].filter((c) => {
    const k = `${c.subject.user}|${c.subject.groups.join(',')}`;
    return !seen.has(k) && seen.add(k);
  });
  const above = await Promise.all(
    unique.map(async (c) => {
      if (c.subject.groups.includes('system:masters')) return true;
      const may = (resource: string) =>
        accessReview(ctx.cluster, c.subject, { verb: 'update', group: 'admissionregistration.k8s.io', resource }).then((r) => r.allowed);
      return (await may('validatingadmissionpolicybindings')) && (await may('validatingwebhookconfigurations'));
    }),
  );
  return unique.filter((_, i) => !above[i]);
}

/** Each created variant of X again, created as each claimant (pods only, for a controller). */
export function claimedVariants(variants: Variant[], claimants: Claimant[]): Variant[] {
  return variants
    .filter((v) => v.expect === 'rejected' && 'create' in v.try && !v.as)
    .flatMap((v) =>
      claimants
        .filter((c) => !c.podsOnly || (v.try as { create: { kind?: string } }).create.kind === 'Pod')
        .map((c) => ({
          ...v,
          id: `${v.id}+as:${c.subject.user}`,
          describe: `${v.describe}, created by ${c.who}`,
          outside: false,
          as: c,
        })),
    );
}
