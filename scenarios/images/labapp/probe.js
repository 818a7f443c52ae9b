'use strict';
// kube-seclab's probe client, run in a short-lived pod by `probe` checks:
//   node /app/probe.js http URL [HEADER=VALUE ...]   GET, prints the status and body, exit 0 on 2xx
//   node /app/probe.js tcp HOST PORT                 connect, exit 0 if it connects
// A connection refused or timed out (NetworkPolicy) prints "blocked: <why>" and exits 1.
const http = require('node:http');
const net = require('node:net');
const [mode, a, b, ...rest] = process.argv.slice(2);
const timeoutMs = Number(process.env.PROBE_TIMEOUT_MS || 4000);
const blocked = (why) => { console.log(`blocked: ${why}`); process.exit(1); };

if (mode === 'tcp') {
  const s = net.connect({ host: a, port: Number(b), timeout: timeoutMs }, () => { console.log(`connected ${a}:${b}`); s.destroy(); process.exit(0); });
  s.on('timeout', () => blocked(`timed out connecting to ${a}:${b}`));
  s.on('error', (e) => blocked(e.code || e.message));
} else if (mode === 'http') {
  const headers = Object.fromEntries([b, ...rest].filter(Boolean).map((h) => h.split('=')).map(([k, ...v]) => [k, v.join('=')]));
  const req = http.get(a, { timeout: timeoutMs, headers }, (res) => {
    let body = '';
    res.on('data', (d) => { body += d; });
    res.on('end', () => { console.log(`HTTP ${res.statusCode} ${body.trim().slice(0, 400)}`); process.exit(res.statusCode >= 200 && res.statusCode < 300 ? 0 : 2); });
  });
  req.on('timeout', () => { req.destroy(); blocked(`timed out fetching ${a}`); });
  req.on('error', (e) => blocked(e.code || e.message));
} else {
  console.error('usage: probe.js http URL [HEADER=VALUE...] | tcp HOST PORT');
  process.exit(64);
}
