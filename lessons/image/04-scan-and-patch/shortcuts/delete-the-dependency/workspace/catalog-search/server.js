'use strict';
// catalog-search — the shop's product search. Its query options use the same syntax as the team's
// command-line tools, so it parses them with minimist:
//   GET /search?q=--category shoes --max 60      products, filtered
//   GET /admin/reindex                           rebuild the index (ops only: a bearer token)
//   GET /healthz                                 liveness/readiness
const http = require('node:http');
const crypto = require('node:crypto');
const parseArgs = require('minimist');

const PORT = Number(process.env.PORT || 8080);
const ADMIN_TOKEN = process.env.ADMIN_TOKEN || crypto.randomBytes(24).toString('hex');

const products = [
  { id: 1, name: 'Trail runner', category: 'shoes', price: 89 },
  { id: 2, name: 'City sneaker', category: 'shoes', price: 59 },
  { id: 3, name: 'Rain jacket', category: 'jackets', price: 120 },
  { id: 4, name: 'Wool socks', category: 'socks', price: 12 },
];

const json = (res, code, body) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body) + '\n'); };

function search(req, res, url) {
  const opts = parseArgs((url.searchParams.get('q') || '').split(/\s+/).filter(Boolean), { string: ['category'], default: { max: 1000 } });
  const results = products.filter((p) => (!opts.category || p.category === opts.category) && p.price <= Number(opts.max));
  json(res, 200, { query: { category: opts.category || null, max: Number(opts.max) }, results });
}
search.public = true;

function reindex(req, res) {
  json(res, 200, { reindexed: products.length, note: 'admin operation' });
}

function healthz(req, res) { json(res, 200, { ok: true }); }
healthz.public = true;

const routes = new Map([['/search', search], ['/admin/reindex', reindex], ['/healthz', healthz]]);

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://catalog-search');
  const route = routes.get(url.pathname);
  if (!route) return json(res, 404, { error: 'not found' });
  // Handlers marked public need no token; everything else is for the ops team.
  if (!route.public && req.headers.authorization !== `Bearer ${ADMIN_TOKEN}`) return json(res, 403, { error: 'forbidden' });
  try { route(req, res, url); } catch (e) { json(res, 500, { error: 'internal error' }); }
}).listen(PORT, '0.0.0.0', () => console.log(`catalog-search listening on :${PORT}`));

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
