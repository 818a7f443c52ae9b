import { describe, it, expect } from 'vitest';
import {
  covers,
  atomsOf,
  subjectOf,
  directGrants,
  reach,
  beyond,
  implications,
  baselineRules,
  describeGrant,
  type Snapshot,
  type AllowRule,
} from '../../src/core/rbac/model.js';

const G = 'rbac.authorization.k8s.io';
const snap = (over: Partial<Snapshot> = {}): Snapshot => ({
  roles: [],
  clusterRoles: [],
  roleBindings: [],
  clusterRoleBindings: [],
  namespaces: ['shop', 'default', 'analytics'],
  secrets: {},
  serviceAccounts: {},
  pods: {},
  ...over,
});
const rb = (ns: string, name: string, roleRef: { kind: string; name: string }, subjects: object[]) =>
  ({ metadata: { name, namespace: ns }, roleRef: { apiGroup: G, ...roleRef }, subjects }) as any;
const crb = (name: string, role: string, subjects: object[]) =>
  ({ metadata: { name }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: role }, subjects }) as any;
const SA = { kind: 'ServiceAccount', name: 'api', namespace: 'shop' };
const api = subjectOf('system:serviceaccount:shop:api');
const readConfig: AllowRule[] = [{ namespace: 'shop', resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }];

describe('RBAC rule coverage', () => {
  it("covers as the API server's escalation check does: wildcards only by wildcards, names, subresources, namespaces", () => {
    const a = atomsOf({ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }, 'shop');
    expect(a).toHaveLength(2);
    expect(a.every((x) => covers(readConfig[0], x))).toBe(true);
    expect(covers(readConfig[0], { verb: 'get', group: '', resource: 'configmaps', namespace: 'default' })).toBe(false);
    expect(covers(readConfig[0], { verb: '*', group: '', resource: 'configmaps', namespace: 'shop' })).toBe(false);
    expect(covers(readConfig[0], { verb: 'get', group: '', resource: 'configmaps', namespace: '*' })).toBe(false);
    const named: AllowRule = { namespace: 'p', resources: ['secrets'], resourceNames: ['mine'], verbs: ['get'] };
    expect(covers(named, { verb: 'get', group: '', resource: 'secrets', name: 'mine', namespace: 'p' })).toBe(true);
    expect(covers(named, { verb: 'get', group: '', resource: 'secrets', namespace: 'p' })).toBe(false);
    expect(covers({ resources: ['*/log'], verbs: ['get'] }, { verb: 'get', group: '', resource: 'pods/log', namespace: 'x' })).toBe(true);
    expect(covers({ nonResourceURLs: ['/api/*'], verbs: ['get'] }, { verb: 'get', url: '/api/v1', namespace: '*' })).toBe(true);
  });
});

describe('effective permissions', () => {
  it('finds grants through another namespace, a ClusterRoleBinding, groups and aggregated ClusterRoles, naming binding and role', () => {
    const s = snap({
      roles: [{ metadata: { name: 'r', namespace: 'default' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] }],
      clusterRoles: [
        { metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] }, rules: [] },
        { metadata: { name: 'part', labels: { x: 'y' } }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['create'] }] },
        { metadata: { name: 'nodes' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }] },
      ],
      roleBindings: [
        rb('default', 'other-ns', { kind: 'Role', name: 'r' }, [SA]),
        rb('shop', 'aggregated', { kind: 'ClusterRole', name: 'agg' }, [{ kind: 'Group', name: 'system:serviceaccounts:shop' }]),
      ],
      clusterRoleBindings: [crb('everyone', 'nodes', [{ kind: 'Group', name: 'system:authenticated' }])],
    });
    const g = directGrants(s, api);
    const text = g.map(describeGrant).join('\n');
    expect(text).toContain('get secrets in namespace default — RoleBinding default/other-ns → Role r');
    expect(text).toContain(
      'create pods in namespace shop [pod creation] — RoleBinding shop/aggregated → ClusterRole agg (aggregating part), for group system:serviceaccounts:shop',
    );
    expect(text).toContain('list nodes cluster-wide — ClusterRoleBinding everyone → ClusterRole nodes, for group system:authenticated');
    expect(beyond(reach(s, api), readConfig)).not.toHaveLength(0);
  });

  it("a ServiceAccount subject without a namespace in a RoleBinding is the binding's namespace", () => {
    const s = snap({
      roles: [{ metadata: { name: 'r', namespace: 'shop' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }] }],
      roleBindings: [rb('shop', 'b', { kind: 'Role', name: 'r' }, [{ kind: 'ServiceAccount', name: 'api' }])],
    });
    expect(directGrants(s, api)).toHaveLength(3);
    expect(beyond(reach(s, api), readConfig)).toEqual([]);
  });

  it('the built-in baseline depends on who asks: the anonymous user gets only the public info paths', () => {
    const anon = subjectOf('system:anonymous');
    expect(anon.groups).toEqual(['system:unauthenticated']);
    expect(baselineRules(anon).flatMap((r) => r.nonResourceURLs ?? [])).not.toContain('/api');
    expect(baselineRules(subjectOf('x@example.com')).some((r) => r.resources?.includes('selfsubjectaccessreviews'))).toBe(true);
  });
});

describe('the escalation battery', () => {
  const teamRole = {
    metadata: { name: 'jobs', namespace: 'analytics' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] }],
  };
  const team = subjectOf('ana@example.com', ['data-team']);
  const teamAllow: AllowRule[] = [{ namespace: 'analytics', resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] }];
  const base = {
    roles: [teamRole],
    roleBindings: [rb('analytics', 'jobs', { kind: 'Role', name: 'jobs' }, [{ kind: 'Group', name: 'data-team' }])],
    serviceAccounts: { analytics: ['default'] },
  };

  it('pod creation in a namespace reaches every Secret there: the team keeps create pods where a Secret lives', () => {
    const s = snap({ ...base, secrets: { analytics: ['warehouse-credentials'] } });
    const extra = beyond(reach(s, team), teamAllow);
    expect(extra.map(describeGrant).join('\n')).toMatch(
      /get secrets warehouse-credentials in namespace analytics — create pods in namespace analytics \(a pod that mounts it\)/,
    );
    // the Secret moved out: nothing beyond
    expect(beyond(reach(snap(base), team), teamAllow)).toEqual([]);
    // …or admission shown to refuse the route
    expect(beyond(reach(s, team), teamAllow, (i) => 'secret' in i.target)).toEqual([]);
  });

  it('pod creation acts as every ServiceAccount of the namespace, with all it may do', () => {
    const s = snap({
      ...base,
      serviceAccounts: { analytics: ['default', 'loader'] },
      clusterRoles: [{ metadata: { name: 'admin' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] }],
      clusterRoleBindings: [crb('loader-admin', 'admin', [{ kind: 'ServiceAccount', name: 'loader', namespace: 'analytics' }])],
    });
    const text = beyond(reach(s, team), teamAllow).map(describeGrant).join('\n');
    expect(text).toContain(
      'every verb on every resource cluster-wide [everything] — as ServiceAccount analytics/loader, through create pods in namespace analytics (a pod that runs as it); granted by ClusterRoleBinding loader-admin',
    );
  });

  it('bind + RoleBinding creation, impersonation, token minting and workload control are paths too', () => {
    const rules = (r: object[]) =>
      snap({
        roles: [{ metadata: { name: 'x', namespace: 'shop' }, rules: r as any }],
        roleBindings: [rb('shop', 'x', { kind: 'Role', name: 'x' }, [SA])],
        serviceAccounts: { shop: ['api', 'admin-sa'] },
        secrets: { shop: ['payment-gateway'] },
      });
    const kinds = (s: Snapshot) =>
      implications(s, directGrants(s, api)).map((i) =>
        'everything' in i.target ? 'everything' : 'secret' in i.target ? `secret ${i.target.secret}` : `sa ${i.target.serviceAccount}`,
      );
    expect(
      kinds(
        rules([
          { apiGroups: [G], resources: ['rolebindings'], verbs: ['create'] },
          { apiGroups: [G], resources: ['clusterroles'], verbs: ['bind'] },
        ]),
      ),
    ).toContain('everything');
    expect(kinds(rules([{ apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'], resourceNames: ['admin-sa'] }]))).toEqual(['sa admin-sa']);
    expect(kinds(rules([{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch'] }]))).toEqual(
      expect.arrayContaining(['secret payment-gateway', 'sa admin-sa']),
    );
    expect(kinds(rules([{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] }]))).toEqual(expect.arrayContaining(['sa admin-sa']));
    expect(kinds(rules([{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]))).toEqual([]);
  });
});
