import { z } from 'zod';

/**
 * A small path language for object assertions: `spec.template.spec.containers[*].image`,
 * `spec.ports[0].port`, `rules[*].verbs`, `containers[name=app].securityContext`,
 * `metadata.labels["pod-security.kubernetes.io/enforce"]`. Returns every value the path reaches.
 */
export function select(obj: unknown, path: string): unknown[] {
  const tokens = tokenize(path);
  let cur: unknown[] = [obj];
  for (const t of tokens) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || v === undefined) continue;
      if (t.kind === 'key') {
        const x = (v as Record<string, unknown>)[t.key];
        if (x !== undefined) next.push(x);
      } else if (t.kind === 'all') {
        if (Array.isArray(v)) next.push(...v);
        else if (typeof v === 'object') next.push(...Object.values(v as object));
      } else if (t.kind === 'index') {
        if (Array.isArray(v) && v[t.index] !== undefined) next.push(v[t.index]);
      } else if (t.kind === 'filter') {
        if (Array.isArray(v)) next.push(...v.filter((e) => e && String((e as Record<string, unknown>)[t.key]) === t.value));
      }
    }
    cur = next;
  }
  return cur;
}

type Token = { kind: 'key'; key: string } | { kind: 'all' } | { kind: 'index'; index: number } | { kind: 'filter'; key: string; value: string };

function tokenize(path: string): Token[] {
  const out: Token[] = [];
  const re = /([^.[\]]+)|\[(\*|\d+|"[^"]*"|'[^']*'|[^\]=]+=[^\]]*)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path))) {
    if (m[1] !== undefined) {
      out.push({ kind: 'key', key: m[1] });
      continue;
    }
    const inner = m[2];
    if (inner === '*') out.push({ kind: 'all' });
    else if (/^\d+$/.test(inner)) out.push({ kind: 'index', index: Number(inner) });
    else if (/^["']/.test(inner)) out.push({ kind: 'key', key: inner.slice(1, -1) });
    else {
      const eq = inner.indexOf('=');
      out.push({ kind: 'filter', key: inner.slice(0, eq), value: inner.slice(eq + 1).replace(/^["']|["']$/g, '') });
    }
  }
  return out;
}

/** A condition on the values a path reaches. Exactly one operator. */
export const conditionSchema = z
  .object({
    path: z.string().min(1),
    equals: z.unknown().optional(),
    notEquals: z.unknown().optional(),
    oneOf: z.array(z.unknown()).optional(),
    exists: z.boolean().optional(),
    contains: z.unknown().optional(),
    notContains: z.unknown().optional(),
    matches: z.string().optional(),
    notMatches: z.string().optional(),
    /** `all` (default): every value reached must satisfy it; `any`: at least one. */
    quantifier: z.enum(['all', 'any']).optional(),
    /** Said when the condition fails (else a generated line). */
    message: z.string().optional(),
  })
  .strict();
export type Condition = z.infer<typeof conditionSchema>;

function eq(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b) || (typeof a !== 'object' && typeof b !== 'object' && String(a) === String(b));
}

function has(container: unknown, item: unknown): boolean {
  if (Array.isArray(container)) return container.some((c) => eq(c, item));
  if (typeof container === 'string') return container.includes(String(item));
  return false;
}

/** Evaluate a condition; returns undefined when it holds, else a one-line reason. */
export function evaluate(obj: unknown, c: Condition): string | undefined {
  const values = select(obj, c.path);
  const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
  if (c.exists !== undefined) {
    const ok = c.exists ? values.length > 0 : values.length === 0;
    return ok ? undefined : (c.message ?? (c.exists ? `${c.path} is not set` : `${c.path} is set (${show(values[0])})`));
  }
  const test = (v: unknown): boolean => {
    if ('equals' in c && c.equals !== undefined) return eq(v, c.equals);
    if (c.notEquals !== undefined) return !eq(v, c.notEquals);
    if (c.oneOf) return c.oneOf.some((o) => eq(v, o));
    if (c.contains !== undefined) return has(v, c.contains);
    if (c.notContains !== undefined) return !has(v, c.notContains);
    if (c.matches) return new RegExp(c.matches).test(String(v));
    if (c.notMatches) return !new RegExp(c.notMatches).test(String(v));
    return true;
  };
  const negativeOk = c.notEquals !== undefined || c.notContains !== undefined || c.notMatches !== undefined;
  if (values.length === 0) {
    return negativeOk ? undefined : (c.message ?? `${c.path} is not set`);
  }
  const failing = values.filter((v) => !test(v));
  const ok = (c.quantifier ?? 'all') === 'all' ? failing.length === 0 : failing.length < values.length;
  if (ok) return undefined;
  if (c.message) return c.message;
  const want =
    c.equals !== undefined
      ? `should be ${show(c.equals)}`
      : c.notEquals !== undefined
        ? `should not be ${show(c.notEquals)}`
        : c.oneOf
          ? `should be one of ${show(c.oneOf)}`
          : c.contains !== undefined
            ? `should contain ${show(c.contains)}`
            : c.notContains !== undefined
              ? `should not contain ${show(c.notContains)}`
              : c.matches
                ? `should match /${c.matches}/`
                : `should not match /${c.notMatches}/`;
  return `${c.path} is ${show(failing[0])}, ${want}`;
}
