import { readFile, readdir } from 'node:fs/promises';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { CheckOutcome, CheckPrimitive } from './types.js';
import { keyId, parseImageRef, publicKeysFromPem, storedSignatures, verifyImageSignature, PUB_FILE, SIGNATURE_STORE } from '../signing.js';
import { workspaceFile } from '../workspace.js';
import { containersOf, podSpecsIn, podSpecWatches } from './podSpecs.js';

const schema = z
  .object({
    /** The Deployment whose images must be signed (and, with `admitted`, admitted). */
    namespace: z.string(),
    name: z.string(),
    /**
     * trusted-key: the verifier trusts the workspace key's public half (and no other key);
     * signed: every image of every pod and pod template in the namespace (the Deployment's, and anything
     *   else running or waiting there, ephemeral containers too) is pinned by digest and signed with the workspace key;
     * admitted: a pod of the Deployment's template passes admission (a server-side dry run).
     */
    expect: z.enum(['trusted-key', 'signed', 'admitted']),
    /** The verifier's ConfigMap of trusted public keys (PEM) and its entry. */
    verifier: z.object({ namespace: z.string(), configMap: z.string(), key: z.string() }).strict(),
    /** Where signatures are stored (a ConfigMap, keys sha256-<hex>.sig). */
    store: z
      .object({ namespace: z.string(), name: z.string() })
      .strict()
      .default({ ...SIGNATURE_STORE }),
    /** The learner's public key, in the workspace. */
    publicKey: z.string().default(PUB_FILE),
  })
  .strict();
type P = z.infer<typeof schema>;

/**
 * The learner's keys: the public halves of every ed25519 private key in the workspace's signing
 * folder (signing.key, or a key they made under another name and sign with `--key`), and the
 * public key file. A key the verifier trusts must be one of these: a key whose private half is
 * somewhere else is a key somebody else can sign with.
 */
async function workspaceKeys(pubPath: string): Promise<KeyObject[]> {
  const out = publicKeysFromPem(await readFile(pubPath, 'utf8').catch(() => undefined));
  const dir = dirname(pubPath);
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const text = await readFile(join(dir, f), 'utf8').catch(() => '');
    for (const block of text.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/g) ?? []) {
      try {
        const k = createPublicKey(block);
        if (k.asymmetricKeyType === 'ed25519' && !out.some((o) => keyId(o) === keyId(k))) out.push(k);
      } catch {
        /* not a key */
      }
    }
    for (const k of publicKeysFromPem(text)) if (!out.some((o) => keyId(o) === keyId(k))) out.push(k);
  }
  return out;
}

/** Pod-template images: init containers and containers. */
const templateImages = (d: any): { name: string; image: string }[] => [
  ...(d?.spec?.template?.spec?.initContainers ?? []),
  ...(d?.spec?.template?.spec?.containers ?? []),
];

/** Image signatures: the verifier trusts the learner's key, the running images are signed with it, and admission lets them in. */
export const imageSignature: CheckPrimitive<P> = {
  type: 'imageSignature',
  schema,
  watches: (p) => [
    ...(p.expect === 'signed' ? podSpecWatches(p.namespace) : [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: p.namespace }]),
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
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${p.name}-signature-probe`, namespace: p.namespace, labels: d.spec?.template?.metadata?.labels },
        spec: d.spec?.template?.spec,
      };
      const r = await ctx.cluster.dryRunCreate(pod);
      return r.allowed
        ? {
            passed: true,
            message: `a pod of ${what} (${templateImages(d)
              .map((c) => c.image.replace(/@sha256:(.{12}).*$/, '@sha256:$1…'))
              .join(', ')}) is admitted`,
          }
        : { passed: false, message: `a pod of ${what} is refused at admission: ${r.message}` };
    }

    const pubPath = workspaceFile(ctx, p.publicKey);
    const yours = await workspaceKeys(pubPath);
    if (!yours.length)
      return { passed: false, message: `no ed25519 key in ${dirname(pubPath)}: \`kube-seclab sign --generate-key\` makes your key pair there` };
    const yourIds = yours.map(keyId);
    const conf: any = await ctx.cluster.read({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: p.verifier.configMap, namespace: p.verifier.namespace },
    });
    const trusted = publicKeysFromPem(conf?.data?.[p.verifier.key]);

    if (p.expect === 'trusted-key') {
      const where = `ConfigMap ${p.verifier.namespace}/${p.verifier.configMap}`;
      if (!conf) return { passed: false, message: `${where} is gone — the verifier has no keys to trust (a lesson reset puts it back)` };
      if (!trusted.length)
        return {
          passed: false,
          message: `${where} has no ed25519 public key under ${p.verifier.key}: the verifier trusts nobody, so it can verify nothing — put your public key (${pubPath}) there`,
        };
      const ids = trusted.map(keyId);
      const others = ids.filter((i) => !yourIds.includes(i));
      if (others.length)
        return {
          passed: false,
          message: `${where} trusts key ${others.join(', ')}, which is not a key of yours (${dirname(pubPath)}): whoever holds its private half can sign images that run — trust only your key`,
        };
      return { passed: true, message: `${where} trusts only your key${ids.length > 1 ? 's' : ''} ${ids.join(', ')}` };
    }

    const cm: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: p.store.name, namespace: p.store.namespace } });
    // Signed with a key the verifier trusts that is yours (if it trusts none of yours, with your key: the signature is what is judged here).
    const keys = trusted.filter((k) => yourIds.includes(keyId(k)));
    if (!keys.length) keys.push(...yours);
    const keyIds = keys.map(keyId).join(', ');
    // Every pod spec of the namespace, the Deployment's template first: one unsigned neighbour admitted before the webhook runs all the same.
    const sources = (await podSpecsIn(ctx, p.namespace)).sort(
      (a, b) => Number(b.kind === 'Deployment' && b.name === p.name) - Number(a.kind === 'Deployment' && a.name === p.name),
    );
    let n = 0;
    for (const s of sources) {
      for (const { where, c } of containersOf(s.spec)) {
        n++;
        const at = `${s.what}, ${where} ${c.name}`;
        const ref = parseImageRef(c.image);
        if (!ref) return { passed: false, message: `${at}: ${c.image} is not pinned by digest — a tag can be moved, only a digest can be signed` };
        const why = verifyImageSignature(c.image, keys, storedSignatures(cm?.data, ref.digest));
        if (why)
          return {
            passed: false,
            message: `${at}: ${why.replace('the trusted key', `the key the verifier trusts (${keyIds})`)} — \`kube-seclab sign ${c.image}\` with it${s.live && s.kind === 'Pod' && !s.name.startsWith(p.name) ? ', or delete what you do not trust' : ''}`,
          };
      }
    }
    return {
      passed: true,
      message: `every image in namespace ${p.namespace} (${n} container${n === 1 ? '' : 's'} of ${sources.length} pod spec${sources.length === 1 ? '' : 's'}, ${what}'s included) is signed with your key ${keyIds}`,
    };
  },
};
