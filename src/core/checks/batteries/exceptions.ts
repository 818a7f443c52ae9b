import type { CheckContext } from '../types.js';
import type { Variant } from './types.js';

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
