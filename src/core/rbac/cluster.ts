import { request, Agent } from 'node:https';
import type { RequestOptions } from 'node:https';
import type { KubernetesObject } from '@kubernetes/client-node';
import { againIfDropped, type LabCluster } from '../kube/client.js';
import { ClusterUnreachableError } from '../errors.js';
import type { Atom, PolicyRule, RbacObject, Snapshot, Subject, Question } from './model.js';
import { atomsOf } from './model.js';

const RBAC = 'rbac.authorization.k8s.io/v1';

/** The Secrets a pod spec reads (volumes, projected volumes, env, envFrom). */
export function podSecrets(spec: any): string[] {
  const out = new Set<string>();
  for (const v of spec?.volumes ?? []) {
    if (v.secret?.secretName) out.add(v.secret.secretName);
    for (const src of v.projected?.sources ?? []) if (src.secret?.name) out.add(src.secret.name);
  }
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])]) {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) out.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) out.add(e.secretRef.name);
  }
  for (const s of spec?.imagePullSecrets ?? []) if (s.name) out.add(s.name);
  return [...out];
}

export interface ClusterSnapshot extends Snapshot {
  /** Only some namespaces could be read (a shared cluster: the learner's own): cluster-wide bindings are unseen. */
  partial: boolean;
}

/**
 * Every RBAC object, namespace, Secret name, ServiceAccount and running pod of the cluster — or,
 * on a shared cluster where the lab's identity may not list cluster-wide, those of its namespaces.
 */
export async function readSnapshot(cluster: LabCluster): Promise<ClusterSnapshot> {
  const partial = cluster.rename.active;
  const nsList = partial ? cluster.rename.namespaces : (await cluster.list('v1', 'Namespace')).map((n) => n.metadata!.name!);
  const listAll = async <T extends KubernetesObject>(apiVersion: string, kind: string): Promise<T[]> =>
    partial ? (await Promise.all(nsList.map((ns) => cluster.list<T>(apiVersion, kind, ns)))).flat() : cluster.list<T>(apiVersion, kind);
  const [clusterRoles, clusterRoleBindings, roles, roleBindings, secrets, sas, pods] = await Promise.all([
    partial ? [] : cluster.list<RbacObject & KubernetesObject>(RBAC, 'ClusterRole'),
    partial ? [] : cluster.list<RbacObject & KubernetesObject>(RBAC, 'ClusterRoleBinding'),
    listAll<RbacObject & KubernetesObject>(RBAC, 'Role'),
    listAll<RbacObject & KubernetesObject>(RBAC, 'RoleBinding'),
    listAll<KubernetesObject>('v1', 'Secret'),
    listAll<KubernetesObject>('v1', 'ServiceAccount'),
    listAll<KubernetesObject & { spec?: any; status?: any }>('v1', 'Pod'),
  ]);
  const byNs = <T>(items: KubernetesObject[], f: (o: any) => T): Record<string, T[]> => {
    const out: Record<string, T[]> = {};
    for (const o of items) (out[o.metadata!.namespace!] ??= []).push(f(o));
    return out;
  };
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase));
  return {
    partial,
    namespaces: nsList,
    clusterRoles,
    clusterRoleBindings,
    roles,
    roleBindings,
    secrets: byNs(secrets, (s) => s.metadata.name),
    serviceAccounts: byNs(sas, (s) => s.metadata.name),
    pods: byNs(live, (p) => ({ name: p.metadata.name, serviceAccount: p.spec?.serviceAccountName || 'default', secrets: podSecrets(p.spec) })),
  };
}

interface RawResponse {
  status: number;
  body: any;
}

const agents = new WeakMap<LabCluster, Agent>();

/**
 * A request to the API server as another subject (Impersonate-User / Impersonate-Group headers,
 * which the lab's own administrator identity may send): the API server authenticates the lab and
 * then authorizes and admits the request as the subject would be.
 */
export async function requestAs(cluster: LabCluster, s: Subject | undefined, method: string, path: string, body?: unknown): Promise<RawResponse> {
  const server = cluster.kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the lab kubeconfig has no cluster');
  const url = new URL(path, server);
  const opts: RequestOptions = { method, headers: {} };
  await cluster.kc.applyToHTTPSOptions(opts);
  // One keep-alive connection pool per cluster handle (a check may send a hundred requests).
  let agent = agents.get(cluster);
  if (!agent) {
    agent = new Agent({
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      rejectUnauthorized: opts.rejectUnauthorized,
      servername: (opts as { servername?: string }).servername,
      keepAlive: true,
      maxSockets: 16,
    });
    agents.set(cluster, agent);
  }
  opts.agent = agent;
  const headers: Record<string, string | string[]> = { ...(opts.headers as Record<string, string>), accept: 'application/json' };
  if (s) headers['Impersonate-User'] = s.user;
  // Every group, the authenticators' own included: with groups given, impersonation adds none but system:authenticated.
  if (s?.groups.length) headers['Impersonate-Group'] = s.groups;
  const data = body === undefined ? undefined : JSON.stringify(body);
  if (data) headers['content-type'] = 'application/json';
  // Reviews and dry runs only: safe to send again when a kept-alive connection dropped under them.
  return againIfDropped(
    () =>
      new Promise<RawResponse>((resolve, reject) => {
        const req = request(url, { ...opts, headers, timeout: 10_000 }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: any = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        });
        req.on('timeout', () => req.destroy(new ClusterUnreachableError(`no answer from the API server for ${method} ${url.pathname}`)));
        req.on('error', (e) => reject(e instanceof ClusterUnreachableError ? e : new ClusterUnreachableError(e.message)));
        if (data) req.write(data);
        req.end();
      }),
  );
}

/**
 * The API server's own RBAC rule list for the subject in a namespace (a SelfSubjectRulesReview sent
 * as the subject), as atoms. Undefined where the lab may not impersonate (a shared cluster).
 */
export async function rulesReview(cluster: LabCluster, s: Subject, namespace: string): Promise<{ atoms: Atom[]; incomplete: boolean } | undefined> {
  if (cluster.rename.active) return undefined;
  const res = await requestAs(cluster, s, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectRulesReview',
    spec: { namespace },
  });
  if (res.status !== 201 && res.status !== 200) return undefined;
  const st = res.body?.status ?? {};
  const atoms: Atom[] = [];
  for (const r of (st.resourceRules ?? []) as PolicyRule[]) atoms.push(...atomsOf(r, namespace));
  for (const r of (st.nonResourceRules ?? []) as PolicyRule[]) atoms.push(...atomsOf({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }, '*'));
  return { atoms, incomplete: !!st.incomplete };
}

/** A SubjectAccessReview: whether the API server's authorizers (Node, RBAC, any other) allow the request. */
export async function accessReview(
  cluster: LabCluster,
  s: Subject,
  q: { verb: string; group: string; resource: string; namespace?: string; name?: string },
): Promise<{ allowed: boolean; reason?: string }> {
  const [resource, subresource] = q.resource.split('/');
  const res = await cluster.authz.createSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: s.user,
        groups: s.groups,
        resourceAttributes: { verb: q.verb, group: q.group, resource, subresource, namespace: q.namespace, name: q.name },
      },
    },
  });
  return { allowed: !!res.status?.allowed, reason: res.status?.reason };
}

/** Ask every escalation question in each namespace (and cluster-wide): the allowed ones, as atoms. */
export async function askBattery(
  cluster: LabCluster,
  s: Subject,
  questions: Question[],
  namespaces: string[],
): Promise<{ atom: Atom; kind: string; reason?: string }[]> {
  const jobs: (() => Promise<{ atom: Atom; kind: string; reason?: string } | undefined>)[] = [];
  for (const q of questions) {
    const where = q.namespaced ? namespaces : [''];
    for (const ns of where) {
      jobs.push(async () => {
        const r = await accessReview(cluster, s, { ...q, namespace: ns || undefined });
        return r.allowed ? { atom: { verb: q.verb, group: q.group, resource: q.resource, namespace: ns || '*' }, kind: q.kind, reason: r.reason } : undefined;
      });
    }
  }
  const out: { atom: Atom; kind: string; reason?: string }[] = [];
  await pool(jobs, 12, (r) => {
    if (r) out.push(r);
  });
  return out;
}

/** A dry-run create as the subject (or as the lab, for pods a controller would create): admitted or not, and why. */
export async function dryRunAs(cluster: LabCluster, s: Subject | undefined, obj: KubernetesObject): Promise<{ admitted: boolean; message: string }> {
  await cluster.guard.ensureWrite(obj);
  if (!s) {
    const r = await cluster.dryRunCreate(obj);
    return { admitted: r.allowed, message: r.message };
  }
  const ns = obj.metadata!.namespace!;
  const plural = obj.kind === 'Pod' ? 'pods' : `${obj.kind!.toLowerCase()}s`;
  const base = obj.apiVersion === 'v1' ? '/api/v1' : `/apis/${obj.apiVersion}`;
  const res = await requestAs(cluster, s, 'POST', `${base}/namespaces/${ns}/${plural}?dryRun=All&fieldManager=kube-seclab`, obj);
  return { admitted: res.status === 201 || res.status === 200, message: res.body?.message ?? `HTTP ${res.status}` };
}

export async function pool<T>(jobs: (() => Promise<T>)[], width: number, each: (r: T) => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      each(await jobs[i]());
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
}
