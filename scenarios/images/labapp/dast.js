'use strict';
// dast: a small dynamic application security test (DAST). Like OWASP ZAP's active scan, it attacks a
// RUNNING web app from the outside with known attacks and reports what came back — it never reads
// the source. Plain Node.js with no dependencies: it runs in the lab's image as `dast`, and the lab's
// checks load this very file to run the same tests against your app.
//
//   dast URL [--get PATH TEXT]... [--inject PATH?PARAM=VALUE]... [--traversal PATH?PARAM=VALUE]...
//            [--debug] [--secret VALUE]
//
//   --get PATH TEXT               a normal request that must keep working: HTTP 200 with TEXT in the body
//   --inject PATH?PARAM=VALUE     OS command injection: shell payloads added to VALUE in the query parameter
//   --traversal PATH?PARAM=VALUE  path traversal: ../ sequences (plain, encoded, filter-evading) in the parameter
//   --debug                       debug and status endpoints that dump the environment or configuration
//   --secret VALUE                a value that must never come back in any answer (repeatable; $DAST_SECRET too)
//
// Exit code: 0 nothing found and every normal request works, 1 findings, 2 a normal request failed,
// 3 the app does not answer at all, 64 usage.
const http = require('node:http');
const https = require('node:https');

const USAGE = 'usage: dast URL [--get PATH TEXT]... [--inject PATH?PARAM=VALUE]... [--traversal PATH?PARAM=VALUE]... [--debug] [--secret VALUE]';

/** The command-line arguments (after the URL's position too) as scan options; throws on a usage error. */
function parseArgs(argv, env = {}) {
  const o = { target: undefined, get: [], inject: [], traversal: [], debug: false, secrets: env.DAST_SECRET ? [env.DAST_SECRET] : [] };
  const need = (i, n, flag) => { if (i + n >= argv.length) throw new Error(`${flag} needs ${n === 1 ? 'a value' : `${n} values`}`); };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--get') { need(i, 2, a); o.get.push({ path: argv[i + 1], text: argv[i + 2] }); i += 2; }
    else if (a === '--inject' || a === '--traversal') { need(i, 1, a); o[a.slice(2)].push(paramTarget(argv[++i], a)); }
    else if (a === '--debug') o.debug = true;
    else if (a === '--secret') { need(i, 1, a); o.secrets.push(argv[++i]); }
    else if (a === '-h' || a === '--help') throw new Error(USAGE);
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else if (!o.target) o.target = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!o.target) throw new Error('no URL to scan');
  if (!/^https?:\/\//.test(o.target)) throw new Error(`${o.target} is not an http(s) URL`);
  return o;
}

/** `/files?name=welcome.txt` → the path, the other parameters, and the one under attack (the last) with its normal value. */
function paramTarget(spec, flag) {
  const u = new URL(spec, 'http://x');
  const params = [...u.searchParams];
  if (!params.length) throw new Error(`${flag} ${spec}: name the query parameter to attack, e.g. /search?q=hello`);
  const [param, value] = params.pop();
  return { path: u.pathname, fixed: params, param, value };
}

/** The tests' marker: the shell turns `$((6*7))` into 42, so INJECTED-42 only comes back when a shell ran it. */
const MARK = 'INJECTED-$((6*7))';
const MARK_SEEN = 'INJECTED-42';

/**
 * Shell payloads for a value pasted into a command line: bare, inside "…" and inside '…'. `</dev/null`
 * keeps a program that would read its input (grep without a file) from waiting for it.
 */
function injectionPayloads(v) {
  const n = '</dev/null';
  return [
    `${v} ${n}; echo ${MARK}`,
    `${v} ${n} | echo ${MARK}`,
    `${v} ${n} || true && echo ${MARK}`,
    `${v} ${n}\necho ${MARK}`,
    `$(echo ${MARK} >&2)${v}`,
    `\`echo ${MARK} >&2\`${v}`,
    `${v}" ${n}; echo "${MARK}`,
    `${v}" ${n} | echo "${MARK}`,
    `${v}" ${n} || true && echo "${MARK}`,
    `${v}" ${n}\necho "${MARK}`,
    `${v}' ${n}; echo '${MARK}`,
    `${v}' ${n} | echo '${MARK}`,
    `${v}' ${n} || true && echo '${MARK}`,
  ];
}

/** File names that climb out of the app's folder: plain, after naive `../` filters, encoded twice, absolute. */
function traversalPayloads(file) {
  const up = (s) => s.repeat(12);
  return [
    up('../') + file,
    up('....//') + file,
    up('..././') + file,
    up('..%2f') + file,
    up('%2e%2e/') + file,
    up('..%252f') + file,
    '/' + file,
  ];
}

const DEBUG_PATHS = ['/debug/env', '/debug', '/debug/vars', '/debug/config', '/env', '/.env', '/config', '/actuator/env', '/status', '/info', '/api/debug', '/admin/env'];
const ENV_KEYS = ['PATH', 'HOME', 'HOSTNAME', 'NODE_VERSION', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_PORT'];
const SECRET_KEY = /["']?([A-Z0-9_]*(?:TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|CREDENTIALS)[A-Z0-9_]*)["']?\s*[:=]\s*["']?([^"'\s,}&]{4,})/;

/** Whether a body looks like the process environment: several well-known variables, or a secret-named one with a value. */
function envEvidence(body) {
  const keys = ENV_KEYS.filter((k) => new RegExp(`(^|[\\s{,"'\\0])${k}["']?\\s*[:=]`, 'm').test(body));
  const secret = SECRET_KEY.exec(body);
  if (secret) return `${secret[1]}=${mask(secret[2])}${keys.length ? ` next to ${keys.join(', ')}` : ''}`;
  if (keys.length >= 2) return `environment variables ${keys.join(', ')}`;
  return undefined;
}

/** Whether a body holds a file a traversal reaches: /etc/passwd, or a process's environment from /proc. */
function fileEvidence(body) {
  const passwd = /^root:[^:\n]*:0:0:[^\n]*/m.exec(body);
  if (passwd) return `/etc/passwd ("${passwd[0].slice(0, 40)}…")`;
  if (/(^|\0)PATH=[^\0]*\0/.test(body)) return `a process environment (/proc/self/environ: ${envEvidence(body.replace(/\0/g, '\n')) || 'PATH=…'})`;
  return undefined;
}

const mask = (s) => (s.length <= 6 ? '***' : `${s.slice(0, 4)}…(${s.length} chars)`);
const show = (p) => p.replace(/\n/g, '\\n');

function request(url, timeoutMs) {
  return new Promise((resolve) => {
    const mod = url.startsWith('https:') ? https : http;
    let done = false;
    const finish = (r) => { if (!done) { done = true; resolve(r); } };
    const req = mod.get(url, { timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (c) => { if (size < 1 << 20) { chunks.push(c); size += c.length; } });
      res.on('end', () => finish({ status: res.statusCode, body: Buffer.concat(chunks).toString('latin1') }));
      res.on('error', (e) => finish({ error: e.code || e.message }));
    });
    req.on('timeout', () => { req.destroy(); finish({ error: `no answer within ${timeoutMs / 1000}s` }); });
    req.on('error', (e) => finish({ error: e.code || e.message }));
  });
}

/** A URL for PATH with its fixed parameters and PARAM=value (value encoded once, as a browser would). */
function urlFor(base, t, value) {
  const u = new URL(t.path, base);
  for (const [k, v] of t.fixed) u.searchParams.append(k, v);
  if (value.includes('%')) {
    // an encoded payload goes out as written: ..%2f fools an app that filters the raw URL before
    // decoding it, ..%252f one that decodes twice
    u.search = (u.search ? `${u.search}&` : '?') + `${encodeURIComponent(t.param)}=${value}`;
  } else u.searchParams.append(t.param, value);
  return u.toString();
}

/**
 * Run the tests against a running app. Returns what was asked and seen, the findings, the normal
 * requests that failed, and `unreachable` when nothing answered at all.
 */
async function scan(o, opts = {}) {
  const timeoutMs = opts.timeoutMs || 5000;
  const base = o.target.replace(/\/?$/, '/');
  const r = { target: o.target, requests: 0, answered: 0, findings: [], broken: [], passed: [], unreachable: undefined };
  const secretHits = [];
  // every answer is searched for the secret; `shown` is the request as the findings print it
  const get = async (url, shown) => {
    r.requests++;
    const res = await request(url, timeoutMs);
    if (!res.error) {
      r.answered++;
      for (const sec of o.secrets) if (sec && res.body.includes(sec)) secretHits.push({ test: 'secret', title: 'the secret value comes back', request: shown, evidence: `HTTP ${res.status} with ${mask(sec)} in its body` });
    }
    return res;
  };

  for (const g of o.get) {
    const url = new URL(g.path, base).toString();
    const res = await get(url, `GET ${g.path}`);
    if (res.error) r.broken.push({ request: `GET ${g.path}`, why: res.error });
    else if (res.status !== 200) r.broken.push({ request: `GET ${g.path}`, why: `HTTP ${res.status}` });
    else if (g.text && !res.body.includes(g.text)) r.broken.push({ request: `GET ${g.path}`, why: `HTTP 200 but no "${g.text}" in the answer` });
    else r.passed.push(`GET ${g.path} → 200${g.text ? `, "${g.text}"` : ''}`);
  }
  if (o.get.length && r.answered === 0) { r.unreachable = r.broken[0] && r.broken[0].why; return r; }

  for (const t of o.inject) {
    let hits = 0;
    for (const p of injectionPayloads(t.value)) {
      const res = await get(urlFor(base, t, p), `GET ${t.path}?${t.param}=${show(p)}`);
      if (!res.error && res.body.includes(MARK_SEEN)) {
        hits++;
        r.findings.push({ test: 'inject', title: `command injection in ${t.path}?${t.param}=`, request: `GET ${t.path}?${t.param}=${show(p)}`, evidence: `HTTP ${res.status}: the shell ran "echo ${MARK}" and ${MARK_SEEN} came back` });
      }
    }
    if (!hits) r.passed.push(`${injectionPayloads('').length} shell payloads in ${t.path}?${t.param}= ran no command`);
  }

  for (const t of o.traversal) {
    let hits = 0;
    for (const file of ['etc/passwd', 'proc/self/environ']) {
      for (const p of traversalPayloads(file)) {
        const res = await get(urlFor(base, t, p), `GET ${t.path}?${t.param}=${p}`);
        const ev = !res.error && res.status < 400 && fileEvidence(res.body);
        if (ev) {
          hits++;
          r.findings.push({ test: 'traversal', title: `path traversal in ${t.path}?${t.param}=`, request: `GET ${t.path}?${t.param}=${p}`, evidence: `HTTP ${res.status}: ${ev}` });
        }
      }
    }
    // A name that leaves its folder and comes back (`x/../NAME`): an app that follows ../ serves the
    // normal document for it, whatever words it refuses on the way to /etc or /proc.
    const normal = await get(urlFor(base, t, t.value), `GET ${t.path}?${t.param}=${t.value}`);
    if (!normal.error && normal.status < 400) {
      for (const p of [`kube-seclab-no-such-folder/../${t.value}`, `kube-seclab-no-such-folder%2f..%2f${t.value}`]) {
        const res = await get(urlFor(base, t, p), `GET ${t.path}?${t.param}=${p}`);
        if (!res.error && res.status < 400 && res.body === normal.body) {
          hits++;
          r.findings.push({ test: 'traversal', title: `path traversal in ${t.path}?${t.param}=`, request: `GET ${t.path}?${t.param}=${p}`, evidence: `HTTP ${res.status}: the same document as ${t.param}=${t.value} — the app follows ../ out of a folder and back` });
        }
      }
    }
    if (!hits) r.passed.push(`${2 * traversalPayloads('').length + 2} traversal payloads in ${t.path}?${t.param}= stayed in the app's folder`);
  }

  if (o.debug) {
    let hits = 0;
    for (const p of DEBUG_PATHS) {
      const res = await get(new URL(p, base).toString(), `GET ${p}`);
      const ev = !res.error && res.status < 400 && envEvidence(res.body);
      if (ev) {
        hits++;
        r.findings.push({ test: 'debug', title: `${p} leaks the environment`, request: `GET ${p}`, evidence: `HTTP ${res.status}: ${ev}` });
      }
    }
    if (!hits) r.passed.push(`none of ${DEBUG_PATHS.length} debug/status paths shows the environment`);
  }
  // the secret in an answer another finding already names is part of that finding
  const named = new Set(r.findings.map((f) => f.request));
  r.findings.push(...secretHits.filter((f) => !named.has(f.request)));
  if (r.answered === 0) r.unreachable = 'no request was answered';
  return r;
}

function exitCode(r) {
  if (r.unreachable) return 3;
  if (r.findings.length) return 1;
  return r.broken.length ? 2 : 0;
}

/** One line that says it all (the last line printed, and what the lab's checks quote). */
function summary(r) {
  if (r.unreachable) return `the app at ${r.target} does not answer (${r.unreachable})`;
  const parts = [];
  if (r.findings.length) {
    const byTitle = new Map();
    for (const f of r.findings) if (!byTitle.has(f.title)) byTitle.set(f.title, f);
    const cut = (t) => (t.length > 90 ? `${t.slice(0, 89)}…` : t);
    parts.push(`${r.findings.length} finding${r.findings.length > 1 ? 's' : ''}: ${[...byTitle.values()].map((f) => `${f.title} (e.g. ${cut(f.request)} → ${f.evidence})`).join('; ')}`);
  }
  if (r.broken.length) parts.push(`normal request${r.broken.length > 1 ? 's' : ''} failing: ${r.broken.map((b) => `${b.request} → ${b.why}`).join('; ')}`);
  return parts.length ? parts.join(' — ') : `no findings in ${r.requests} requests, and the normal requests work`;
}

function report(r) {
  const lines = [`DAST scan of ${r.target}: ${r.requests} requests`];
  for (const p of r.passed) lines.push(`  ok       ${p}`);
  for (const b of r.broken) lines.push(`  BROKEN   ${b.request} → ${b.why}`);
  for (const f of r.findings) lines.push(`  FINDING  ${f.title}: ${f.request} → ${f.evidence}`);
  lines.push(summary(r));
  return lines.join('\n');
}

module.exports = { parseArgs, scan, exitCode, summary, report, injectionPayloads, traversalPayloads, envEvidence, fileEvidence, MARK_SEEN };

if (require.main === module) {
  let o;
  try { o = parseArgs(process.argv.slice(2), process.env); } catch (e) { console.error(`dast: ${e.message}\n${USAGE}`); process.exit(64); }
  scan(o).then((r) => { console.log(report(r)); process.exit(exitCode(r)); }, (e) => { console.error(`dast: ${e.stack || e}`); process.exit(70); });
}
