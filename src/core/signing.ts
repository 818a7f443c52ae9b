import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { LabCluster } from './kube/client.js';
import { UserError } from './errors.js';
import { workspaceFile } from './workspace.js';

/**
 * Image signing as the lab does it — cosign's model without a registry or a transparency log: an
 * ed25519 key pair in the learner's workspace; a signature over a "simple signing" payload that
 * names the image's repository and digest (the JSON cosign signs); the signatures kept in the
 * lab's signature store, a ConfigMap whose keys are `sha256-<hex>.sig` (where cosign would push a
 * `<repo>:sha256-<hex>.sig` tag). scenarios/images/image-verifier/verifier.cjs checks the same
 * format at admission.
 */
export const KEY_FILE = 'signing/signing.key';
export const PUB_FILE = 'signing/signing.pub';
/** Where `kube-seclab sign` stores signatures (the verifier of lesson image-signing reads them there). */
export const SIGNATURE_STORE = { namespace: 'image-verifier', name: 'image-signatures' } as const;

export interface StoredSignature {
  payload: string;
  signature: string;
  keyId: string;
}
export interface ImageRef {
  repo: string;
  digest: string;
}

/** `repo[:tag]@sha256:<hex>` → its repository and digest; undefined when not pinned by digest. */
export function parseImageRef(image: string): ImageRef | undefined {
  const m = /^(.+?)(?::[\w][\w.-]{0,127})?@(sha256:[0-9a-f]{64})$/.exec(image);
  return m ? { repo: m[1], digest: m[2] } : undefined;
}

/** The store's key for a digest: `sha256-<hex>.sig`. */
export const signatureKey = (digest: string) => `${digest.replace(':', '-')}.sig`;

/** The bytes that get signed: cosign's simple-signing JSON, naming the repository and the digest. */
export function signaturePayload(ref: ImageRef): string {
  return JSON.stringify({
    critical: { identity: { 'docker-reference': ref.repo }, image: { 'docker-manifest-digest': ref.digest }, type: 'cosign container image signature' },
    optional: { creator: 'kube-seclab sign' },
  });
}

/** A short fingerprint of a public key: sha256 of its DER (SubjectPublicKeyInfo), 16 hex digits. */
export function keyId(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** The ed25519 public keys in a PEM bundle (anything else is left out). */
export function publicKeysFromPem(pem: string | undefined): KeyObject[] {
  const blocks = (pem ?? '').match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  const out: KeyObject[] = [];
  for (const b of blocks) {
    try {
      const k = createPublicKey(b);
      if (k.asymmetricKeyType === 'ed25519') out.push(k);
    } catch {
      /* not a key */
    }
  }
  return out;
}

/** Sign an image reference (by digest) with an ed25519 private key. */
export function signImageRef(ref: ImageRef, privateKey: KeyObject): StoredSignature {
  const payload = Buffer.from(signaturePayload(ref));
  return { payload: payload.toString('base64'), signature: sign(null, payload, privateKey).toString('base64'), keyId: keyId(createPublicKey(privateKey)) };
}

/**
 * Is an image signed by one of the keys? `entries` are the stored signatures of its digest. The
 * signature must verify AND its payload must name this repository and digest. Undefined when it
 * is signed, else why not — in the verifier's words.
 */
export function verifyImageSignature(image: string, keys: KeyObject[], entries: unknown[]): string | undefined {
  const ref = parseImageRef(image);
  if (!ref) return `${image} is not pinned by digest (…@sha256:<digest>): only a digest can be signed`;
  if (!keys.length) return 'no trusted public key to verify with';
  if (!entries.length) return `${image} has no signature (nothing under ${signatureKey(ref.digest)})`;
  let why = `${image} is signed, but not by the trusted key`;
  for (const e of entries as Partial<StoredSignature>[]) {
    const payload = Buffer.from(String(e?.payload ?? ''), 'base64');
    const sig = Buffer.from(String(e?.signature ?? ''), 'base64');
    if (
      !keys.some((k) => {
        try {
          return verify(null, payload, k, sig);
        } catch {
          return false;
        }
      })
    )
      continue;
    let crit: any;
    try {
      crit = JSON.parse(payload.toString('utf8')).critical;
    } catch {
      continue;
    }
    if (crit?.image?.['docker-manifest-digest'] !== ref.digest) {
      why = `${image}: the trusted signature under its digest is for another digest`;
      continue;
    }
    if (crit?.identity?.['docker-reference'] !== ref.repo) {
      why = `${image}: the trusted signature is for repository ${crit?.identity?.['docker-reference']}, not ${ref.repo}`;
      continue;
    }
    return undefined;
  }
  return why;
}

/** The signatures stored for a digest (a JSON list under `sha256-<hex>.sig`; anything unreadable counts as none). */
export function storedSignatures(data: Record<string, string> | undefined, digest: string): unknown[] {
  try {
    const v = JSON.parse(data?.[signatureKey(digest)] ?? '[]');
    return Array.isArray(v) ? v : [v];
  } catch {
    return [];
  }
}

/** A new ed25519 key pair in the workspace (the private key readable by you only). Never overwrites one. */
export async function generateSigningKey(workspace: string): Promise<{ key: string; pub: string; keyId: string }> {
  const key = workspaceFile({ workspace }, KEY_FILE);
  const pub = workspaceFile({ workspace }, PUB_FILE);
  if (existsSync(key))
    throw new UserError(
      `a signing key already exists: ${key}`,
      'sign with it (leave out --generate-key); to start over, delete it — images signed with it will no longer verify with a new key',
    );
  const pair = generateKeyPairSync('ed25519');
  await mkdir(dirname(key), { recursive: true, mode: 0o700 });
  await writeFile(key, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return { key, pub, keyId: keyId(pair.publicKey) };
}

/** The private key to sign with: a file you name (relative to the current folder), else the workspace's. */
export async function loadSigningKey(workspace: string, file?: string): Promise<{ path: string; key: KeyObject }> {
  const path = file ? resolve(file) : workspaceFile({ workspace }, KEY_FILE);
  const pem = await readFile(path, 'utf8').catch(() => undefined);
  if (pem === undefined) {
    throw new UserError(
      `no signing key at ${path}`,
      file ? 'give the path of a PEM private key' : '`kube-seclab sign --generate-key` makes one in the workspace (and prints where the public half is)',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new UserError(`${path} is not a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new UserError(`${path} is a ${key.asymmetricKeyType} key; the lab signs with ed25519 keys`, '`kube-seclab sign --generate-key` makes one');
  return { path, key };
}

/**
 * `kube-seclab sign IMAGE`: sign an image (by digest) and put the signature in the store — added
 * next to signatures by other keys, replacing an earlier one by the same key.
 */
export async function signImage(o: {
  cluster: LabCluster;
  workspace: string;
  image: string;
  keyFile?: string;
  store?: { namespace: string; name: string };
}): Promise<{ ref: ImageRef; keyId: string; keyPath: string; store: { namespace: string; name: string }; entry: string }> {
  const store = o.store ?? SIGNATURE_STORE;
  const ref = parseImageRef(o.image);
  if (!ref) {
    throw new UserError(
      `${o.image} is not pinned by digest: a tag can be moved to other content, so only a digest (…@sha256:<64 hex>) can be signed`,
      "a Deployment's image: `kubectl -n NAMESPACE get deploy NAME -o jsonpath='{..image}'`; a build of yours: `kube-seclab build` prints it",
    );
  }
  const { path, key } = await loadSigningKey(o.workspace, o.keyFile);
  const sig = signImageRef(ref, key);
  const cmRef = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: store.name, namespace: store.namespace } };
  const cm = await o.cluster.read<KubernetesObject & { data?: Record<string, string> }>(cmRef);
  if (!cm)
    throw new UserError(
      `the signature store ConfigMap ${store.namespace}/${store.name} does not exist`,
      'start the lesson that runs the verifier (`kube-seclab start image-signing`)',
    );
  const entry = signatureKey(ref.digest);
  const others = storedSignatures(cm.data, ref.digest).filter((e) => (e as Partial<StoredSignature>)?.keyId !== sig.keyId);
  await o.cluster.mergePatch({ ...cmRef, data: { [entry]: JSON.stringify([...others, sig]) } } as never);
  return { ref, keyId: sig.keyId, keyPath: path, store, entry };
}
