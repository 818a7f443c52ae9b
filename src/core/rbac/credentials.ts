import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import type { LabCluster } from '../kube/client.js';
import { apiError } from '../kube/errors.js';
import { podSecrets } from './cluster.js';
import { subjectOf, type Subject } from './model.js';

/**
 * Credentials a pod carries besides its own ServiceAccount's token: a ServiceAccount token Secret
 * mounted in place of the automounted one, a token copied into an Opaque Secret, a ConfigMap or an
 * env value, a kubeconfig with a client certificate. A pod "running as" a least-privileged
 * ServiceAccount that holds one of those has that identity's power too, so a least-privilege check
 * judges it as well. Who a credential is, the API server says: tokens through a TokenReview,
 * client certificates by their signature from the cluster's CA (CN = user, O = groups).
 */
export interface CarriedCredential {
  subject: Subject;
  /** Where the pod gets it: `Secret shop/helper-token`, `an env value of container app`, … */
  from: string;
}

const JWT = /eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+/g;
const BOOTSTRAP = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g;
const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const CERT_DATA = /client-certificate-data:\s*["']?([A-Za-z0-9+/=]+)/g;
/** More candidates than this in one workload is not a fix anyone writes: the check fails rather than ask them all. */
const MAX_CANDIDATES = 40;

/** A token the lab may not identify (no TokenReview permission): the verdict cannot be ✓. */
export class UnidentifiedCredential extends Error {
  constructor(
    readonly from: string,
    why = 'a Kubernetes API token, and this lab may not ask the API server whose it is (TokenReview is forbidden to it)',
  ) {
    super(`the pods can read ${why} — in ${from}`);
  }
}

/** The ConfigMaps a pod spec reads (volumes, projected volumes, env, envFrom). */
export function podConfigMaps(spec: any): string[] {
  const out = new Set<string>();
  for (const v of spec?.volumes ?? []) {
    if (v.configMap?.name) out.add(v.configMap.name);
    for (const src of v.projected?.sources ?? []) if (src.configMap?.name) out.add(src.configMap.name);
  }
  for (const c of containersOf(spec)) {
    for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef?.name) out.add(e.valueFrom.configMapKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.configMapRef?.name) out.add(e.configMapRef.name);
  }
  return [...out];
}

function containersOf(spec: any): any[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])];
}

/** Every string a credential could hide in: values that look like tokens or certificates. */
export function credentialCandidates(text: string): { tokens: string[]; certs: string[] } {
  const tokens = new Set<string>([...(text.match(JWT) ?? []), ...(text.match(BOOTSTRAP) ?? [])]);
  const certs = new Set<string>(text.match(PEM) ?? []);
  for (const m of text.matchAll(CERT_DATA)) {
    const pem = Buffer.from(m[1], 'base64').toString('utf8');
    for (const c of pem.match(PEM) ?? []) certs.add(c);
  }
  return { tokens: [...tokens], certs: [...certs] };
}

/** The texts a set of pod specs can read, each with where it comes from. */
async function readableTexts(cluster: LabCluster, namespace: string, specs: any[]): Promise<{ from: string; text: string }[]> {
  const out: { from: string; text: string }[] = [];
  const secrets = new Set<string>();
  const configMaps = new Set<string>();
  for (const spec of specs) {
    for (const s of podSecrets(spec)) secrets.add(s);
    for (const c of podConfigMaps(spec)) configMaps.add(c);
    for (const c of containersOf(spec)) {
      const literal = [...(c.command ?? []), ...(c.args ?? []), ...(c.env ?? []).map((e: any) => e.value ?? '')].join('\n');
      if (literal.trim()) out.push({ from: `the command, args or env values of container ${c.name}`, text: literal });
    }
  }
  const read = (kind: 'Secret' | 'ConfigMap', name: string): Promise<any> => cluster.read({ apiVersion: 'v1', kind, metadata: { name, namespace } });
  for (const name of secrets) {
    const s = await read('Secret', name);
    if (!s) continue;
    const values = Object.values<string>(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8'));
    out.push({ from: `Secret ${namespace}/${name}`, text: [...values, ...Object.values<string>(s.stringData ?? {})].join('\n') });
  }
  for (const name of configMaps) {
    const c = await read('ConfigMap', name);
    if (!c) continue;
    const values = [...Object.values<string>(c.data ?? {}), ...Object.values<string>(c.binaryData ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8'))];
    out.push({ from: `ConfigMap ${namespace}/${name}`, text: values.join('\n') });
  }
  return out;
}

/** The cluster CA's certificate from the lab's kubeconfig, to tell a client certificate the API server accepts. */
function clusterCa(cluster: LabCluster): X509Certificate | undefined {
  const c = cluster.kc.getCurrentCluster();
  try {
    if (c?.caData) return new X509Certificate(Buffer.from(c.caData, 'base64'));
    if (c?.caFile) return new X509Certificate(readFileSync(c.caFile));
  } catch {
    /* no readable CA: certificates are not judged */
  }
  return undefined;
}

/** A client certificate's identity, when the cluster's CA signed it and it is valid now. */
export function certificateSubject(pem: string, ca: X509Certificate | undefined, now = new Date()): Subject | undefined {
  if (!ca) return undefined;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return undefined;
  }
  if (cert.ca || !cert.verify(ca.publicKey)) return undefined;
  if (new Date(cert.validFrom) > now || new Date(cert.validTo) < now) return undefined;
  const fields = cert.subject.split('\n');
  const cn = fields.find((f) => f.startsWith('CN='))?.slice(3);
  if (!cn) return undefined;
  return subjectOf(
    cn,
    fields.filter((f) => f.startsWith('O=')).map((f) => f.slice(2)),
  );
}

/**
 * The identities of the credentials the given pod specs can read, other than a ServiceAccount's
 * automounted token. `skip` is the users already judged (the pods' own ServiceAccounts).
 */
export async function carriedCredentials(cluster: LabCluster, namespace: string, specs: any[], skip: Set<string>): Promise<CarriedCredential[]> {
  const texts = await readableTexts(cluster, namespace, specs);
  const found = new Map<string, CarriedCredential>();
  const auth = cluster.kc.makeApiClient(AuthenticationV1Api);
  const ca = clusterCa(cluster);
  let asked = 0;
  for (const { from, text } of texts) {
    const { tokens, certs } = credentialCandidates(text);
    for (const token of tokens) {
      // Padding the pods' Secrets with decoys must not hide the one token that matters: past the limit, no ✓.
      if (asked++ >= MAX_CANDIDATES)
        throw new UnidentifiedCredential(from, `more than ${MAX_CANDIDATES} API tokens, more than the lab asks the API server about`);
      await cluster.guard.ensure();
      let r;
      try {
        r = await auth.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
      } catch (e) {
        // A shared cluster's lab identity may not ask who a token is: the pods hold a credential no one can vouch for.
        if (apiError(e).code === 403) throw new UnidentifiedCredential(from);
        throw e;
      }
      const user = r.status?.authenticated ? r.status.user : undefined;
      if (!user?.username || skip.has(user.username) || found.has(user.username)) continue;
      found.set(user.username, { subject: subjectOf(user.username, user.groups ?? []), from });
    }
    for (const pem of certs) {
      const s = certificateSubject(pem, ca);
      if (!s || skip.has(s.user) || found.has(s.user)) continue;
      found.set(s.user, { subject: s, from });
    }
  }
  return [...found.values()];
}
