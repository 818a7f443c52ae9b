'use strict';
// logsearch: the support desk searches the storefront's recent logs without a shell on the server.
//   GET /search?q=TEXT   the log lines that contain TEXT (case-insensitive), with line numbers
//   GET /healthz         200 when the service is up
const http = require('node:http');
const path = require('node:path');

const PORT = Number(process.env.PORT) || 8080;
const HOST = process.env.HOST || '0.0.0.0';
const LOG_FILE = process.env.LOG_FILE || path.join(__dirname, 'logs', 'app.log');

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2) + '\n');
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/healthz') return json(res, 200, { ok: true });
  if (url.pathname === '/search') {
    // search is switched off until the security finding is sorted out
    return json(res, 503, { error: 'search is disabled' });
  }
  if (url.pathname === '/') return json(res, 200, { service: 'logsearch', usage: 'GET /search?q=TEXT' });
  json(res, 404, { error: 'not found' });
});

server.listen(PORT, HOST, () => console.log(`logsearch listening on ${HOST}:${PORT}, searching ${LOG_FILE}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
