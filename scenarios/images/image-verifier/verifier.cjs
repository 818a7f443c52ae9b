'use strict';
// image-verifier — the lab's stand-in for Sigstore policy-controller / Kyverno verifyImages (lesson
// image-signing). A validating admission webhook: the API server sends it every pod it is told to
// (a ValidatingWebhookConfiguration), and it answers "allowed" only when EVERY container image is
//   1. pinned by digest (…@sha256:<64 hex>) — a tag can be moved, only content can be signed;
//   2. signed: a signature for that digest in ConfigMap image-signatures (key sha256-<hex>.sig, as
//      cosign stores `<repo>:sha256-<hex>.sig` next to the image in a registry) whose ed25519
//      signature verifies with a trusted public key from ConfigMap image-verifier-config
//      (trusted-keys.pem), and whose signed payload names this very repository and digest.
// Anything else — no key configured, no signature, a signature by another key, an error reading
// its config — is a denial: it fails closed. Both ConfigMaps are read through the Kubernetes API on
// every request (no caching: a new signature or key counts at once). No dependencies: node:crypto
// verifies ed25519 and node:https serves TLS.
const crypto = require('node:crypto');
const fs = require('node:fs');
const https = require('node:https');

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';
const KEYS_CONFIGMAP = process.env.KEYS_CONFIGMAP || 'image-verifier-config';
const KEYS_ENTRY = process.env.KEYS_ENTRY || 'trusted-keys.pem';
const SIGNATURES_CONFIGMAP = process.env.SIGNATURES_CONFIGMAP || 'image-signatures';

/** `repo[:tag]@sha256:<hex>` → {repo, digest}; undefined when not pinned by digest. */
function parseImage(image) {
  const m = /^(.+?)(?::[\w][\w.-]{0,127})?@(sha256:[0-9a-f]{64})$/.exec(image);
  return m ? { repo: m[1], digest: m[2] } : undefined;
}

/** The trusted ed25519 public keys in a PEM bundle (other blocks ignored). */
function publicKeys(pem) {
  const blocks = String(pem || '').match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) || [];
  return blocks.map((b) => { try { return crypto.createPublicKey(b); } catch { return undefined; } })
    .filter((k) => k && k.asymmetricKeyType === 'ed25519');
}

/**
 * Is `image` signed by one of `keys`? `entries` are the stored signatures of its digest:
 * [{payload: base64, signature: base64}]. Returns undefined when it is, else why not.
 */
function verifyImage(image, keys, entries) {
  const ref = parseImage(image);
  if (!ref) return `${image} is not pinned by digest (…@sha256:<digest>): a tag can be moved to other content, only a digest can be signed`;
  if (!keys.length) return `no trusted public key is configured (ConfigMap ${KEYS_CONFIGMAP}, ${KEYS_ENTRY}), so no signature can be trusted`;
  if (!entries.length) return `${image} has no signature (nothing for ${ref.digest.replace(':', '-')}.sig in ConfigMap ${SIGNATURES_CONFIGMAP})`;
  let why = `${image} is signed, but not by a trusted key`;
  for (const e of entries) {
    const payload = Buffer.from(String(e?.payload || ''), 'base64');
    const sig = Buffer.from(String(e?.signature || ''), 'base64');
    if (!keys.some((k) => { try { return crypto.verify(null, payload, k, sig); } catch { return false; } })) continue;
    let crit;
    try { crit = JSON.parse(payload.toString('utf8')).critical; } catch { continue; }
    // The signature is good; does it vouch for THIS image? (A signature copied from another digest or repository must not count.)
    if (crit?.image?.['docker-manifest-digest'] !== ref.digest) { why = `${image}: the trusted signature under its digest is for another digest`; continue; }
    if (crit?.identity?.['docker-reference'] !== ref.repo) { why = `${image}: the trusted signature is for repository ${crit?.identity?.['docker-reference']}, not ${ref.repo}`; continue; }
    return undefined;
  }
  return why;
}

/** Every image of a pod: containers, init containers, ephemeral containers. */
function podImages(pod) {
  const s = pod?.spec || {};
  return [...(s.initContainers || []), ...(s.containers || []), ...(s.ephemeralContainers || [])].map((c) => c.image);
}

/** GET a ConfigMap of the verifier's own namespace with its ServiceAccount (null when absent). */
function readConfigMap(name) {
  const ns = fs.readFileSync(`${SA}/namespace`, 'utf8').trim();
  const token = fs.readFileSync(`${SA}/token`, 'utf8').trim();
  return new Promise((resolve, reject) => {
    const req = https.get({
      host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT || 443,
      path: `/api/v1/namespaces/${ns}/configmaps/${name}`, ca: fs.readFileSync(`${SA}/ca.crt`),
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, timeout: 4000,
    }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        if (res.statusCode === 404) return resolve(null);
        if (res.statusCode !== 200) return reject(new Error(`reading ConfigMap ${ns}/${name}: HTTP ${res.statusCode}`));
        try { resolve(JSON.parse(body)); } catch (e) { reject(e); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`reading ConfigMap ${ns}/${name}: timed out`)));
    req.on('error', reject);
  });
}

/** The decision for one AdmissionReview request: undefined = allowed, else the denial message. */
async function review(request) {
  if (request.kind?.kind !== 'Pod' || !request.object) return undefined; // it judges pods only
  const [keysCm, sigsCm] = await Promise.all([readConfigMap(KEYS_CONFIGMAP), readConfigMap(SIGNATURES_CONFIGMAP)]);
  const keys = publicKeys(keysCm?.data?.[KEYS_ENTRY]);
  for (const image of podImages(request.object)) {
    const ref = parseImage(image);
    let entries = [];
    try { entries = ref ? JSON.parse(sigsCm?.data?.[`${ref.digest.replace(':', '-')}.sig`] || '[]') : []; } catch { entries = []; }
    const why = verifyImage(image, keys, Array.isArray(entries) ? entries : [entries]);
    if (why) return why;
  }
  return undefined;
}

function serve() {
  const dir = process.env.TLS_DIR || '/tls';
  const port = Number(process.env.PORT || 8443);
  const server = https.createServer({ cert: fs.readFileSync(`${dir}/tls.crt`), key: fs.readFileSync(`${dir}/tls.key`) }, (req, res) => {
    if (req.method === 'GET' && (req.url === '/healthz' || req.url === '/readyz')) { res.writeHead(200); res.end('ok\n'); return; }
    if (req.method !== 'POST') { res.writeHead(405); res.end(); return; }
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', async () => {
      let ar;
      try { ar = JSON.parse(body); } catch { res.writeHead(400); res.end('not JSON\n'); return; }
      const r = ar.request || {};
      let why;
      try { why = await review(r); } catch (e) { why = `cannot verify: ${e.message}`; } // fail closed
      const who = `${r.operation} pod ${r.namespace}/${r.object?.metadata?.name || r.object?.metadata?.generateName || r.name || ''}`;
      console.log(why ? `DENY  ${who}: ${why}` : `ALLOW ${who}`);
      const response = { uid: r.uid, allowed: !why, ...(why ? { status: { code: 403, reason: 'Forbidden', message: `image-verifier: ${why}` } } : {}) };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  server.listen(port, '0.0.0.0', () => console.log(`image-verifier listening on :${port} (TLS), trusting keys from ConfigMap ${KEYS_CONFIGMAP}`));
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
}

if (require.main === module) serve();
module.exports = { parseImage, publicKeys, verifyImage, podImages };
