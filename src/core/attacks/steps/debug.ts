import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import type { AttackStepKind } from '../types.js';
import { runningPods, workloadRefSchema } from '../pods.js';
import { UserError } from '../../errors.js';

const schema = z
  .object({
    /** The workload whose running pod gets the debug container. */
    workload: workloadRefSchema,
    /** The ephemeral container the attacker adds (`kubectl debug --image=…`). */
    container: z
      .object({
        name: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]*$/)
          .max(50)
          .default('debugger'),
        image: z.string(),
        command: z.array(z.string()).optional(),
        /** Share the process namespace of one of the pod's containers (`kubectl debug --target`). */
        targetContainerName: z.string().optional(),
        securityContext: z.record(z.string(), z.unknown()).optional(),
      })
      .strict(),
  })
  .strict();
type P = z.infer<typeof schema>;

/**
 * `kubectl debug`: an ephemeral container with an image of the attacker's choice added to the
 * workload's running pod — an UPDATE of its pods/ephemeralcontainers subresource, a different door
 * from creating a pod that admission rules often forget. A server-side dry run: an ephemeral
 * container cannot be removed from a pod, so nothing is added. Success = it would have been admitted.
 * The API server failing, a conflicting update or the pod vanishing under the request is no defence:
 * the step errors (the attack says nothing) rather than reading as "refused".
 */
export const debug: AttackStepKind<P> = {
  type: 'debug',
  schema,
  async run(ctx, p) {
    const { pods, why } = await runningPods(ctx, p.workload);
    if (!pods.length) return { succeeded: false, message: `no pod to attach a debug container to: ${why ?? 'none running'}` };
    const pod = pods[0];
    const c = { ...p.container, name: `${p.container.name}-${randomBytes(3).toString('hex')}`, stdin: true, tty: true };
    const r = await ctx.cluster.dryRunEphemeral(pod, c);
    const what = `kubectl debug ${pod.metadata.name} --image=${p.container.image}${p.container.targetContainerName ? ` --target=${p.container.targetContainerName}` : ''}`;
    if (r.allowed) return { succeeded: true, message: `${what}: the ephemeral container would be admitted (dry run)` };
    if (r.code === undefined || r.code >= 500 || r.code === 429 || r.code === 409 || r.code === 404) {
      throw new UserError(`${what}: no admission decision (${r.code ?? 'no status'}): ${r.message.split('\n')[0].slice(0, 200)}`);
    }
    return { succeeded: false, message: `${what} is refused: ${r.message.split('\n')[0].slice(0, 240)}` };
  },
};
