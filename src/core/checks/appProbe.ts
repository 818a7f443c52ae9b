import { z } from 'zod';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CheckPrimitive } from './types.js';
import { workspaceFile } from '../workspace.js';
import { packageRoot } from '../paths.js';

const schema = z.object({
  /** The app's folder in the workspace. */
  path: z.string(),
  /** The file `node` starts (default: package.json's main, else server.js). */
  main: z.string().optional(),
  /** Environment of the app besides PATH, HOME and NODE_ENV (the learner's own environment is never passed on). */
  env: z.record(z.string(), z.string()).default({}),
  /** The DAST tests: the options of scenarios/images/labapp/dast.js after its URL (`--get PATH TEXT`, `--inject PATH?P=V`…). */
  args: z.array(z.string()).min(1),
  timeoutSeconds: z.number().int().positive().default(30),
}).strict();
type P = z.infer<typeof schema>;

/** The lab's DAST scanner: the very file the lab image runs as `dast` (plain CommonJS, no dependencies). */
export const DAST_SCRIPT = join(packageRoot, 'scenarios', 'images', 'labapp', 'dast.js');

export interface DastResult {
  target: string; requests: number; answered: number; unreachable?: string;
  findings: { test: string; title: string; request: string; evidence: string }[];
  broken: { request: string; why: string }[];
  passed: string[];
}
export interface DastModule {
  parseArgs(argv: string[], env?: Record<string, string | undefined>): unknown;
  scan(o: unknown, opts?: { timeoutMs?: number }): Promise<DastResult>;
  exitCode(r: DastResult): number;
  summary(r: DastResult): string;
}

/**
 * dast.js as a module. It is CommonJS in a folder this package declares ESM (`"type": "module"`), so it
 * is evaluated as CommonJS here, exactly as `node` runs it in the image; `require.main` is not it, so
 * its command line does not run.
 */
export async function loadDast(file = DAST_SCRIPT): Promise<DastModule> {
  const src = await readFile(file, 'utf8');
  const mod = { exports: {} as unknown };
  new Function('module', 'exports', 'require', '__filename', '__dirname', src)(mod, mod.exports, createRequire(file), file, dirname(file));
  return mod.exports as DastModule;
}

/**
 * Loaded before the app (`node --require`): every server the app starts listens on 127.0.0.1 at a
 * port the system picks, whatever address and port the app asks for, and the first one is reported
 * to the lab. The app ends when the lab goes away or after the time limit.
 */
export function preloadSource(limitMs: number): string {
  return `'use strict';
const net = require('node:net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const cb = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
  this.once('listening', () => { const a = this.address(); if (process.send && a && typeof a === 'object') process.send({ listening: a.port }); });
  return listen.call(this, { port: 0, host: '127.0.0.1' }, cb);
};
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(0), ${Math.round(limitMs)}).unref();
`;
}

async function mainFile(dir: string, main?: string): Promise<string> {
  if (main) return main;
  try {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { main?: string };
    if (pkg.main) return pkg.main;
  } catch { /* no package.json: server.js */ }
  return 'server.js';
}

/**
 * Run the learner's app from the workspace on this machine — `node` on 127.0.0.1 only, at a free
 * port, with a time limit, stopped afterwards — and attack it with the lab's DAST scanner. Passes
 * when the scanner finds nothing and the normal requests work. Where pods are simulated (local
 * engine), this is the check that really runs the learner's code.
 */
export const appProbe: CheckPrimitive<P> = {
  type: 'appProbe',
  schema,
  timeoutMs: (p) => (p.timeoutSeconds + 10) * 1000,
  async run(ctx, p) {
    const dir = workspaceFile(ctx, p.path);
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
      return { passed: false, message: `the workspace has no ${p.path} folder any more — a lesson reset hands its sources out again` };
    }
    const main = await mainFile(dir, p.main);
    if (!(await stat(join(dir, main)).catch(() => undefined))?.isFile()) {
      return { passed: false, message: `${p.path}/${main} is gone — the app cannot start without it` };
    }
    const dast = await loadDast();
    const limitMs = p.timeoutSeconds * 1000;
    const tmp = await mkdtemp(join(tmpdir(), 'kube-seclab-app-'));
    const preload = join(tmp, 'loopback.cjs');
    await writeFile(preload, preloadSource(limitMs + 5000));
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, NODE_ENV: 'production', ...p.env, HOST: '127.0.0.1', PORT: '0' };
    const child = spawn(process.execPath, ['--require', preload, main], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    let output = '';
    const keep = (b: Buffer) => { output = (output + b.toString()).slice(-4000); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const lastLine = () => output.trim().split('\n').pop()?.slice(0, 300) ?? '';
    try {
      const port = await new Promise<number | string>((resolve) => {
        const t = setTimeout(() => resolve(`did not start listening within 10s${lastLine() ? ` — ${lastLine()}` : ''}`), 10_000);
        child.on('message', (m: { listening?: number }) => { if (m?.listening) { clearTimeout(t); resolve(m.listening); } });
        child.on('exit', (code, sig) => { clearTimeout(t); resolve(`stopped at start-up (${sig ?? `exit ${code}`})${lastLine() ? ` — ${lastLine()}` : ''}`); });
        child.on('error', (e) => { clearTimeout(t); resolve(`could not be started: ${e.message}`); });
      });
      if (typeof port === 'string') return { passed: false, message: `your ${p.path} (\`node ${main}\` in ${dir}) ${port}` };
      const where = `your ${p.path}, run on 127.0.0.1:${port}`;
      const r = await dast.scan(dast.parseArgs([`http://127.0.0.1:${port}`, ...p.args]), { timeoutMs: 5000 });
      if (child.exitCode !== null && r.answered === 0) return { passed: false, message: `${where}: it stopped while being scanned${lastLine() ? ` — ${lastLine()}` : ''}` };
      return { passed: dast.exitCode(r) === 0, message: `${where}: ${dast.summary(r)}` };
    } finally {
      // the app and whatever it started (a shell, grep…): one process group
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
      await rm(tmp, { recursive: true, force: true });
    }
  },
};
