import type { KubernetesObject } from '@kubernetes/client-node';
import type { GenericShortcut, ShortcutTemplate, BatteryInput, Undo } from './types.js';
import type { ScenarioContext } from '../scenarios/apply.js';
import { applyObjects, waitDeployment } from '../scenarios/apply.js';
import { UserError } from '../errors.js';
import { covers, parseServiceAccount, atomsOf, type AllowRule, type PolicyRule } from '../rbac/model.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const G = 'rbac.authorization.k8s.io';
/** Names of the objects the RBAC templates add (easy to spot, and swept by a reset through the lesson label). */
const NAME = 'kube-seclab-battery';

/** A subject a lesson's `permissions` check judges: a named one, or the ServiceAccount a workload runs as. */
interface Judged {
  subject?: string;
  groups: string[];
  workload?: { kind: string; namespace: string; name: string };
  allow: AllowRule[];
}

function judged(input: BatteryInput): Judged[] {
  const out: Judged[] = [];
  for (const c of input.lesson.checks) {
    if (c.type !== 'permissions' || !(c.params as { allow?: unknown }).allow) continue;
    const p = c.params as { subject?: string; groups?: string[]; workload?: { kind?: string; namespace: string; name: string }; allow?: AllowRule[] };
    const w = p.workload ? { kind: p.workload.kind ?? 'Deployment', namespace: p.workload.namespace, name: p.workload.name } : undefined;
    // A workload whose pods run as a subject already judged (as its manifests say) adds nothing but the switch.
    const key = (j: Judged) =>
      j.subject ?? `system:serviceaccount:${j.workload!.namespace}:${staticServiceAccount(input, j.workload!) ?? `?${j.workload!.name}`}`;
    const j: Judged = { subject: p.subject, groups: p.groups ?? [], workload: w, allow: p.allow ?? [] };
    if (!out.some((x) => key(x) === key(j))) out.push(j);
  }
  return out;
}

/** The ServiceAccount a workload runs as by the solution's manifests (else the scenario's). */
function staticServiceAccount(input: BatteryInput, w: { kind: string; namespace: string; name: string }): string | undefined {
  const find = (objs: KubernetesObject[]) => objs.find((o) => o.kind === w.kind && o.metadata?.namespace === w.namespace && o.metadata?.name === w.name) as any;
  const d = find(input.solution) ?? find(input.scenario);
  return d ? d.spec?.template?.spec?.serviceAccountName || 'default' : undefined;
}

/** The lesson's namespaces, as its scenario creates them. */
const lessonNamespaces = (input: BatteryInput) => input.scenario.filter((o) => o.kind === 'Namespace').map((o) => o.metadata!.name!);

/** The namespace a namespaced grant goes into: the subject's own if the lesson owns it, else an allow rule's, else the lesson's first. */
function homeOf(input: BatteryInput, j: Judged): string | undefined {
  const own = lessonNamespaces(input);
  const sa = j.subject ? parseServiceAccount(j.subject) : undefined;
  for (const ns of [sa?.namespace, j.workload?.namespace, ...j.allow.map((a) => a.namespace)]) if (ns && own.includes(ns)) return ns;
  return own[0];
}

const label = (j: Judged) => j.subject ?? `the pods of ${j.workload!.kind} ${j.workload!.namespace}/${j.workload!.name}`;

/** The binding subject for a judged subject (a workload's: the ServiceAccount its template names, read live). */
async function bindingSubject(ctx: ScenarioContext, j: Judged): Promise<{ kind: string; name: string; namespace?: string; apiGroup?: string }> {
  let user = j.subject;
  if (!user) {
    const w = j.workload!;
    const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: w.kind, metadata: { name: w.name, namespace: ctx.cluster.rename.ns(w.namespace) } });
    if (!d) throw new UserError(`${w.kind} ${w.namespace}/${w.name} is not there to take a shortcut with`);
    user = `system:serviceaccount:${w.namespace}:${d.spec?.template?.spec?.serviceAccountName || 'default'}`;
  }
  user = ctx.cluster.rename.text(user);
  const sa = parseServiceAccount(user);
  if (sa) return { kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace };
  return { kind: 'User', apiGroup: G, name: user };
}

const SECRETS_RULE: PolicyRule = { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] };

/** Apply objects (labelled with the lesson, so a reset sweeps them too); the undo deletes them again. */
async function add(ctx: ScenarioContext, input: BatteryInput, objs: KubernetesObject[]): Promise<Undo> {
  const renamed = objs.map((o) => ctx.cluster.rename.value(o));
  await applyObjects(ctx, renamed, input.lesson.id);
  return async () => {
    for (const o of [...renamed].reverse()) await ctx.cluster.delete(o);
  };
}

function role(namespace: string | undefined, name: string, rules: PolicyRule[], labels?: Record<string, string>): KubernetesObject {
  return {
    apiVersion: RBAC,
    kind: namespace ? 'Role' : 'ClusterRole',
    metadata: { name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}) },
    rules,
  } as KubernetesObject;
}
function binding(namespace: string | undefined, name: string, roleRef: { kind: string; name: string }, subject: object): KubernetesObject {
  return {
    apiVersion: RBAC,
    kind: namespace ? 'RoleBinding' : 'ClusterRoleBinding',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    subjects: [subject],
    roleRef: { apiGroup: G, ...roleRef },
  } as KubernetesObject;
}

/**
 * A template applied to one judged subject of the lesson: the n-th template takes the n-th subject
 * (round the list), so a lesson with several `permissions` checks has each path tried on a
 * different check at the cost of one instance per template.
 */
function perSubject(
  id: string,
  description: string,
  make: (input: BatteryInput, j: Judged, i: number) => GenericShortcut | undefined,
  nth: number,
): ShortcutTemplate {
  return {
    id,
    description,
    instances: (input) => {
      const all = judged(input);
      if (!all.length) return [];
      const i = nth % all.length;
      const g = make(input, all[i], i);
      return g ? [g] : [];
    },
  };
}

export const rbacOtherNamespace = perSubject(
  'rbac-other-namespace',
  'the removed power (reading Secrets) granted back through a RoleBinding in another namespace',
  (input, j, i) => ({
    template: 'rbac-other-namespace',
    name: `rbac-other-namespace ${label(j)}`,
    description: `${label(j)} may read Secrets in namespace default (a Role and RoleBinding there)`,
    clusterScoped: true,
    async apply(ctx) {
      const subject = await bindingSubject(ctx, j);
      return add(ctx, input, [
        role('default', `${NAME}-${i}`, [SECRETS_RULE]),
        binding('default', `${NAME}-${i}`, { kind: 'Role', name: `${NAME}-${i}` }, subject),
      ]);
    },
  }),
  0,
);

export const rbacClusterBinding = perSubject(
  'rbac-cluster-binding',
  'the removed power granted back through a ClusterRoleBinding',
  (input, j, i) => ({
    template: 'rbac-cluster-binding',
    name: `rbac-cluster-binding ${label(j)}`,
    description: `${label(j)} may read Secrets cluster-wide (a ClusterRole and ClusterRoleBinding)`,
    clusterScoped: true,
    async apply(ctx) {
      const subject = await bindingSubject(ctx, j);
      return add(ctx, input, [
        role(undefined, `${NAME}-crb-${i}`, [SECRETS_RULE]),
        binding(undefined, `${NAME}-crb-${i}`, { kind: 'ClusterRole', name: `${NAME}-crb-${i}` }, subject),
      ]);
    },
  }),
  1,
);

export const rbacGroup = perSubject(
  'rbac-group',
  "the removed power granted to a group the subject is in (its declared group, its namespace's ServiceAccounts, or everyone signed in)",
  (input, j, i) => {
    const ns = homeOf(input, j);
    if (!ns) return undefined;
    return {
      template: 'rbac-group',
      name: `rbac-group ${label(j)}`,
      description: `a RoleBinding in ${ns} lets a group ${label(j)} is in read Secrets`,
      async apply(ctx) {
        const subject = await bindingSubject(ctx, j);
        const group =
          j.groups[0] ??
          (subject.kind === 'ServiceAccount'
            ? `system:serviceaccounts:${subject.namespace}`
            : subject.name === 'system:anonymous'
              ? 'system:unauthenticated'
              : 'system:authenticated');
        return add(ctx, input, [
          role(ns, `${NAME}-group-${i}`, [SECRETS_RULE]),
          binding(ns, `${NAME}-group-${i}`, { kind: 'Role', name: `${NAME}-group-${i}` }, { kind: 'Group', apiGroup: G, name: ctx.cluster.rename.text(group) }),
        ]);
      },
    };
  },
  2,
);

export const rbacAggregated = perSubject(
  'rbac-aggregated',
  'the removed power slipped in through an aggregated ClusterRole (a labelled ClusterRole its aggregationRule picks up)',
  (input, j, i) => {
    const ns = homeOf(input, j);
    if (!ns) return undefined;
    return {
      template: 'rbac-aggregated',
      name: `rbac-aggregated ${label(j)}`,
      description: `${label(j)} is bound in ${ns} to an aggregated ClusterRole with no rules of its own, which picks up a labelled ClusterRole that reads Secrets`,
      clusterScoped: true,
      async apply(ctx) {
        const subject = await bindingSubject(ctx, j);
        const sel = { 'kube-seclab.dev/battery-aggregate': `agg-${i}` };
        const aggregate = {
          apiVersion: RBAC,
          kind: 'ClusterRole',
          metadata: { name: `${NAME}-aggregate-${i}` },
          aggregationRule: { clusterRoleSelectors: [{ matchLabels: sel }] },
          rules: [],
        } as KubernetesObject;
        return add(ctx, input, [
          role(undefined, `${NAME}-aggregated-part-${i}`, [SECRETS_RULE], sel),
          aggregate,
          binding(ns, `${NAME}-aggregate-${i}`, { kind: 'ClusterRole', name: `${NAME}-aggregate-${i}` }, subject),
        ]);
      },
    };
  },
  3,
);

/** Escalation paths, each as a Role in the subject's namespace: what it grants must be beyond the allow-list. */
/** `admin`: what a namespace's admin may grant (a shared cluster's learner); bind and escalate need more. */
const ESCALATIONS: { id: string; what: string; rules: PolicyRule[]; beyondAdmin?: boolean }[] = [
  {
    id: 'bind',
    what: 'bind any ClusterRole with a RoleBinding of its own',
    rules: [
      { apiGroups: [G], resources: ['rolebindings'], verbs: ['create'] },
      { apiGroups: [G], resources: ['clusterroles'], verbs: ['bind'] },
    ],
    beyondAdmin: true,
  },
  {
    id: 'escalate',
    what: 'escalate: write any rule into a Role',
    rules: [{ apiGroups: [G], resources: ['roles'], verbs: ['update', 'escalate'] }],
    beyondAdmin: true,
  },
  {
    id: 'impersonate',
    what: "impersonate the namespace's ServiceAccounts",
    rules: [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] }],
  },
  {
    id: 'token',
    what: "mint tokens for the namespace's ServiceAccounts",
    rules: [{ apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] }],
  },
  { id: 'exec', what: "exec into the namespace's pods", rules: [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] }] },
  {
    id: 'workloads',
    what: 'create and patch Deployments (their pods mount any Secret)',
    rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'patch'] }],
  },
  { id: 'pods', what: 'create pods (they mount any Secret, run as any ServiceAccount)', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['create'] }] },
];

export const rbacEscalation: ShortcutTemplate = {
  id: 'rbac-escalation',
  description: 'an escalation path granted next to the fix: bind, escalate, impersonate, token minting, exec, workload control, pod creation',
  instances: (input) => {
    const j = judged(input)[0];
    const ns = j && homeOf(input, j);
    if (!j || !ns) return [];
    // Only the paths the lesson does not allow (a team that may create pods is judged on where that leads instead).
    return ESCALATIONS.filter((e) => e.rules.some((r) => atomsOf(r, ns).some((a) => !j.allow.some((al) => covers(al, a))))).map((e): GenericShortcut => ({
      template: 'rbac-escalation',
      name: `rbac-escalation ${e.id} ${label(j)}`,
      description: `${label(j)} may ${e.what} in ${ns}`,
      // Granting bind/escalate takes more than a namespace's admin holds: not on a shared cluster.
      clusterScoped: e.beyondAdmin,
      async apply(ctx) {
        const subject = await bindingSubject(ctx, j);
        return add(ctx, input, [role(ns, `${NAME}-${e.id}`, e.rules), binding(ns, `${NAME}-${e.id}`, { kind: 'Role', name: `${NAME}-${e.id}` }, subject)]);
      },
    }));
  },
};

/** The Deployments whose pods' identity a lesson's `permissions` check judges against an allow-list. */
function judgedDeployments(input: BatteryInput): { namespace: string; name: string }[] {
  return input.lesson.checks
    .filter(
      (c) =>
        c.type === 'permissions' && (c.params as any).allow && (c.params as any).workload && ((c.params as any).workload.kind ?? 'Deployment') === 'Deployment',
    )
    .map((c) => (c.params as { workload: { namespace: string; name: string } }).workload);
}

export const rbacSwitchServiceAccount: ShortcutTemplate = {
  id: 'rbac-switch-serviceaccount',
  description: 'the workload switched to another ServiceAccount, one that may edit the whole namespace',
  instances: (input) =>
    judgedDeployments(input).map((w): GenericShortcut => {
      return {
        template: 'rbac-switch-serviceaccount',
        name: `rbac-switch-serviceaccount ${w.namespace}/${w.name}`,
        description: `Deployment ${w.namespace}/${w.name} runs as a new ServiceAccount ${NAME}, bound to ClusterRole edit in ${w.namespace}`,
        async apply(ctx) {
          const ns = ctx.cluster.rename.ns(w.namespace);
          const ref = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: w.name, namespace: ns } };
          const live: any = await ctx.cluster.read(ref);
          if (!live) throw new UserError(`Deployment ${w.namespace}/${w.name} is not there to take a shortcut with`);
          const before = live.spec?.template?.spec?.serviceAccountName ?? null;
          const undoRbac = await add(ctx, input, [
            { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace: w.namespace } } as KubernetesObject,
            binding(w.namespace, NAME, { kind: 'ClusterRole', name: 'edit' }, { kind: 'ServiceAccount', name: NAME, namespace: w.namespace }),
          ]);
          await ctx.cluster.mergePatch({ ...ref, spec: { template: { spec: { serviceAccountName: NAME, serviceAccount: null } } } } as KubernetesObject);
          await waitDeployment(ctx, ns, w.name, 60_000);
          return async () => {
            await ctx.cluster.mergePatch({ ...ref, spec: { template: { spec: { serviceAccountName: before, serviceAccount: null } } } } as KubernetesObject);
            await waitDeployment(ctx, ns, w.name, 60_000);
            await undoRbac();
          };
        },
      };
    }),
};

/** Where client libraries (and `kubectl` in a pod) look for the pod's token. */
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export const rbacBorrowedToken: ShortcutTemplate = {
  id: 'rbac-borrowed-token',
  description: "the workload keeps its ServiceAccount but mounts another one's token where the automounted token goes",
  instances: (input) =>
    judgedDeployments(input).map((w): GenericShortcut => {
      const secret = `${NAME}-token`;
      return {
        template: 'rbac-borrowed-token',
        name: `rbac-borrowed-token ${w.namespace}/${w.name}`,
        description: `Deployment ${w.namespace}/${w.name} keeps its ServiceAccount, but its containers mount the token of ServiceAccount ${NAME} (ClusterRole edit in ${w.namespace}) at ${SA_DIR}`,
        async apply(ctx) {
          const ns = ctx.cluster.rename.ns(w.namespace);
          const ref = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: w.name, namespace: ns } };
          const live: any = await ctx.cluster.read(ref);
          if (!live) throw new UserError(`Deployment ${w.namespace}/${w.name} is not there to take a shortcut with`);
          const spec = live.spec?.template?.spec ?? {};
          const before = {
            automountServiceAccountToken: spec.automountServiceAccountToken ?? null,
            volumes: spec.volumes ?? null,
            containers: spec.containers,
          };
          const undoRbac = await add(ctx, input, [
            { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace: w.namespace } } as KubernetesObject,
            {
              apiVersion: 'v1',
              kind: 'Secret',
              type: 'kubernetes.io/service-account-token',
              metadata: { name: secret, namespace: w.namespace, annotations: { 'kubernetes.io/service-account.name': NAME } },
            } as KubernetesObject,
            binding(w.namespace, NAME, { kind: 'ClusterRole', name: 'edit' }, { kind: 'ServiceAccount', name: NAME, namespace: w.namespace }),
          ]);
          await tokenFilled(ctx, ns, secret);
          const containers = (spec.containers ?? []).map((c: any) => ({
            ...c,
            volumeMounts: [...(c.volumeMounts ?? []).filter((m: any) => m.mountPath !== SA_DIR), { name: NAME, mountPath: SA_DIR, readOnly: true }],
          }));
          await ctx.cluster.mergePatch({
            ...ref,
            spec: {
              template: {
                spec: { automountServiceAccountToken: false, volumes: [...(spec.volumes ?? []), { name: NAME, secret: { secretName: secret } }], containers },
              },
            },
          } as KubernetesObject);
          await waitDeployment(ctx, ns, w.name, 60_000);
          return async () => {
            await ctx.cluster.mergePatch({ ...ref, spec: { template: { spec: before } } } as KubernetesObject);
            await waitDeployment(ctx, ns, w.name, 60_000);
            await undoRbac();
          };
        },
      };
    }),
};

/** The token controller fills a ServiceAccount token Secret a moment after it is created. */
async function tokenFilled(ctx: ScenarioContext, namespace: string, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const s: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace } });
    if (s?.data?.token) return;
    if (Date.now() > deadline)
      throw new UserError(`Secret ${namespace}/${name} got no token within 30 s — is the token controller (kube-controller-manager) running?`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const RBAC_TEMPLATES: ShortcutTemplate[] = [
  rbacOtherNamespace,
  rbacClusterBinding,
  rbacGroup,
  rbacAggregated,
  rbacEscalation,
  rbacSwitchServiceAccount,
  rbacBorrowedToken,
];
