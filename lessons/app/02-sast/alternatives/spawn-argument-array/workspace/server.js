'use strict';
// logsearch: the support desk searches the storefront's recent logs without a shell on the server.
//   GET /search?q=TEXT   the log lines that contain TEXT (case-insensitive), with line numbers
//   GET /healthz         200 when the service is up
const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');

const PORT = Number(process.env.PORT) || 8080;
const HOST = process.env.HOST || '0.0.0.0';
const LOG_FILE = process.env.LOG_FILE || path.join(__dirname, 'logs', 'app.log');

// What a search term may be: what people look for in logs (words, numbers, paths, key=value),
// nothing a shell or grep would treat specially — and never more than 64 characters.
const QUERY = /^[\w .:/=@-]{1,64}$/;

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2) + '\n');
}

function search(q, res) {
  // No shell: grep gets its arguments as an array, so ; | $( ) and quotes are plain text.
  // -F: q is a fixed string, not a pattern; --: q is never read as an option, even if it starts with -.
  const grep = spawn('grep', ['-i', '-n', '-F', '-e', q, LOG_FILE], { timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  grep.stdout.on('data', (c) => { if (out.length < 1 << 20) out += c; });
  grep.on('error', (e) => { console.error(`grep could not start: ${e.message}`); json(res, 500, { error: 'search failed' }); });
  grep.on('close', (code) => {
    // grep exits 1 when no line matches: that is an empty result, not an error
    if (code !== 0 && code !== 1) return json(res, 500, { error: 'search failed' });
    json(res, 200, { query: q, matches: out.split('\n').filter(Boolean) });
  });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/healthz') return json(res, 200, { ok: true });
  if (url.pathname === '/search') {
    const q = url.searchParams.get('q');
    if (!q) return json(res, 400, { error: 'say what to look for: /search?q=timeout' });
    if (!QUERY.test(q)) return json(res, 400, { error: 'a search term is 1-64 letters, digits, spaces and . _ : / = @ -' });
    return search(q, res);
  }
  if (url.pathname === '/') return json(res, 200, { service: 'logsearch', usage: 'GET /search?q=TEXT' });
  json(res, 404, { error: 'not found' });
});

server.listen(PORT, HOST, () => console.log(`logsearch listening on ${HOST}:${PORT}, searching ${LOG_FILE}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
