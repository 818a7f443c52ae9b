import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findingsOf, formatFindings, lintFolder, sast } from '../../src/core/checks/sast.js';
import { appProbe, loadDast, type DastModule } from '../../src/core/checks/appProbe.js';
import { packageRoot } from '../../src/core/paths.js';
import type { CheckContext } from '../../src/core/checks/types.js';

const SHELL_RULES = ['security/detect-child-process', 'no-restricted-syntax'];
const RESTRICT = {
  'no-restricted-syntax': [
    'error',
    { selector: "CallExpression[callee.name='execSync']", message: 'execSync runs a shell' },
    { selector: "Property[key.name='shell'][value.value=true]", message: 'shell: true runs a shell' },
    { selector: 'CallExpression[arguments.0.value=/(^|[^a-z])(sh|bash|dash)$/]', message: 'this starts a shell' },
  ],
};
const folder = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'sast-'));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
};

describe('sast: ESLint + eslint-plugin-security on a folder', () => {
  const sink = "const { exec } = require('node:child_process');\nfunction run(q) {\n  exec(`grep ${q} log`);\n}\n";
  it('finds exec() with a command built from input, with file and line', async () => {
    const r = await lintFolder(folder({ 'server.js': sink, 'ok.js': "require('node:fs').readFileSync('x');\n" }), SHELL_RULES);
    expect(r.files).toBe(2);
    expect(r.findings).toEqual([
      { file: 'server.js', line: 3, rule: 'security/detect-child-process', message: 'Found child_process.exec() with non Literal first argument' },
    ]);
  });
  it("ignores inline eslint-disable comments and the folder's own eslint config", async () => {
    const dir = folder({
      'server.js': `/* eslint-disable */\n${sink.replace('  exec(', '  // eslint-disable-next-line security/detect-child-process\n  exec(')}`,
      'eslint.config.js': 'module.exports = [{ rules: {} }];\n',
    });
    const r = await lintFolder(dir, SHELL_RULES);
    expect(r.findings.map((f) => `${f.file}:${f.line} ${f.rule}`)).toEqual(['server.js:5 security/detect-child-process']);
    const outcome = await sast.run(
      { workspace: dir.replace(/\/[^/]+$/, '') } as CheckContext,
      sast.schema.parse({ path: dir.split('/').pop(), rules: SHELL_RULES }),
    );
    expect(outcome.passed).toBe(false);
    expect(outcome.message).toMatch(/server\.js:5 security\/detect-child-process .*eslint-disable comments: this check ignores them/);
  });
  it('passes execFile with an argument array; catches the shell through other doors with the configured rules', async () => {
    const fixed = "const { execFile } = require('node:child_process');\nfunction run(q) { execFile('grep', ['-F', '--', q, 'log'], () => {}); }\n";
    expect((await lintFolder(folder({ 'a.js': fixed }), SHELL_RULES, RESTRICT)).findings).toEqual([]);
    const doors = [
      "const { execSync } = require('node:child_process');\nexecSync('grep ' + process.argv[2]);\n",
      "const cp = require('node:child_process');\ncp.spawn('grep', [process.argv[2]], { shell: true });\n",
      "const { execFile } = require('node:child_process');\nexecFile('/bin/sh', ['-c', 'grep ' + process.argv[2]]);\n",
    ];
    for (const d of doors) {
      const r = await lintFolder(folder({ 'a.js': d }), SHELL_RULES, RESTRICT);
      expect(
        r.findings.map((f) => `${f.line} ${f.rule}`),
        d,
      ).toEqual(['2 no-restricted-syntax']);
    }
  });
  it('reports a file it cannot parse (its sinks would go unseen) and leaves node_modules out', async () => {
    const dir = folder({ 'broken.js': 'function (' });
    cpSync(folder({ 'index.js': sink }), join(dir, 'node_modules', 'dep'), { recursive: true });
    const r = await lintFolder(dir, SHELL_RULES);
    expect(r.findings.map((f) => `${f.file} ${f.rule}`)).toEqual(['broken.js parse error']);
  });
  it('formats findings as app/file:line rule (message), a few at a time', () => {
    const res = [
      {
        filePath: '/w/app/b.js',
        messages: [
          { ruleId: 'r1', line: 9, message: 'm9' },
          { ruleId: 'other', line: 1, message: 'x' },
        ],
      },
      {
        filePath: '/w/app/a.js',
        messages: [
          { ruleId: 'r1', line: 2, message: 'm2' },
          { ruleId: 'r1', line: 1, message: 'm1' },
        ],
      },
    ];
    const f = findingsOf(res, ['r1'], '/w/app');
    expect(f.map((x) => `${x.file}:${x.line}`)).toEqual(['a.js:1', 'a.js:2', 'b.js:9']);
    expect(formatFindings('app', f, 2)).toBe('app/a.js:1 r1 (m1); app/a.js:2 r1 (m2); and 1 more');
  });
});

describe("dast.js (the lab image's scanner, loaded as the checks load it)", () => {
  let dast: DastModule;
  let server: Server;
  let base = '';
  const SECRET = 'lab-test-secret-0123';
  beforeAll(async () => {
    dast = await loadDast();
    // A made-up app with every hole the scanner looks for, behind naive filters.
    server = createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      const q = u.searchParams.get('q') ?? '';
      if (u.pathname === '/search') {
        if (q.includes(';')) {
          res.writeHead(400);
          return res.end('no ;');
        }
        // a pretend shell: a pipe runs the echo on its right
        const piped = /\|\s*echo "?INJECTED-\$\(\(6\*7\)\)/.test(q);
        return res.end(JSON.stringify({ query: q, matches: piped ? ['INJECTED-42 log'] : ['checkout order=1'] }));
      }
      if (u.pathname === '/files') {
        const name = (u.searchParams.get('name') ?? '').replaceAll('../', '');
        const depth = name.split('/').filter((s) => s === '..').length;
        if (depth >= 2 && name.endsWith('etc/passwd')) return res.end('root:x:0:0:root:/root:/bin/bash\n');
        if (name === 'welcome.txt') return res.end('Welcome!\n');
        res.writeHead(404);
        return res.end('no such file');
      }
      if (u.pathname === '/about') return res.end(`docs v1 (storage ${SECRET})`);
      if (u.pathname === '/debug/env') return res.end(JSON.stringify({ PATH: '/usr/bin', HOSTNAME: 'x', STORAGE_TOKEN: SECRET }));
      res.writeHead(404);
      res.end('not found');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => {
    server.close();
  });

  it('parses its command line, and refuses what it does not know', () => {
    expect(dast.parseArgs(['http://a:8080', '--get', '/x', 'T', '--inject', '/s?lang=en&q=hi', '--debug'], {})).toMatchObject({
      target: 'http://a:8080',
      get: [{ path: '/x', text: 'T' }],
      inject: [{ path: '/s', param: 'q', value: 'hi', fixed: [['lang', 'en']] }],
      debug: true,
    });
    expect(() => dast.parseArgs(['http://a', '--inject', '/s'])).toThrow(/name the query parameter/);
    expect(() => dast.parseArgs(['--debug'])).toThrow(/no URL/);
    expect(() => dast.parseArgs(['http://a', '--frobnicate'])).toThrow(/unknown option/);
  });
  it('finds injection past a ; filter, traversal past a ../ filter (replaceAll), the leaking debug endpoint and the secret', async () => {
    const r = await dast.scan(
      dast.parseArgs([
        base,
        '--get',
        '/files?name=welcome.txt',
        'Welcome',
        '--get',
        '/about',
        'docs',
        '--inject',
        '/search?q=checkout',
        '--traversal',
        '/files?name=welcome.txt',
        '--debug',
        '--secret',
        SECRET,
      ]),
    );
    expect(dast.exitCode(r)).toBe(1);
    const tests = new Set(r.findings.map((f) => f.test));
    expect([...tests].sort()).toEqual(['debug', 'inject', 'secret', 'traversal']);
    // the secret is its own finding only where no other finding names the request already
    expect(r.findings.filter((f) => f.test === 'secret').map((f) => f.request)).toEqual(['GET /about']);
    expect(r.findings.find((f) => f.test === 'traversal')!.request).toContain('....//');
    expect(r.findings.find((f) => f.test === 'debug')!.evidence).toMatch(/STORAGE_TOKEN=lab-…\(20 chars\)/);
    expect(JSON.stringify(r)).not.toContain(SECRET);
    expect(dast.summary(r)).toMatch(/^\d+ findings: command injection in \/search\?q= \(e\.g\. GET/);
  });
  it('tells broken normal requests and an app that does not answer apart from findings', async () => {
    const broken = await dast.scan(dast.parseArgs([base, '--get', '/files?name=missing.txt', 'x']));
    expect(dast.exitCode(broken)).toBe(2);
    expect(dast.summary(broken)).toBe('normal request failing: GET /files?name=missing.txt → HTTP 404');
    const gone = await dast.scan(dast.parseArgs(['http://127.0.0.1:9', '--get', '/', 'x']), { timeoutMs: 1000 });
    expect(dast.exitCode(gone)).toBe(3);
    const clean = await dast.scan(dast.parseArgs([base, '--get', '/files?name=welcome.txt', 'Welcome']));
    expect([dast.exitCode(clean), dast.summary(clean)]).toEqual([0, 'no findings in 1 requests, and the normal requests work']);
  });
});

describe('appProbe: the workspace app, run on 127.0.0.1 and scanned', () => {
  const ws = mkdtempSync(join(tmpdir(), 'ws-'));
  const app = join(ws, 'logsearch');
  cpSync(join(packageRoot, 'scenarios', 'sast', 'app', 'logsearch'), app, { recursive: true });
  const ctx = { workspace: ws } as CheckContext;
  const p = (args: string[]) => appProbe.schema.parse({ path: 'logsearch', args, timeoutSeconds: 20 });
  const lesson = join(packageRoot, 'lessons', 'app', '02-sast');
  afterAll(() => rmSync(ws, { recursive: true, force: true }));

  it('finds the injection in the insecure app — which the scenario starts on 0.0.0.0:8080, the check on 127.0.0.1', async () => {
    const r = await appProbe.run(ctx, p(['--get', '/search?q=checkout', 'order=10233', '--inject', '/search?q=checkout']));
    expect(r.passed).toBe(false);
    expect(r.message).toMatch(/^your logsearch, run on 127\.0\.0\.1:\d+: \d+ findings: command injection in \/search\?q=/);
  });
  it('passes the reference solution, and fails the app whose search was removed', async () => {
    writeFileSync(join(app, 'server.js'), readFileSync(join(lesson, 'solution', 'workspace', 'server.js')));
    expect(await appProbe.run(ctx, p(['--get', '/search?q=checkout', 'order=10233', '--inject', '/search?q=checkout']))).toMatchObject({ passed: true });
    writeFileSync(join(app, 'server.js'), readFileSync(join(lesson, 'shortcuts', 'search-removed', 'workspace', 'server.js')));
    const r = await appProbe.run(ctx, p(['--get', '/search?q=checkout', 'order=10233']));
    expect(r).toEqual({ passed: false, message: expect.stringMatching(/normal request failing: GET \/search\?q=checkout → HTTP 503$/) });
  });
  it('says so when the app does not start', async () => {
    writeFileSync(join(app, 'server.js'), "throw new Error('boom at start-up');\n");
    const r = await appProbe.run(ctx, p(['--get', '/', 'x']));
    expect(r.passed).toBe(false);
    expect(r.message).toMatch(/stopped at start-up \(exit 1\)/);
  });
});
