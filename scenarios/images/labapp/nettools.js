'use strict';
// The network tools the lab's probes use, in plain Node.js so the toolbox image needs no package
// downloads: a subset of wget, curl, nc and nslookup with the same exit codes.
//   wget [-q] [-O FILE|-] [-T SECONDS] URL        0 ok, 4 network failure, 8 HTTP error status
//   curl [-s] [-S] [-k] [--max-time SECONDS] URL   0 answered, 6 no such host, 7 refused, 28 timed out, 35 TLS failure
//   nc -z [-w SECONDS] HOST PORT                   0 connects, 1 does not
//   nslookup NAME                                  0 resolves, 1 does not
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const dns = require('node:dns');
const fs = require('node:fs');

const [tool, ...args] = process.argv.slice(2);
const positional = [];
const opts = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (['-O', '-T', '-w', '--max-time', '-m'].includes(a)) opts[a] = args[++i];
  else if (/^-[a-zA-Z]/.test(a)) {
    // combined short flags, as wget takes them: -qO- (q, then O with the value "-"), -qT 5
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      if ('OTwm'.includes(c)) { opts[`-${c}`] = j + 1 < a.length ? a.slice(j + 1) : args[++i]; break; }
      opts[`-${c}`] = true;
    }
  } else if (a.startsWith('--')) opts[a] = true;
  else positional.push(a);
}
const seconds = (v, d) => (v === undefined ? d : Number(v)) * 1000;

function fetch(url, timeoutMs, insecure, done) {
  const mod = url.startsWith('https:') ? https : http;
  let finished = false;
  const finish = (err, res, body) => { if (!finished) { finished = true; done(err, res, body); } };
  const req = mod.get(url, { timeout: timeoutMs, rejectUnauthorized: !insecure }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => finish(null, res, Buffer.concat(chunks)));
    res.on('error', (e) => finish(e));
  });
  req.on('timeout', () => { const e = new Error(`timed out after ${timeoutMs / 1000}s`); e.code = 'ETIMEDOUT'; req.destroy(e); });
  req.on('error', (e) => finish(e));
}

if (tool === 'wget') {
  const out = opts['-O'];
  fetch(positional[0], seconds(opts['-T'], 10), false, (err, res, body) => {
    if (err) { if (!opts['-q']) console.error(`wget: ${err.code || err.message}`); process.exit(4); }
    if (out === '-') process.stdout.write(body);
    else if (out && out !== '/dev/null') fs.writeFileSync(out, body);
    if (res.statusCode >= 400) { if (!opts['-q']) console.error(`wget: server returned error: HTTP ${res.statusCode}`); process.exit(8); }
    process.exit(0);
  });
} else if (tool === 'curl') {
  fetch(positional[0], seconds(opts['--max-time'] ?? opts['-m'], 30), !!opts['-k'], (err, res, body) => {
    if (!err) { process.stdout.write(body); process.exit(0); }
    const code = err.code || '';
    const rc = code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 6 : code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' ? 7 : code === 'ETIMEDOUT' ? 28 : 35;
    if (!opts['-s'] || opts['-S']) console.error(`curl: (${rc}) ${code} ${err.message}`);
    process.exit(rc);
  });
} else if (tool === 'nc') {
  const [host, port] = positional;
  const s = net.connect({ host, port: Number(port) });
  const t = setTimeout(() => { s.destroy(); process.exit(1); }, seconds(opts['-w'], 10));
  s.on('connect', () => { clearTimeout(t); s.destroy(); process.exit(0); });
  s.on('error', () => { clearTimeout(t); process.exit(1); });
} else if (tool === 'nslookup') {
  dns.lookup(positional[0], { all: true }, (err, addrs) => {
    if (err) { console.log(`** server can't find ${positional[0]}: ${err.code}`); process.exit(1); }
    console.log(`Name:\t${positional[0]}`);
    for (const a of addrs) console.log(`Address: ${a.address}`);
    process.exit(0);
  });
} else {
  console.error('usage: nettools.js wget|curl|nc|nslookup ARGS');
  process.exit(64);
}
