import { z } from 'zod';

const stepId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes');

/** The fixed part of an attack step; the rest is exactly one `<kind>: {params}`. */
export const attackStepBaseSchema = z.object({
  id: stepId,
  /** What the attacker tries, in their words ("List every Secret with the stolen token"). */
  try: z.string().min(1),
  /** Steps whose success this one builds on: it is skipped when one of them did not succeed. */
  needs: z.array(stepId).default([]),
  /** What success gives the attacker next. */
  next: z.string().optional(),
  /** What stopped the attacker when it fails (default: what the request got). */
  blocked: z.string().optional(),
  /**
   * The engines this step runs on (as a check's `engines`), when it means something only on some:
   * etcd's client port reached from this machine exists on local, a pod on the node's network on kind.
   * Elsewhere it is shown as skipped and judges nothing.
   */
  engines: z
    .array(z.enum(['local', 'kind']))
    .min(1)
    .optional(),
});

/** lessons/<…>/attack/attack.yaml */
export const attackFileSchema = z
  .object({
    title: z.string().min(1),
    /** Where the attacker starts (a shell in a pod, a laptop on the network…). */
    story: z.string().min(1),
    /** The lesson objective the attack-fails check belongs to (default: the lesson's first). */
    objective: z.string().optional(),
    /** The steps whose success means the attack worked (default: the last step). */
    goal: z.array(stepId).min(1).optional(),
    steps: z.array(z.record(z.string(), z.unknown())).min(1),
  })
  .strict();
export type AttackFile = z.infer<typeof attackFileSchema>;
