import { z } from 'zod';
import type { CheckPrimitive } from './types.js';
import { conditionSchema, evaluate } from './path.js';
import { describe } from './files.js';

const ref = {
  apiVersion: z.string(),
  kind: z.string(),
  namespace: z.string().optional(),
};

const objectSchema = z
  .object({
    ...ref,
    name: z.string(),
    /** false: the object must not exist. */
    exists: z.boolean().optional(),
    assert: z.array(conditionSchema).optional(),
  })
  .strict();

/** Field assertions on one object. */
export const object: CheckPrimitive<z.infer<typeof objectSchema>> = {
  type: 'object',
  schema: objectSchema,
  watches: (p) => [{ apiVersion: p.apiVersion, kind: p.kind, namespace: p.namespace }],
  scope: (p) =>
    p.kind === 'Namespace' ? { namespaces: [p.name] } : p.namespace ? { namespaces: [p.namespace] } : `reads the cluster-scoped ${p.kind} ${p.name}`,
  async run(ctx, p) {
    const name = describe({ kind: p.kind, metadata: { name: p.name, namespace: p.namespace } });
    const obj = await ctx.cluster.read({ apiVersion: p.apiVersion, kind: p.kind, metadata: { name: p.name, namespace: p.namespace } });
    if (p.exists === false) return obj ? { passed: false, message: `${name} still exists` } : { passed: true, message: `${name} is gone` };
    if (!obj) return { passed: false, message: `${name} not found` };
    for (const c of p.assert ?? []) {
      const why = evaluate(obj, c);
      if (why) return { passed: false, message: `${name}: ${why}` };
    }
    return { passed: true, message: `${name} is as it should be` };
  },
};

const objectsSchema = z
  .object({
    ...ref,
    labelSelector: z.string().optional(),
    /** Only the objects matching every condition count (conditions use quantifier `any` by default here). */
    where: z.array(conditionSchema).optional(),
    /** Bounds on how many objects match. */
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    /** What the matching objects are, for the message (e.g. "NodePort Service"). */
    describe: z.string().optional(),
  })
  .strict();

/** Count objects that match conditions: "no Service of type NodePort left in shop". */
export const objects: CheckPrimitive<z.infer<typeof objectsSchema>> = {
  type: 'objects',
  schema: objectsSchema,
  watches: (p) => [{ apiVersion: p.apiVersion, kind: p.kind, namespace: p.namespace }],
  scope: (p) => (p.namespace ? { namespaces: [p.namespace] } : `lists ${p.kind} objects cluster-wide`),
  async run(ctx, p) {
    const items = await ctx.cluster.list(p.apiVersion, p.kind, p.namespace, p.labelSelector);
    const matching = items.filter((o) => (p.where ?? []).every((c) => !evaluate(o, { quantifier: 'any', ...c })));
    const what = p.describe ?? p.kind;
    const where = p.namespace ? ` in namespace ${p.namespace}` : '';
    const names =
      matching
        .slice(0, 3)
        .map((o) => o.metadata?.name)
        .join(', ') + (matching.length > 3 ? ', …' : '');
    if (p.max !== undefined && matching.length > p.max) {
      return {
        passed: false,
        message:
          p.max === 0
            ? `${matching.length} ${what}${matching.length > 1 ? 's' : ''} left${where}: ${names}`
            : `${matching.length} ${what}s${where} (at most ${p.max}): ${names}`,
      };
    }
    if (p.min !== undefined && matching.length < p.min) {
      return { passed: false, message: `${matching.length ? `only ${matching.length}` : 'no'} ${what}${where}${p.min > 1 ? ` (need ${p.min})` : ''}` };
    }
    return {
      passed: true,
      message: p.max === 0 ? `no ${what}${where}` : `${matching.length} ${what}${matching.length === 1 ? '' : 's'}${where}${names ? `: ${names}` : ''}`,
    };
  },
};
