'use strict';
// logsearch: the support desk searches the storefront's recent logs without a shell on the server.
//   GET /search?q=TEXT   the log lines that contain TEXT (case-insensitive), with line numbers
//   GET /healthz         200 when the service is up
const http = require('node:http');
const path = require('node:path');
const fs = require('node:fs');

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
  // No other program at all: read the log and keep the lines that contain the term, as grep -i -n -F would.
  fs.readFile(LOG_FILE, 'utf8', (err, text) => {
    if (err) { console.error(`cannot read ${LOG_FILE}: ${err.message}`); return json(res, 500, { error: 'search failed' }); }
    const needle = q.toLowerCase();
    const matches = text.split('\n').flatMap((line, i) => (line && line.toLowerCase().includes(needle) ? [`${i + 1}:${line}`] : []));
    json(res, 200, { query: q, matches });
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
