import { z } from 'zod';
import { request } from 'node:https';
import type { CheckPrimitive } from './types.js';

const schema = z
  .object({
    path: z.string().startsWith('/'),
    /** The request must get one of these statuses… */
    status: z.array(z.number().int()).optional(),
    /** …or must not get this one. */
    notStatus: z.number().int().optional(),
  })
  .strict()
  .refine((p) => p.status || p.notStatus !== undefined, { message: 'needs `status` or `notStatus`' });
type P = z.infer<typeof schema>;

function get(url: string, ca: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, rejectUnauthorized: !!ca, timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** What the API server answers someone with no credentials at all (no token, no client certificate). */
export const unauthenticated: CheckPrimitive<P> = {
  type: 'unauthenticated',
  schema,
  watches: () => [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  ],
  async run(ctx, p) {
    const cluster = ctx.cluster.kc.getCurrentCluster();
    if (!cluster) throw new Error('the lab kubeconfig has no cluster');
    const ca = cluster.caData ? Buffer.from(cluster.caData, 'base64').toString() : undefined;
    const code = await get(new URL(p.path, cluster.server).toString(), ca);
    const ok = p.status ? p.status.includes(code) : code !== p.notStatus;
    const what = `an anonymous GET ${p.path} gets HTTP ${code}`;
    return { passed: ok, message: ok ? what : `${what}${p.status ? ` (should be ${p.status.join(' or ')})` : ''}` };
  },
};
