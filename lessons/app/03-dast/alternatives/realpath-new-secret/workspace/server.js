'use strict';
// docshare: the team's documents, for download.
//   GET /files              the list of documents
//   GET /files?name=NAME    one document
//   GET /healthz            200 when the service is up
//   GET /readyz             200 while the document storage accepts docshare's token
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const PORT = Number(process.env.PORT) || 8080;
const HOST = process.env.HOST || '0.0.0.0';
const FILES_DIR = path.join(__dirname, 'files');
const TYPES = { '.txt': 'text/plain', '.md': 'text/markdown', '.pdf': 'application/pdf' };

// The document storage the files are synced from (STORAGE_URL), with its token (STORAGE_TOKEN, from
// Secret docshare-storage). docshare is ready only while the storage accepts that token.
const STORAGE_URL = process.env.STORAGE_URL;
let storage = STORAGE_URL ? { ok: false, detail: 'not synced yet' } : { ok: true, detail: 'no STORAGE_URL: the storage sync is off' };
function syncStorage() {
  if (!STORAGE_URL) return;
  const req = http.get(`${STORAGE_URL}/v1/files`, { headers: { authorization: `Bearer ${process.env.STORAGE_TOKEN || ''}` }, timeout: 3000 }, (r) => {
    r.resume();
    storage = { ok: r.statusCode === 200, detail: `the storage answered HTTP ${r.statusCode}` };
  });
  req.on('timeout', () => req.destroy(new Error('timed out')));
  req.on('error', (e) => { storage = { ok: false, detail: `the storage is unreachable: ${e.message}` }; });
}
syncStorage();
setInterval(syncStorage, 5000).unref();

const FILES_REAL = fs.realpathSync(FILES_DIR);

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2) + '\n');
}

/** The document's file: the name must be its own base name, and the real path (links followed) a file directly in FILES_DIR. */
function documentFile(name) {
  if (!name || name !== path.basename(name) || name.startsWith('.') || name.includes('\0')) return undefined;
  let real;
  try { real = fs.realpathSync(path.join(FILES_REAL, name)); } catch { return undefined; }
  return path.dirname(real) === FILES_REAL ? real : undefined;
}

function sendDocument(name, res) {
  const file = documentFile(name);
  if (!file) return json(res, 400, { error: 'a document name is a plain file name, as /files lists them' });
  fs.readFile(file, (err, data) => {
    if (err) return json(res, 404, { error: `no document ${name}` });
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
    res.end(data);
  });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/healthz') return json(res, 200, { ok: true });
  if (url.pathname === '/readyz') return json(res, storage.ok ? 200 : 503, { ready: storage.ok, storage: storage.detail });
  if (url.pathname === '/files') {
    const name = url.searchParams.get('name');
    if (!name) return json(res, 200, { documents: fs.readdirSync(FILES_DIR).sort() });
    return sendDocument(name, res);
  }
  if (url.pathname === '/') return json(res, 200, { service: 'docshare', usage: 'GET /files, GET /files?name=DOCUMENT' });
  json(res, 404, { error: 'not found' });
});

server.listen(PORT, HOST, () => console.log(`docshare listening on ${HOST}:${PORT}, serving ${FILES_DIR}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
