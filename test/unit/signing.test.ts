import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import { generateKeyPairSync } from 'node:crypto';
import { parseImageRef, publicKeysFromPem, signImageRef, signatureKey, storedSignatures, verifyImageSignature, keyId } from '../../src/core/signing.js';
import { judgeWebhooks, rulesCover, selectorMatches, webhookProblems, type Webhook } from '../../src/core/checks/validatingWebhook.js';

// The verifier that runs in the cluster (plain CommonJS, no dependencies): it must agree with `kube-seclab sign`.
const verifier = createRequire(import.meta.url)('../../scenarios/images/image-verifier/verifier.cjs') as {
  parseImage(i: string): { repo: string; digest: string } | undefined;
  publicKeys(pem: string): unknown[];
  verifyImage(image: string, keys: unknown[], entries: unknown[]): string | undefined;
  podImages(pod: unknown): string[];
};

const D = `sha256:${'ab'.repeat(32)}`;
const D2 = `sha256:${'cd'.repeat(32)}`;
const REPO = 'registry.kube-seclab.local/payments-api';
const pair = () => {
  const p = generateKeyPairSync('ed25519');
  return { priv: p.privateKey, pub: p.publicKey, pem: p.publicKey.export({ type: 'spki', format: 'pem' }) as string };
};

describe('image signatures (kube-seclab sign and the image-verifier)', () => {
  const a = pair();
  const b = pair();
  const sigA = signImageRef({ repo: REPO, digest: D }, a.priv);

  it('parses digest references, with or without a tag, and nothing else', () => {
    expect(parseImageRef(`${REPO}@${D}`)).toEqual({ repo: REPO, digest: D });
    expect(parseImageRef(`${REPO}:1.0@${D}`)).toEqual({ repo: REPO, digest: D });
    expect(parseImageRef('registry.kube-seclab.local:5000/x@' + D)).toEqual({ repo: 'registry.kube-seclab.local:5000/x', digest: D });
    expect(parseImageRef(`${REPO}:1.0`)).toBeUndefined();
    expect(parseImageRef(`${REPO}@sha256:abc`)).toBeUndefined();
    for (const i of [`${REPO}@${D}`, `${REPO}:1.0@${D}`, `${REPO}:1.0`]) expect(verifier.parseImage(i)).toEqual(parseImageRef(i));
    expect(signatureKey(D)).toBe(`sha256-${'ab'.repeat(32)}.sig`);
  });

  it('a signature by the trusted key for this repository and digest verifies — in the lab and in the verifier', () => {
    expect(verifyImageSignature(`${REPO}@${D}`, [a.pub], [sigA])).toBeUndefined();
    expect(verifier.verifyImage(`${REPO}@${D}`, verifier.publicKeys(a.pem), [sigA])).toBeUndefined();
    expect(verifier.verifyImage(`${REPO}:1.0@${D}`, verifier.publicKeys(a.pem), [sigA])).toBeUndefined();
  });

  it('refuses: a tag, no key, no signature, another key, another digest, another repository, a tampered payload', () => {
    const keysA = verifier.publicKeys(a.pem);
    const cases: [string, unknown[], unknown[], RegExp][] = [
      [`${REPO}:1.0`, keysA, [sigA], /not pinned by digest/],
      [`${REPO}@${D}`, [], [sigA], /no trusted public key/],
      [`${REPO}@${D}`, keysA, [], /has no signature/],
      [`${REPO}@${D}`, verifier.publicKeys(b.pem), [sigA], /not by a trusted key/],
      [`${REPO}@${D2}`, keysA, [sigA], /for another digest/],
      [`registry.kube-seclab.local/other@${D}`, keysA, [sigA], /for repository/],
      [
        `${REPO}@${D}`,
        keysA,
        [{ ...sigA, payload: Buffer.from(Buffer.from(sigA.payload, 'base64').toString().replace('payments', 'paymentz')).toString('base64') }],
        /not by a trusted key/,
      ],
      [`${REPO}@${D}`, keysA, [{ payload: 'x', signature: 'y' }, null], /not by a trusted key/],
    ];
    for (const [image, keys, entries, why] of cases) {
      expect(verifier.verifyImage(image, keys, entries)).toMatch(why);
      // the lab's own check agrees (it words "a trusted key" as "the trusted key")
      const mine = verifyImageSignature(image, keys.length ? (keys === keysA ? [a.pub] : [b.pub]) : [], entries);
      expect(mine).toBeDefined();
    }
  });

  it('any of several signatures and several trusted keys may match', () => {
    const sigB = signImageRef({ repo: REPO, digest: D }, b.priv);
    expect(verifier.verifyImage(`${REPO}@${D}`, verifier.publicKeys(a.pem + b.pem), [sigB])).toBeUndefined();
    expect(verifyImageSignature(`${REPO}@${D}`, [a.pub], [sigB, sigA])).toBeUndefined();
  });

  it('reads PEM bundles and the store leniently', () => {
    expect(publicKeysFromPem(`junk\n${a.pem}\n${b.pem}`).map(keyId)).toEqual([keyId(a.pub), keyId(b.pub)]);
    expect(publicKeysFromPem('')).toEqual([]);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(publicKeysFromPem(rsa)).toEqual([]);
    expect(verifier.publicKeys(rsa)).toEqual([]);
    expect(storedSignatures({ [signatureKey(D)]: JSON.stringify([sigA]) }, D)).toEqual([sigA]);
    expect(storedSignatures({ [signatureKey(D)]: '{not json' }, D)).toEqual([]);
    expect(storedSignatures(undefined, D)).toEqual([]);
  });

  it('the verifier judges every container of a pod, init and ephemeral ones too', () => {
    expect(verifier.podImages({ spec: { initContainers: [{ image: 'i' }], containers: [{ image: 'c' }], ephemeralContainers: [{ image: 'e' }] } })).toEqual([
      'i',
      'c',
      'e',
    ]);
  });
});

describe('validatingWebhook: does a webhook really enforce on a namespace?', () => {
  const pay = { 'kubernetes.io/metadata.name': 'payments' };
  const ver = { 'kubernetes.io/metadata.name': 'image-verifier' };
  const ca =
    '-----BEGIN CERTIFICATE-----\nMIIBoTCCAUegAwIBAgIBATAKBggqhkjOPQQDAjA3MTUwMwYDVQQDDCxrdWJlLXNlY2xhYiBpbWFnZS12ZXJpZmllciBsYWIgQ0EgKExBQiBPTkxZKTAgFw0yNTAxMDEwMDAwMDBaGA8yMTI1MDEwMTAwMDAwMFowNzE1MDMGA1UEAwwsa3ViZS1zZWNsYWIgaW1hZ2UtdmVyaWZpZXIgbGFiIENBIChMQUIgT05MWSkwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATU6RJnC9ko0BoWGqUd4qGa2zAbRD7pxCRWbbkY8sYjVv9/mrcgoSLb9LCnrQUAJTTtmsS6ydFnrbLwUdFwwtsvo0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUpbuqQi0qDOKaMUlnAqPzfTbVDFYwCgYIKoZIzj0EAwIDSAAwRQIhAKx2/ew4QuZBTbZbjS2tMzTFHQhmBWNEL8/sNZBbHXL/AiAkgDKBAXD8Skbt7gSn8yfotqD4gfz0H0tRUx2jlYJExw==\n-----END CERTIFICATE-----\n';
  const good: Webhook = {
    name: 'w',
    failurePolicy: 'Fail',
    rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }],
    namespaceSelector: { matchLabels: pay },
    clientConfig: { service: { namespace: 'image-verifier', name: 'image-verifier' }, caBundle: Buffer.from(ca).toString('base64') },
  };
  const target = {
    service: { namespace: 'image-verifier', name: 'image-verifier' },
    namespace: 'payments',
    nsLabels: pay,
    exempt: { 'image-verifier': ver },
    resource: 'pods',
    operations: ['CREATE', 'UPDATE'],
    caPem: ca,
  };
  const judge = (...ws: Webhook[]) => judgeWebhooks([{ metadata: { name: 'c' }, webhooks: ws }], target);

  it('label selectors', () => {
    expect(selectorMatches(undefined, pay)).toBe(true);
    expect(selectorMatches({ matchLabels: pay }, ver)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['payments'] }] }, pay)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['image-verifier'] }] }, ver)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'team', operator: 'Exists' }] }, pay)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, pay)).toBe(true);
  });

  it('rules: group, version, resource, operation and wildcards', () => {
    expect(rulesCover(good.rules, 'pods', 'UPDATE')).toBe(true);
    expect(rulesCover([{ apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], operations: ['*'] }], 'pods', 'CREATE')).toBe(true);
    expect(rulesCover([{ apiGroups: ['apps'], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }], 'pods', 'CREATE')).toBe(false);
    expect(rulesCover([{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods/status'], operations: ['CREATE'] }], 'pods', 'CREATE')).toBe(false);
    expect(rulesCover([{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'], scope: 'Cluster' }], 'pods', 'CREATE')).toBe(false);
  });

  it('passes the solution', () => {
    expect(judge(good)).toMatchObject({ passed: true });
    expect(webhookProblems(good, target)).toEqual([]);
  });

  it('fails every shortcut, naming what is wrong', () => {
    expect(judgeWebhooks([], target).message).toMatch(/no ValidatingWebhookConfiguration calls Service image-verifier\/image-verifier/);
    expect(judge({ ...good, failurePolicy: 'Ignore' }).message).toMatch(/failurePolicy is Ignore/);
    expect(judge({ ...good, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'default' } } }).message).toMatch(
      /does not select namespace payments/,
    );
    expect(judge({ ...good, namespaceSelector: undefined }).message).toMatch(/also covers namespace image-verifier/);
    expect(judge({ ...good, rules: [{ ...good.rules![0], operations: ['CREATE'] }] }).message).toMatch(/do not send pods UPDATE/);
    expect(judge({ ...good, objectSelector: { matchLabels: { signed: 'yes' } } }).message).toMatch(/objectSelector/);
    expect(judge({ ...good, matchConditions: [{ name: 'x', expression: 'false' }] }).message).toMatch(/matchConditions/);
    expect(judge({ ...good, clientConfig: { ...good.clientConfig, caBundle: undefined } }).message).toMatch(/no caBundle/);
    expect(
      judge({
        ...good,
        clientConfig: { ...good.clientConfig, caBundle: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64') },
      }).message,
    ).toMatch(/caBundle is not the CA/);
    expect(judge({ ...good, clientConfig: { ...good.clientConfig, service: { namespace: 'image-verifier', name: 'elsewhere' } } }).passed).toBe(false);
  });

  it('one good webhook among others is enough — unless another one covers an exempt namespace', () => {
    expect(judge({ ...good, name: 'bad', failurePolicy: 'Ignore' }, good).passed).toBe(true);
    expect(judge(good, { ...good, name: 'wide', namespaceSelector: {} }).passed).toBe(false);
  });
});
