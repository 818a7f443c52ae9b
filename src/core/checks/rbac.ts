import { z } from 'zod';
import type { CheckPrimitive } from './types.js';

const schema = z
  .object({
    /** A user name, or `system:serviceaccount:<ns>:<name>` for a ServiceAccount. */
    as: z.string().optional(),
    groups: z.array(z.string()).optional(),
    verb: z.string(),
    resource: z.string(),
    group: z.string().optional(),
    subresource: z.string().optional(),
    namespace: z.string().optional(),
    name: z.string().optional(),
    expect: z.enum(['allow', 'deny']),
  })
  .strict()
  .refine((p) => p.as || p.groups?.length, { message: 'needs `as` (a user or ServiceAccount) or `groups`' });
type P = z.infer<typeof schema>;

function who(p: P): string {
  const sa = p.as?.match(/^system:serviceaccount:([^:]+):(.+)$/);
  const base = sa ? `ServiceAccount ${sa[1]}/${sa[2]}` : p.as ? `user ${p.as}` : `group ${p.groups![0]}`;
  return p.as && p.groups?.length ? `${base} (groups ${p.groups.join(', ')})` : base;
}

function what(p: P): string {
  const res = `${p.resource}${p.subresource ? `/${p.subresource}` : ''}${p.group ? `.${p.group}` : ''}${p.name ? ` ${p.name}` : ''}`;
  return `${p.verb} ${res} ${p.namespace ? `in namespace ${p.namespace}` : 'cluster-wide'}`;
}

/** RBAC decided by the API server itself: a SubjectAccessReview for the subject and request. */
export const rbac: CheckPrimitive<P> = {
  type: 'rbac',
  schema,
  watches: () => [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
  ],
  scope: () => ({ namespaces: [] }),
  async run(ctx, p) {
    await ctx.cluster.guard.ensure();
    const sa = p.as?.match(/^system:serviceaccount:([^:]+):(.+)$/);
    const groups = [...(p.groups ?? [])];
    if (sa) groups.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
    if (p.as && p.as !== 'system:anonymous') groups.push('system:authenticated');
    const res = await ctx.cluster.authz.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: p.as,
          groups: [...new Set(groups)],
          resourceAttributes: { verb: p.verb, resource: p.resource, group: p.group ?? '', subresource: p.subresource, namespace: p.namespace, name: p.name },
        },
      },
    });
    const allowed = !!res.status?.allowed;
    const reason = res.status?.reason ? ` (${res.status.reason.replace(/\.$/, '')})` : '';
    const passed = allowed === (p.expect === 'allow');
    const message = allowed ? `${who(p)} can ${what(p)}${reason}` : `${who(p)} cannot ${what(p)}`;
    return { passed, message };
  },
};
