import { z } from 'zod';
import type { AttackStepKind } from '../types.js';
import { loadObjects, describe } from '../../checks/files.js';
import { UserError } from '../../errors.js';

const schema = z
  .object({
    /** The object the attacker tries to create (inline), or a file of the attack folder. */
    manifest: z.record(z.string(), z.unknown()).optional(),
    file: z.string().optional(),
    /** Its namespace (default: the manifest's). */
    namespace: z.string().optional(),
  })
  .strict()
  .refine((p) => !!p.manifest !== !!p.file, { message: 'needs exactly one of `manifest` or `file`' });
type P = z.infer<typeof schema>;

/**
 * Get a dangerous object past admission (a privileged pod, a NodePort, an unsigned image): a
 * server-side dry run through every admission plugin, policy and webhook — nothing is stored.
 * Success = it would have been admitted.
 */
export const admission: AttackStepKind<P> = {
  type: 'admission',
  schema,
  async run(ctx, p) {
    const [obj] = await loadObjects(`${ctx.lessonDir}/attack`, p);
    const o = ctx.cluster.rename.value(structuredClone(obj));
    if (p.namespace) o.metadata = { ...o.metadata, namespace: ctx.cluster.rename.ns(p.namespace) };
    const r = await ctx.cluster.dryRunCreate(o);
    const what = describe(o);
    if (r.allowed)
      return { succeeded: true, message: `${what} would be admitted (dry run)${r.warnings.length ? ` — with warnings only: ${r.warnings[0]}` : ''}` };
    // The API server failing (a webhook it could not call, say) or too busy is no defence: no decision, the attack says nothing.
    if (r.code !== undefined && (r.code >= 500 || r.code === 429))
      throw new UserError(`${what}: no admission decision (${r.code}): ${r.message.split('\n')[0].slice(0, 200)}`);
    return { succeeded: false, message: `${what} is refused: ${r.message}` };
  },
};
