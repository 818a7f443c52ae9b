'use strict';
// prefs-api — customers' display preferences for the shop. The defaults are a JSON5 file (so the
// team can comment them) and customers send their changes as JSON5 too, parsed with the json5 package:
//   GET /prefs?set={theme:'dark',currency:'CHF'}   the effective preferences
//   GET /healthz                                    liveness/readiness
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const JSON5 = require('json5');

const PORT = Number(process.env.PORT || 8080);
const defaults = JSON5.parse(fs.readFileSync(path.join(__dirname, 'defaults.json5'), 'utf8'));
const ALLOWED = ['theme', 'currency', 'language'];

const json = (res, code, body) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body) + '\n'); };

function prefs(res, url) {
  let input;
  try { input = JSON5.parse(url.searchParams.get('set') || '{}'); } catch (e) { return json(res, 400, { error: `not valid JSON5: ${e.message}` }); }
  if (!input || typeof input !== 'object' || Array.isArray(input)) return json(res, 400, { error: 'send an object, e.g. {theme: "dark"}' });
  // Customers may only set these keys; anything else (debug!) is refused.
  const unknown = Object.keys(input).filter((k) => !ALLOWED.includes(k));
  if (unknown.length) return json(res, 400, { error: `unknown preference ${unknown[0]}`, allowed: ALLOWED });
  const effective = Object.fromEntries(ALLOWED.map((k) => [k, input[k] ?? defaults[k]]));
  const body = { preferences: effective };
  if (input.debug) body.debug = { defaults, pid: process.pid, node: process.version };
  json(res, 200, body);
}

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://prefs-api');
  if (url.pathname === '/healthz') return json(res, 200, { ok: true });
  if (url.pathname === '/prefs') return prefs(res, url);
  json(res, 404, { error: 'not found' });
}).listen(PORT, '0.0.0.0', () => console.log(`prefs-api listening on :${PORT}`));

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
