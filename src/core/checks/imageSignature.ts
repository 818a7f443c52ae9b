import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { CheckOutcome, CheckPrimitive } from './types.js';
import { keyId, parseImageRef, publicKeysFromPem, storedSignatures, verifyImageSignature, PUB_FILE, SIGNATURE_STORE } from '../signing.js';
import { workspaceFile } from '../workspace.js';

const schema = z.object({
  /** The Deployment whose images must be signed (and, with `admitted`, admitted). */
  namespace: z.string(),
  name: z.string(),
  /**
   * trusted-key: the verifier trusts the workspace key's public half (and no other key);
   * signed: every image the Deployment runs is pinned by digest and signed with the workspace key;
   * admitted: a pod of the Deployment's template passes admission (a server-side dry run).
   */
  expect: z.enum(['trusted-key', 'signed', 'admitted']),
  /** The verifier's ConfigMap of trusted public keys (PEM) and its entry. */
  verifier: z.object({ namespace: z.string(), configMap: z.string(), key: z.string() }).strict(),
  /** Where signatures are stored (a ConfigMap, keys sha256-<hex>.sig). */
  store: z.object({ namespace: z.string(), name: z.string() }).strict().default({ ...SIGNATURE_STORE }),
  /** The learner's public key, in the workspace. */
  publicKey: z.string().default(PUB_FILE),
}).strict();
type P = z.infer<typeof schema>;

/** Pod-template images: init containers and containers. */
const templateImages = (d: any): { name: string; image: string }[] => [...(d?.spec?.template?.spec?.initContainers ?? []), ...(d?.spec?.template?.spec?.containers ?? [])];

/** Image signatures: the verifier trusts the learner's key, the running images are signed with it, and admission lets them in. */
export const imageSignature: CheckPrimitive<P> = {
  type: 'imageSignature',
  schema,
  watches: (p) => [
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: p.namespace },
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: p.verifier.namespace },
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: p.store.namespace },
    ...(p.expect === 'admitted' ? [{ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration' }] : []),
  ],
  timeoutMs: (p) => (p.expect === 'admitted' ? 30_000 : 15_000),
  async run(ctx, p): Promise<CheckOutcome> {
    const what = `Deployment ${p.namespace}/${p.name}`;
    const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: p.name, namespace: p.namespace } });
    if (!d && p.expect !== 'trusted-key') return { passed: false, message: `${what} is gone — deleting the workload is not a fix` };

    if (p.expect === 'admitted') {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${p.name}-signature-probe`, namespace: p.namespace, labels: d.spec?.template?.metadata?.labels }, spec: d.spec?.template?.spec };
      const r = await ctx.cluster.dryRunCreate(pod);
      return r.allowed
        ? { passed: true, message: `a pod of ${what} (${templateImages(d).map((c) => c.image.replace(/@sha256:(.{12}).*$/, '@sha256:$1…')).join(', ')}) is admitted` }
        : { passed: false, message: `a pod of ${what} is refused at admission: ${r.message}` };
    }

    const pubPath = workspaceFile(ctx, p.publicKey);
    const mine = publicKeysFromPem(await readFile(pubPath, 'utf8').catch(() => undefined))[0];
    if (!mine) return { passed: false, message: `no ed25519 public key at ${pubPath}: \`kube-seclab sign --generate-key\` makes your key pair there` };
    const myId = keyId(mine);

    if (p.expect === 'trusted-key') {
      const cm: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: p.verifier.configMap, namespace: p.verifier.namespace } });
      const where = `ConfigMap ${p.verifier.namespace}/${p.verifier.configMap}`;
      if (!cm) return { passed: false, message: `${where} is gone — the verifier has no keys to trust (a lesson reset puts it back)` };
      const keys = publicKeysFromPem(cm.data?.[p.verifier.key]);
      if (!keys.length) return { passed: false, message: `${where} has no ed25519 public key under ${p.verifier.key}: the verifier trusts nobody, so it can verify nothing — put your public key (${pubPath}) there` };
      const ids = keys.map(keyId);
      if (!ids.includes(myId)) return { passed: false, message: `${where} trusts key ${ids.join(', ')}, not your key ${myId} (${pubPath}) — images you sign would not verify` };
      const others = ids.filter((i) => i !== myId);
      if (others.length) return { passed: false, message: `${where} also trusts key ${others.join(', ')}: whoever holds its private half can sign images that run — trust only your key ${myId}` };
      return { passed: true, message: `${where} trusts exactly your key ${myId}` };
    }

    const cm: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: p.store.name, namespace: p.store.namespace } });
    for (const c of templateImages(d)) {
      const ref = parseImageRef(c.image);
      if (!ref) return { passed: false, message: `${what}, container ${c.name}: ${c.image} is not pinned by digest — a tag can be moved, only a digest can be signed` };
      const why = verifyImageSignature(c.image, [mine], storedSignatures(cm?.data, ref.digest));
      if (why) return { passed: false, message: `${what}, container ${c.name}: ${why.replace('the trusted key', `your key ${myId}`)} — \`kube-seclab sign ${c.image}\`` };
    }
    return { passed: true, message: `every image of ${what} is signed with your key ${myId}` };
  },
};
