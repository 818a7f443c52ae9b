import { z } from 'zod';
import type { CheckPrimitive } from './types.js';
import { loadAttack, type Attack } from '../attacks/loader.js';
import { runAttack } from '../attacks/runner.js';
import { UserError, ClusterUnreachableError } from '../errors.js';

const schema = z.object({}).strict();

const cache = new Map<string, Promise<Attack | undefined>>();
async function attackOf(lessonDir: string): Promise<Attack> {
  if (!cache.has(lessonDir))
    cache.set(
      lessonDir,
      loadAttack(lessonDir, lessonDir).then((r) => r.attack),
    );
  const a = await cache.get(lessonDir)!;
  if (!a) throw new UserError(`the lesson in ${lessonDir} has no valid attack/attack.yaml`);
  return a;
}

/**
 * The strongest check there is: the lesson's own attack (attack/attack.yaml) run against the cluster
 * as it is — it passes only when no goal step of the attack works any more.
 */
export const attack: CheckPrimitive<z.infer<typeof schema>> = {
  type: 'attack',
  schema,
  timeoutMs: () => 180_000,
  watches: () => [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    { apiVersion: 'v1', kind: 'Namespace' },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding' },
  ],
  async run(ctx) {
    const a = await attackOf(ctx.lessonDir);
    const r = await runAttack(ctx, a);
    if (r.succeeded) return { passed: false, message: `the attack still works — ${r.summary}` };
    if (r.skipped) {
      // Nothing proved the attack fails: a goal step could not run (the cluster stopped answering, an error) or needs kind.
      throw /cluster unreachable|no answer within/i.test(r.skipped)
        ? new ClusterUnreachableError(r.skipped.replace(/^cluster unreachable: /, ''))
        : new UserError(`the attack could not run here: ${r.skipped}`);
    }
    return { passed: true, message: `the attack fails — ${r.summary.replace(/^stopped: /, 'stopped at ')}` };
  },
};
