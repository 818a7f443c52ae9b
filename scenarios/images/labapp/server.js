'use strict';
// A stand-in workload for kube-seclab's scenarios. It answers HTTP on every port it is given
// (LAB_PORTS, else the app's usual ones) so Services, probes and NetworkPolicy tests have
// something real to reach. LAB_APP picks the behaviour:
//   lab-cloud-metadata  a simulated cloud instance-metadata service handing out credentials
//   lab-cloud-api       a simulated cloud API that accepts those credentials
//   anything else       an app that says who it is (and, for toolbox/netshoot, just waits)
const http = require('node:http');
const os = require('node:os');

const app = process.env.LAB_APP || 'labapp';
const defaults = { 'storefront-db': '5432', 'storefront-api': '8080,9090' };
const ports = (process.env.LAB_PORTS || defaults[app] || '8080').split(',').map((p) => Number(p.trim())).filter(Boolean);

const json = (res, code, body) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body) + '\n'); };

let served = 0; // requests answered, for the optional metrics listener below

function handler(req, res) {
  served++;
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/healthz' || url.pathname === '/readyz') return json(res, 200, { ok: true });
  if (app === 'lab-cloud-metadata') {
    if (url.pathname === '/latest/meta-data/iam/security-credentials/') { res.end('lab-node-role\n'); return; }
    if (url.pathname.startsWith('/latest/meta-data/iam/security-credentials/')) {
      return json(res, 200, { Code: 'Success', AccessKeyId: 'LABAKIA0000NODEROLE', SecretAccessKey: 'lab-secret-node-role-do-not-use', Token: 'lab-session-token', Expiration: new Date(Date.now() + 3600e3).toISOString() });
    }
    return json(res, 404, { error: 'not found' });
  }
  if (app === 'lab-cloud-api') {
    const auth = req.headers.authorization || '';
    if (!auth) return json(res, 401, { error: 'credentials required' });
    return json(res, 200, { buckets: ['gallery-uploads', 'billing-exports'] });
  }
  if (app === 'giftcard-api') return giftcardApi(req, res, url);
  if (app === 'doc-storage') return docStorage(req, res, url);
  return json(res, 200, { app, pod: os.hostname(), path: url.pathname });
}

// giftcard-api (lesson secrets-in-layers): a stand-in gift-card provider. It answers only requests
// that carry its one active API key (ACTIVE_KEY, from a Secret) in header x-api-key: rotating the
// key there is what makes a leaked key worthless.
function giftcardApi(req, res, url) {
  const active = (process.env.ACTIVE_KEY || '').trim();
  if (!active) return json(res, 503, { error: 'no active API key configured (ACTIVE_KEY)' });
  if ((req.headers['x-api-key'] || '') !== active) return json(res, 401, { error: 'invalid API key' });
  return json(res, 200, { provider: 'giftcard-api', path: url.pathname, balance: { currency: 'EUR', cents: 125000 } });
}

// doc-storage (lesson dast): the document storage docshare syncs from. It answers only requests that
// carry its one accepted token (ACTIVE_TOKEN, from a Secret) as `authorization: Bearer …`: rotating
// the token there is what makes a leaked one worthless.
function docStorage(req, res, url) {
  const active = (process.env.ACTIVE_TOKEN || '').trim();
  if (!active) return json(res, 503, { error: 'no accepted token configured (ACTIVE_TOKEN)' });
  if ((req.headers.authorization || '') !== `Bearer ${active}`) return json(res, 401, { error: 'invalid storage token' });
  return json(res, 200, { storage: 'doc-storage', path: url.pathname, files: ['handbook.md', 'holidays-2030.txt', 'oncall-guide.md', 'welcome.txt'] });
}

// thumbnailer (lesson least-privilege-container): at start-up it writes to its cache directory
// (CACHE_DIR) and stops if it cannot — on a read-only root filesystem that needs a writable volume.
if (app === 'thumbnailer' && process.env.CACHE_DIR) {
  const fs = require('node:fs');
  try {
    fs.mkdirSync(process.env.CACHE_DIR, { recursive: true });
    fs.writeFileSync(`${process.env.CACHE_DIR}/started`, `${new Date().toISOString()}\n`);
  } catch (e) {
    console.error(`thumbnailer: cannot write to its cache directory ${process.env.CACHE_DIR} (${e.code}) — a read-only root filesystem needs a writable volume there`);
    process.exit(1);
  }
}

// Optional metrics listener (lesson restrict-ports): off unless METRICS_PORT is set, so no other
// app changes. METRICS_HOST is the address it binds: every interface (0.0.0.0, what many metrics
// libraries do by default) unless set; 127.0.0.1 keeps it inside the pod, where a sidecar or
// `kubectl exec` can still read it. Prometheus text format on /metrics.
if (process.env.METRICS_PORT) {
  const metricsHost = process.env.METRICS_HOST || '0.0.0.0';
  http.createServer((req, res) => {
    if (new URL(req.url, 'http://x').pathname !== '/metrics') { res.writeHead(404); res.end('not found\n'); return; }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end([
      '# HELP lab_requests_total HTTP requests the app answered.', '# TYPE lab_requests_total counter', `lab_requests_total{app="${app}"} ${served}`,
      '# HELP process_uptime_seconds Seconds since the process started.', '# TYPE process_uptime_seconds gauge', `process_uptime_seconds ${process.uptime().toFixed(1)}`,
    ].join('\n') + '\n');
  }).listen(Number(process.env.METRICS_PORT), metricsHost, () => console.log(`${app} metrics on ${metricsHost}:${process.env.METRICS_PORT}/metrics`));
}

for (const port of ports) {
  http.createServer(handler).listen(port, '0.0.0.0', () => console.log(`${app} listening on :${port}`));
}
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
