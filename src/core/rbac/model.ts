/**
 * What a subject may really do, computed from the RBAC objects the way the API server's RBAC
 * authorizer reads them: every RoleBinding in every namespace and every ClusterRoleBinding, through
 * the user, its groups (the built-in ones the authenticator adds included) and aggregated
 * ClusterRoles — plus what those powers lead to (the escalation battery): pod creation or workload
 * control reads every Secret of the namespace and acts as every ServiceAccount in it, token minting
 * acts as the ServiceAccount, `bind`/`escalate`/impersonation/webhooks/CSR approval/nodes/proxy
 * lead to everything. Pure: the caller reads the cluster and confirms with the API server.
 */

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** One permission: a verb on one resource (or a non-resource URL), in one namespace or cluster-wide ('*'). */
export interface Atom {
  verb: string;
  /** API group ('' = core); undefined for a non-resource URL. */
  group?: string;
  /** resource or resource/subresource ('*' = every); undefined for a non-resource URL. */
  resource?: string;
  /** One object by name; undefined = every object. */
  name?: string;
  url?: string;
  /** '*' = cluster-wide (a ClusterRoleBinding), else the RoleBinding's namespace. */
  namespace: string;
}

/** An allow-list entry as lesson.yaml declares it: a PolicyRule, in one namespace or cluster-wide. */
export interface AllowRule extends PolicyRule {
  /** A namespace, or '*' / absent for cluster-wide. */
  namespace?: string;
}

/** Why a subject holds an atom: the binding and role that grant it, or the path that leads to it. */
export interface Grant {
  atom: Atom;
  /** e.g. `ClusterRoleBinding app-admin → ClusterRole cluster-admin (subject ServiceAccount shop/api)`. */
  via: string;
  /** Set for a power the subject reaches through another one (the escalation battery). */
  path?: string;
  /** The class of escalation, for messages: 'secrets', 'pods', 'workload control', 'bind', … */
  kind?: string;
}

export interface Subject {
  user: string;
  groups: string[];
}

export interface RbacObject {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  rules?: PolicyRule[] | null;
  aggregationRule?: {
    clusterRoleSelectors?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }[];
  } | null;
  subjects?: { kind: string; name: string; namespace?: string; apiGroup?: string }[] | null;
  roleRef?: { kind: string; name: string };
}

/** What the model needs to know of the cluster. */
export interface Snapshot {
  roles: RbacObject[];
  clusterRoles: RbacObject[];
  roleBindings: RbacObject[];
  clusterRoleBindings: RbacObject[];
  /** Every namespace. */
  namespaces: string[];
  /** Secret names per namespace. */
  secrets: Record<string, string[]>;
  /** ServiceAccount names per namespace. */
  serviceAccounts: Record<string, string[]>;
  /** Running pods per namespace: their ServiceAccount and the Secrets they use (for exec/attach). */
  pods: Record<string, { name: string; serviceAccount: string; secrets: string[] }[]>;
}

const SA_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

export function parseServiceAccount(user: string): { namespace: string; name: string } | undefined {
  const m = SA_USER.exec(user);
  return m ? { namespace: m[1], name: m[2] } : undefined;
}

/** The groups the API server's authenticators add: every ServiceAccount's two, system:authenticated for anyone signed in. */
export function subjectOf(user: string, groups: string[] = []): Subject {
  const all = [...groups];
  const sa = parseServiceAccount(user);
  if (sa) all.push('system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`);
  if (user === 'system:anonymous') all.push('system:unauthenticated');
  else if (!all.includes('system:unauthenticated')) all.push('system:authenticated');
  return { user, groups: [...new Set(all)] };
}

export function describeSubject(s: Subject | string): string {
  const user = typeof s === 'string' ? s : s.user;
  const sa = parseServiceAccount(user);
  if (sa) return `ServiceAccount ${sa.namespace}/${sa.name}`;
  if (user.startsWith('group:')) return `group ${user.slice(6)}`;
  return user === 'system:anonymous' ? 'the anonymous user' : `user ${user}`;
}

export function describeAtom(a: Atom): string {
  const verb = a.verb === '*' ? 'every verb on' : a.verb;
  if (a.url !== undefined) return `${verb} ${a.url === '*' ? 'every non-resource URL' : a.url}`;
  const res =
    a.resource === '*'
      ? a.group === '*'
        ? 'every resource'
        : `every resource of API group ${a.group === '' ? 'core' : a.group}`
      : `${a.resource}${a.group === '' ? '' : a.group === '*' ? ' (any API group)' : `.${a.group}`}`;
  return `${verb} ${res}${a.name !== undefined ? ` ${a.name}` : ''} ${a.namespace === '*' ? 'cluster-wide' : `in namespace ${a.namespace}`}`;
}

// ---- rules ------------------------------------------------------------------------------------

/** A rule broken into atoms (as the API server's escalation check does), in a namespace. */
export function atomsOf(rule: PolicyRule, namespace: string): Atom[] {
  const out: Atom[] = [];
  for (const verb of rule.verbs ?? []) {
    for (const url of rule.nonResourceURLs ?? []) out.push({ verb, url, namespace: '*' });
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        if (rule.resourceNames?.length) for (const name of rule.resourceNames) out.push({ verb, group, resource, name, namespace });
        else out.push({ verb, group, resource, namespace });
      }
    }
  }
  return out;
}

const has = (set: string[] | undefined, v: string) => !!set && (set.includes('*') || set.includes(v));

function resourceCovers(set: string[] | undefined, res: string): boolean {
  if (!set) return false;
  if (set.includes('*') || set.includes(res)) return true;
  const slash = res.indexOf('/');
  return slash > 0 && set.includes(`*/${res.slice(slash + 1)}`);
}

function urlCovers(set: string[] | undefined, url: string): boolean {
  if (!set) return false;
  return set.some((u) => u === '*' || u === url || (u.endsWith('*') && url.startsWith(u.slice(0, -1))));
}

/** Whether an allow rule (in its namespace, or cluster-wide) covers an atom — wildcards only by wildcards. */
export function covers(allow: AllowRule, a: Atom): boolean {
  if (!has(allow.verbs, a.verb)) return false;
  if (a.url !== undefined) return urlCovers(allow.nonResourceURLs, a.url);
  const ns = allow.namespace ?? '*';
  if (ns !== '*' && ns !== a.namespace) return false;
  if (!has(allow.apiGroups ?? [''], a.group!)) return false; // an allow rule without apiGroups means the core group
  if (!resourceCovers(allow.resources, a.resource!)) return false;
  if (allow.resourceNames?.length) return a.name !== undefined && allow.resourceNames.includes(a.name);
  return true;
}

/** Whether a held atom allows a request (verb, group, resource, namespace, name): the authorizer's matching. */
export function allows(a: Atom, verb: string, group: string, resource: string, namespace: string, name?: string): boolean {
  if (a.url !== undefined) return false;
  if (a.verb !== '*' && a.verb !== verb) return false;
  if (a.group !== '*' && a.group !== group) return false;
  if (!resourceCovers([a.resource!], resource)) return false;
  if (a.namespace !== '*' && a.namespace !== namespace) return false;
  if (a.name !== undefined && a.name !== name) return false;
  return true;
}

// ---- the permissions Kubernetes gives everyone --------------------------------------------------

const DISCOVERY_URLS = ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'];
const PUBLIC_INFO_URLS = ['/healthz', '/livez', '/readyz', '/version', '/version/'];
const ISSUER_URLS = ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'];

/**
 * What Kubernetes' default bindings give the subject's built-in groups (system:basic-user,
 * system:discovery, system:public-info-viewer, system:service-account-issuer-discovery) — the
 * rights every signed-in user has, which a lesson's allow-list need not repeat. Stated here as
 * rules, not read from those bindings: a learner who adds to system:basic-user is caught.
 */
export function baselineRules(s: Subject): AllowRule[] {
  const out: AllowRule[] = [
    { verbs: ['get'], nonResourceURLs: PUBLIC_INFO_URLS },
    // kubeadm (kind) lets anyone read the cluster's public CA and address, for nodes joining: public by design.
    { namespace: 'kube-public', resources: ['configmaps'], resourceNames: ['cluster-info'], verbs: ['get'] },
  ];
  if (s.groups.includes('system:authenticated')) {
    out.push({ verbs: ['get'], nonResourceURLs: DISCOVERY_URLS });
    out.push({ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] });
    out.push({ verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] });
  }
  if (s.groups.includes('system:serviceaccounts')) out.push({ verbs: ['get'], nonResourceURLs: ISSUER_URLS });
  return out;
}

// ---- bindings ---------------------------------------------------------------------------------

function appliesTo(subject: { kind: string; name: string; namespace?: string }, s: Subject, bindingNamespace: string | undefined): boolean {
  if (subject.kind === 'User') return subject.name === s.user;
  if (subject.kind === 'Group') return s.groups.includes(subject.name);
  if (subject.kind === 'ServiceAccount') {
    const ns = subject.namespace || bindingNamespace;
    return s.user === `system:serviceaccount:${ns}:${subject.name}`;
  }
  return false;
}

/** Whether a binding names the subject (as a user, a ServiceAccount or one of its groups). */
export function bindingAppliesTo(b: RbacObject, s: Subject, cluster: boolean): boolean {
  return (b.subjects ?? []).some((x) => appliesTo(x, s, cluster ? undefined : b.metadata?.namespace));
}

function subjectText(subject: { kind: string; name: string; namespace?: string }, bindingNamespace?: string): string {
  if (subject.kind === 'ServiceAccount') return `ServiceAccount ${subject.namespace || bindingNamespace}/${subject.name}`;
  return `${subject.kind === 'Group' ? 'group' : 'user'} ${subject.name}`;
}

function selectorMatches(
  sel: NonNullable<NonNullable<RbacObject['aggregationRule']>['clusterRoleSelectors']>[number],
  labels: Record<string, string>,
): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const v = labels[e.key];
    if (e.operator === 'In' && !(v !== undefined && e.values?.includes(v))) return false;
    if (e.operator === 'NotIn' && v !== undefined && e.values?.includes(v)) return false;
    if (e.operator === 'Exists' && v === undefined) return false;
    if (e.operator === 'DoesNotExist' && v !== undefined) return false;
  }
  return true;
}

/**
 * A ClusterRole's rules: its own, and for an aggregated one also those of every ClusterRole its
 * selectors match (as the aggregation controller will write them — counted before it has).
 */
export function clusterRoleRules(snap: Snapshot, name: string, seen = new Set<string>()): { rules: PolicyRule[]; from: string[] } | undefined {
  const cr = snap.clusterRoles.find((r) => r.metadata?.name === name);
  if (!cr) return undefined;
  const rules = [...(cr.rules ?? [])];
  const from: string[] = [];
  seen.add(name);
  for (const sel of cr.aggregationRule?.clusterRoleSelectors ?? []) {
    for (const other of snap.clusterRoles) {
      const n = other.metadata?.name ?? '';
      if (seen.has(n) || !selectorMatches(sel, other.metadata?.labels ?? {})) continue;
      const sub = clusterRoleRules(snap, n, seen);
      if (sub && sub.rules.length) {
        rules.push(...sub.rules);
        from.push(n);
      }
    }
  }
  return { rules, from };
}

/** The subject's permissions straight from its bindings, each with the binding and role granting it. */
export function directGrants(snap: Snapshot, s: Subject): Grant[] {
  const out: Grant[] = [];
  const bindings: [RbacObject, boolean][] = [
    ...snap.clusterRoleBindings.map((b) => [b, true] as [RbacObject, boolean]),
    ...snap.roleBindings.map((b) => [b, false] as [RbacObject, boolean]),
  ];
  for (const [b, cluster] of bindings) {
    const bns = cluster ? undefined : b.metadata?.namespace;
    const subj = (b.subjects ?? []).find((x) => appliesTo(x, s, bns));
    if (!subj || !b.roleRef) continue;
    let rules: PolicyRule[] | undefined;
    let roleText = `${b.roleRef.kind} ${b.roleRef.name}`;
    if (b.roleRef.kind === 'ClusterRole') {
      const r = clusterRoleRules(snap, b.roleRef.name);
      rules = r?.rules;
      if (r?.from.length) roleText += ` (aggregating ${r.from.slice(0, 3).join(', ')}${r.from.length > 3 ? ', …' : ''})`;
    } else if (!cluster) {
      rules = snap.roles.find((r) => r.metadata?.namespace === bns && r.metadata?.name === b.roleRef!.name)?.rules ?? undefined;
    }
    if (!rules) continue;
    const via = `${cluster ? 'ClusterRoleBinding' : `RoleBinding ${bns}/`}${cluster ? ` ${b.metadata?.name}` : b.metadata?.name} → ${roleText}, for ${subjectText(subj, bns)}`;
    for (const rule of rules) for (const atom of atomsOf(rule, cluster ? '*' : bns!)) out.push({ atom, via });
  }
  return out;
}

// ---- the escalation battery -------------------------------------------------------------------

/** Workload kinds whose pod template their holder controls: [group, resource]. */
export const WORKLOAD_RESOURCES: [string, string][] = [
  ['apps', 'deployments'],
  ['apps', 'replicasets'],
  ['apps', 'statefulsets'],
  ['apps', 'daemonsets'],
  ['batch', 'jobs'],
  ['batch', 'cronjobs'],
  ['', 'replicationcontrollers'],
];
const WRITE = ['create', 'update', 'patch'];

/** The requests the escalation battery asks the API server about, in a namespace ('' = cluster-wide request). */
export interface Question {
  verb: string;
  group: string;
  resource: string;
  namespaced: boolean;
  kind: string;
}

export const ESCALATION_QUESTIONS: Question[] = [
  ...['get', 'list', 'watch'].map((verb) => ({ verb, group: '', resource: 'secrets', namespaced: true, kind: 'secrets' })),
  { verb: 'create', group: '', resource: 'pods', namespaced: true, kind: 'pod creation (mounts any Secret, runs as any ServiceAccount of the namespace)' },
  ...WORKLOAD_RESOURCES.flatMap(([group, resource]) =>
    WRITE.map((verb) => ({ verb, group, resource, namespaced: true, kind: 'workload control (its pods mount any Secret, run as any ServiceAccount)' })),
  ),
  ...['update', 'patch'].map((verb) => ({
    verb,
    group: '',
    resource: 'pods/ephemeralcontainers',
    namespaced: true,
    kind: 'ephemeral containers (a shell in a running pod)',
  })),
  ...['pods/exec', 'pods/attach', 'pods/portforward'].flatMap((resource) =>
    ['create', 'get'].map((verb) => ({ verb, group: '', resource, namespaced: true, kind: 'a shell or a tunnel into running pods' })),
  ),
  { verb: 'create', group: '', resource: 'serviceaccounts/token', namespaced: true, kind: 'token minting (acts as the ServiceAccount)' },
  ...['roles', 'rolebindings'].flatMap((resource) =>
    WRITE.map((verb) => ({ verb, group: 'rbac.authorization.k8s.io', resource, namespaced: true, kind: 'RBAC changes' })),
  ),
  ...['roles', 'clusterroles'].flatMap((resource) =>
    ['bind', 'escalate'].map((verb) => ({
      verb,
      group: 'rbac.authorization.k8s.io',
      resource,
      namespaced: resource === 'roles',
      kind: `${verb} (grants what it does not hold)`,
    })),
  ),
  ...['clusterroles', 'clusterrolebindings'].flatMap((resource) =>
    WRITE.map((verb) => ({ verb, group: 'rbac.authorization.k8s.io', resource, namespaced: false, kind: 'cluster-wide RBAC changes' })),
  ),
  ...['users', 'groups', 'serviceaccounts', 'uids', 'userextras/scopes'].map((resource) => ({
    verb: 'impersonate',
    group: resource === 'serviceaccounts' ? '' : resource === 'uids' || resource.startsWith('userextras') ? 'authentication.k8s.io' : '',
    resource,
    namespaced: resource === 'serviceaccounts',
    kind: 'impersonation (acts as anyone, system:masters included)',
  })),
  ...['get', 'create'].map((verb) => ({
    verb,
    group: '',
    resource: 'nodes/proxy',
    namespaced: false,
    kind: 'the kubelet API (exec into every pod on a node)',
  })),
  ...['update', 'patch'].map((verb) => ({
    verb,
    group: 'certificates.k8s.io',
    resource: 'certificatesigningrequests/approval',
    namespaced: false,
    kind: 'CSR approval (client certificates for any user or group)',
  })),
  { verb: 'approve', group: 'certificates.k8s.io', resource: 'signers', namespaced: false, kind: 'CSR approval (client certificates for any user or group)' },
  ...[
    'validatingwebhookconfigurations',
    'mutatingwebhookconfigurations',
    'validatingadmissionpolicies',
    'validatingadmissionpolicybindings',
    'mutatingadmissionpolicies',
    'mutatingadmissionpolicybindings',
  ].flatMap((resource) =>
    WRITE.map((verb) => ({
      verb,
      group: 'admissionregistration.k8s.io',
      resource,
      namespaced: false,
      kind: 'admission configuration (sees or rewrites every object)',
    })),
  ),
  ...['create', 'update', 'patch', 'delete'].map((verb) => ({ verb, group: '', resource: 'nodes', namespaced: false, kind: 'node changes' })),
  { verb: 'create', group: '', resource: 'persistentvolumes', namespaced: false, kind: 'persistent volumes (a hostPath onto a node)' },
  { verb: 'update', group: '', resource: 'namespaces', namespaced: false, kind: 'namespace labels (Pod Security off)' },
  { verb: 'patch', group: '', resource: 'namespaces', namespaced: false, kind: 'namespace labels (Pod Security off)' },
  { verb: '*', group: '*', resource: '*', namespaced: true, kind: 'everything' },
];

export function escalationKind(a: Atom): string | undefined {
  if (a.url !== undefined) return undefined;
  if (a.verb === '*' && a.resource === '*' && a.group === '*') return 'everything';
  const q = ESCALATION_QUESTIONS.find((x) => x.verb !== '*' && allows(a, x.verb, x.group, x.resource, a.namespace === '*' ? '*' : a.namespace));
  return q?.kind;
}

export interface Implication {
  /** The namespace it happens in ('*' = every namespace). */
  namespace: string;
  /** What the subject reaches: a Secret (by name) or a ServiceAccount to act as, or everything. */
  target: { secret: string } | { serviceAccount: string } | { everything: true };
  /** How: `create pods in analytics` (the held atom's grant). */
  how: string;
  /** The grant that opens this path. */
  grant: Grant;
  /** Kind of path, for the API-server confirmation: pods the subject creates itself, or pods a controller creates. */
  by: 'pods' | 'controller' | 'exec' | 'token' | 'escalation';
}

/** Does the subject hold this request (any grant), and which grant? */
function holds(grants: Grant[], verb: string, group: string, resource: string, namespace: string, name?: string): Grant | undefined {
  return grants.find((g) => allows(g.atom, verb, group, resource, namespace, name));
}

/**
 * Where the subject's powers lead (one step): per namespace, pod creation / workload control →
 * every Secret there, every ServiceAccount there; exec/attach/ephemeral containers → the running
 * pods' Secrets and ServiceAccounts; serviceaccounts/token → that ServiceAccount; bind/escalate,
 * impersonation, nodes/proxy, CSR approval, webhook configuration → everything.
 */
export function implications(snap: Snapshot, grants: Grant[]): Implication[] {
  const out: Implication[] = [];
  const everything = (g: Grant, how: string, namespace = '*') => out.push({ namespace, target: { everything: true }, how, grant: g, by: 'escalation' });
  const describe = (g: Grant) => describeAtom(g.atom);
  // cluster-wide paths to everything
  for (const [verb, group, resource, why] of [
    ['impersonate', '', 'groups', 'impersonating group system:masters'],
    ['impersonate', '', 'users', 'impersonating an administrator'],
    ['get', '', 'nodes/proxy', 'the kubelet API of every node'],
    ['create', '', 'nodes/proxy', 'the kubelet API of every node'],
    ['update', 'certificates.k8s.io', 'certificatesigningrequests/approval', 'approving a client certificate for group system:masters'],
    ['create', 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'a mutating webhook that rewrites every pod'],
    ['patch', 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'a mutating webhook that rewrites every pod'],
    ['create', 'admissionregistration.k8s.io', 'validatingwebhookconfigurations', 'a webhook that receives every object, Secrets included'],
    ['bind', 'rbac.authorization.k8s.io', 'clusterroles', 'binding cluster-admin to itself'],
    ['escalate', 'rbac.authorization.k8s.io', 'clusterroles', 'writing any rule into a ClusterRole it holds'],
  ] as const) {
    const name = resource === 'groups' ? 'system:masters' : undefined;
    const g = holds(grants, verb, group, resource, '*', name);
    if (!g) continue;
    if (verb === 'impersonate' && resource === 'users' && g.atom.name !== undefined) continue; // one named user: judged by the allow-list
    if (
      verb === 'bind' &&
      !holds(grants, 'create', 'rbac.authorization.k8s.io', 'clusterrolebindings', '*') &&
      !snap.namespaces.some((ns) => holds(grants, 'create', 'rbac.authorization.k8s.io', 'rolebindings', ns))
    )
      continue;
    if (
      verb === 'escalate' &&
      !holds(grants, 'update', 'rbac.authorization.k8s.io', 'clusterroles', '*') &&
      !holds(grants, 'patch', 'rbac.authorization.k8s.io', 'clusterroles', '*')
    )
      continue;
    everything(g, `${describe(g)} (${why})`);
  }
  for (const ns of snap.namespaces) {
    // bind/escalate within a namespace
    const rb = holds(grants, 'create', 'rbac.authorization.k8s.io', 'rolebindings', ns);
    const bind = holds(grants, 'bind', 'rbac.authorization.k8s.io', 'clusterroles', ns) ?? holds(grants, 'bind', 'rbac.authorization.k8s.io', 'roles', ns);
    if (rb && bind) everything(bind, `${describe(bind)} and ${describe(rb)} (binding admin to itself in ${ns})`, ns);
    const esc = holds(grants, 'escalate', 'rbac.authorization.k8s.io', 'roles', ns);
    const roleWrite =
      holds(grants, 'update', 'rbac.authorization.k8s.io', 'roles', ns) ??
      holds(grants, 'patch', 'rbac.authorization.k8s.io', 'roles', ns) ??
      holds(grants, 'create', 'rbac.authorization.k8s.io', 'roles', ns);
    if (esc && roleWrite) everything(esc, `${describe(esc)} and ${describe(roleWrite)} (writing any rule into a Role it holds in ${ns})`, ns);
    const imp = holds(grants, 'impersonate', '', 'serviceaccounts', ns);
    if (imp) {
      for (const sa of snap.serviceAccounts[ns] ?? []) {
        if (imp.atom.name !== undefined && imp.atom.name !== sa) continue;
        out.push({ namespace: ns, target: { serviceAccount: sa }, how: `${describe(imp)} (impersonating it)`, grant: imp, by: 'token' });
      }
    }

    // pods and workloads: every Secret and ServiceAccount of the namespace
    const pods = holds(grants, 'create', '', 'pods', ns);
    let ctl: Grant | undefined;
    for (const [group, resource] of WORKLOAD_RESOURCES) for (const verb of WRITE) ctl ??= holds(grants, verb, group, resource, ns);
    const path = pods ?? ctl;
    if (path) {
      const by = pods ? 'pods' : 'controller';
      for (const secret of snap.secrets[ns] ?? [])
        out.push({ namespace: ns, target: { secret }, how: `${describe(path)} (a pod that mounts it)`, grant: path, by });
      for (const sa of snap.serviceAccounts[ns] ?? [])
        out.push({ namespace: ns, target: { serviceAccount: sa }, how: `${describe(path)} (a pod that runs as it)`, grant: path, by });
    }
    // a shell in running pods: their Secrets and ServiceAccounts
    const exec =
      holds(grants, 'create', '', 'pods/exec', ns) ??
      holds(grants, 'get', '', 'pods/exec', ns) ??
      holds(grants, 'create', '', 'pods/attach', ns) ??
      holds(grants, 'patch', '', 'pods/ephemeralcontainers', ns) ??
      holds(grants, 'update', '', 'pods/ephemeralcontainers', ns);
    if (exec) {
      for (const p of snap.pods[ns] ?? []) {
        if (exec.atom.name !== undefined && exec.atom.name !== p.name) continue;
        for (const secret of p.secrets)
          out.push({ namespace: ns, target: { secret }, how: `${describe(exec)} (pod ${p.name} has it)`, grant: exec, by: 'exec' });
        out.push({ namespace: ns, target: { serviceAccount: p.serviceAccount }, how: `${describe(exec)} (pod ${p.name}'s token)`, grant: exec, by: 'exec' });
      }
    }
    // token minting
    for (const sa of snap.serviceAccounts[ns] ?? []) {
      const tok = holds(grants, 'create', '', 'serviceaccounts/token', ns, sa);
      if (tok) out.push({ namespace: ns, target: { serviceAccount: sa }, how: `${describe(tok)} (a token of its own)`, grant: tok, by: 'token' });
    }
  }
  return out;
}

/** The atoms an implication gives (a Secret: get it; everything: every verb on every resource). */
export function impliedAtoms(i: Implication): Atom[] {
  if ('secret' in i.target) return [{ verb: 'get', group: '', resource: 'secrets', name: i.target.secret, namespace: i.namespace }];
  if ('everything' in i.target) return [{ verb: '*', group: '*', resource: '*', namespace: i.namespace }];
  return [];
}

export const uncovered = (allow: AllowRule[], a: Atom) => !allow.some((r) => covers(r, a));

/** One route by which the subject reaches more: the implication and what it gives (acting as a ServiceAccount: all that one reaches). */
export interface Route {
  implication: Implication;
  grants: Grant[];
  harmless: AllowRule[];
}

export interface Reach {
  subject: Subject;
  direct: Grant[];
  routes: Route[];
}

/** Everything a subject reaches: its bindings, and where they lead (ServiceAccounts followed, cycles cut). */
export function reach(snap: Snapshot, s: Subject, seen = new Set<string>()): Reach {
  seen.add(s.user);
  const direct = directGrants(snap, s);
  const routes: Route[] = [];
  for (const i of implications(snap, direct)) {
    if ('serviceAccount' in i.target) {
      const user = `system:serviceaccount:${i.namespace}:${i.target.serviceAccount}`;
      if (seen.has(user)) continue;
      const sa = subjectOf(user);
      const r = reach(snap, sa, seen);
      const prefix = `as ${describeSubject(user)}, through ${i.how}`;
      const grants = [...r.direct, ...r.routes.flatMap((x) => x.grants)].map((g) => ({ ...g, path: g.path ? `${prefix}, then ${g.path}` : prefix }));
      routes.push({ implication: i, grants, harmless: baselineRules(sa) });
    } else {
      routes.push({
        implication: i,
        grants: impliedAtoms(i).map((atom) => ({ atom, via: i.grant.via, path: i.how, kind: 'secret' in i.target ? 'secrets' : 'everything' })),
        harmless: [],
      });
    }
  }
  return { subject: s, direct, routes };
}

/** The grants beyond the allow-list (and the subject's built-in baseline), direct first; routes the caller closed are left out. */
export function beyond(r: Reach, allow: AllowRule[], closed: (i: Implication) => boolean = () => false): Grant[] {
  const base = [...allow, ...baselineRules(r.subject)];
  const out = r.direct.filter((g) => uncovered(base, g.atom));
  for (const route of r.routes) {
    if (closed(route.implication)) continue;
    const ok = [...base, ...route.harmless];
    out.push(...route.grants.filter((g) => uncovered(ok, g.atom)));
  }
  return out;
}

/** A grant in a message: what, and which binding and role give it (or the path to it). */
export function describeGrant(g: Grant): string {
  const kind = g.kind ?? escalationKind(g.atom);
  return `${describeAtom(g.atom)}${kind && kind !== 'secrets' ? ` [${kind.split(' (')[0]}]` : ''} — ${g.path ? `${g.path}; granted by ${g.via}` : g.via}`;
}
