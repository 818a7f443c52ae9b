import { z } from 'zod';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CheckPrimitive } from './types.js';
import { workspaceFile } from '../workspace.js';
import { packageRoot } from '../paths.js';

const schema = z
  .object({
    /** The app's folder in the workspace. */
    path: z.string(),
    /** The file `node` starts (default: package.json's main, else server.js). */
    main: z.string().optional(),
    /** Environment of the app besides PATH, HOME and NODE_ENV (the learner's own environment is never passed on). */
    env: z.record(z.string(), z.string()).default({}),
    /** The DAST tests: the options of scenarios/images/labapp/dast.js after its URL (`--get PATH TEXT`, `--inject PATH?P=V`…). */
    args: z.array(z.string()).min(1),
    timeoutSeconds: z.number().int().positive().default(30),
    /**
     * Also fail when, during the scan, the app starts a shell (sh -c, exec, shell: true…) whose command
     * line holds a value the scanner sent: input reaches a shell, whether or not the scanner's payloads
     * got through a filter.
     */
    noShellWithInput: z.boolean().default(false),
  })
  .strict();
type P = z.infer<typeof schema>;

/** The lab's DAST scanner: the very file the lab image runs as `dast` (plain CommonJS, no dependencies). */
export const DAST_SCRIPT = join(packageRoot, 'scenarios', 'images', 'labapp', 'dast.js');

export interface DastResult {
  target: string;
  requests: number;
  answered: number;
  unreachable?: string;
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
export function preloadSource(limitMs: number, spawnLog?: string): string {
  return `'use strict';
const net = require('node:net');
${spawnLog ? spawnRecorder(spawnLog) : ''}
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

/**
 * Preload code that writes down every process the app starts (one JSON line each): the asynchronous
 * ways (spawn, exec, execFile, fork) all go through ChildProcess.prototype.spawn with the final file
 * and argv; the synchronous ones are wrapped where the app calls them.
 */
function spawnRecorder(file: string): string {
  return `const cp = require('node:child_process');
const fs = require('node:fs');
const note = (r) => { try { fs.appendFileSync(${JSON.stringify(file)}, JSON.stringify(r) + '\\n'); } catch { /* nothing to do */ } };
const spawn = cp.ChildProcess.prototype.spawn;
cp.ChildProcess.prototype.spawn = function (o) { note({ file: o && o.file, args: o && o.args }); return spawn.call(this, o); };
for (const name of ['spawnSync', 'execSync', 'execFileSync']) {
  const f = cp[name];
  cp[name] = function (...a) {
    const opts = a.find((x, i) => i > 0 && x && typeof x === 'object' && !Array.isArray(x));
    note({ sync: name, file: a[0], args: Array.isArray(a[1]) ? a[1] : [], shell: name === 'execSync' || !!(opts && opts.shell) });
    return f.apply(this, a);
  };
}
`;
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'mksh', 'busybox']);

/** The script a recorded process run hands to a shell, if it is one (`sh -c SCRIPT`, exec's command line, shell: true). */
export function shellScript(r: { file?: unknown; args?: unknown; shell?: boolean }): string | undefined {
  const args = Array.isArray(r.args) ? r.args.map(String) : [];
  if (r.shell) return [String(r.file ?? ''), ...args].join(' ');
  const base =
    String(r.file ?? '')
      .split('/')
      .pop() ?? '';
  if (!SHELLS.has(base)) return undefined;
  // ChildProcess.spawn's argv starts with argv0; a direct call's does not
  const i = args.findIndex((a, k) => (k > 0 || !SHELLS.has(a.split('/').pop() ?? '')) && /^-[a-z]*c[a-z]*$/.test(a));
  return i >= 0 ? args[i + 1] : args.join(' ');
}

/** The values a scan sends in query strings (the normal ones, before payloads are added), at least 3 characters long. */
export function scanInputs(args: string[]): string[] {
  const out = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '--get' && args[i] !== '--inject' && args[i] !== '--traversal') continue;
    const u = new URL(args[i + 1] ?? '/', 'http://x');
    for (const [, v] of u.searchParams) if (v.length >= 3) out.add(v);
  }
  return [...out];
}

async function mainFile(dir: string, main?: string): Promise<string> {
  if (main) return main;
  try {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { main?: string };
    if (pkg.main) return pkg.main;
  } catch {
    /* no package.json: server.js */
  }
  return 'server.js';
}

/** The learner's app, started from the workspace by startWorkspaceApp: on 127.0.0.1, at `port`. */
export interface WorkspaceApp {
  port: number;
  /** The app's folder and the file `node` started. */
  dir: string;
  main: string;
  /** Whether the app has stopped. */
  exited(): boolean;
  /** The last line the app printed (stdout or stderr), for messages. */
  lastLine(): string;
  /** Where the preload wrote down the processes the app started (when asked to). */
  spawnLog?: string;
  /** Kill the app and everything it started (one process group), and remove its temporary folder. */
  stop(): Promise<void>;
}

/**
 * Start the learner's app from the workspace on this machine, as the lab runs it for checks and
 * attacks: `node` with the preload above — every server on 127.0.0.1 at a free port, a time limit —
 * in its own process group, with only PATH, HOME (a temporary folder), NODE_ENV and `env` in its
 * environment. Resolves when the app listens, or with why it did not start (a sentence about the
 * learner's app: its folder or file is gone, it stopped at start-up…). The caller must `stop()` it.
 */
export async function startWorkspaceApp(
  ctx: { workspace: string },
  o: { path: string; main?: string; env?: Record<string, string>; limitMs: number; recordSpawns?: boolean },
): Promise<{ app: WorkspaceApp } | { failure: string }> {
  const dir = workspaceFile(ctx, o.path);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    return { failure: `the workspace has no ${o.path} folder any more — a lesson reset hands its sources out again` };
  }
  const main = await mainFile(dir, o.main);
  if (!(await stat(join(dir, main)).catch(() => undefined))?.isFile()) {
    return { failure: `${o.path}/${main} is gone — the app cannot start without it` };
  }
  const tmp = await mkdtemp(join(tmpdir(), 'kube-seclab-app-'));
  const preload = join(tmp, 'loopback.cjs');
  const spawnLog = o.recordSpawns ? join(tmp, 'spawns.jsonl') : undefined;
  await writeFile(preload, preloadSource(o.limitMs + 5000, spawnLog));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmp,
    NODE_ENV: 'production',
    ...o.env,
    HOST: '127.0.0.1',
    PORT: '0',
  };
  const child = spawn(process.execPath, ['--require', preload, main], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const lastLine = () => output.trim().split('\n').pop()?.slice(0, 300) ?? '';
  const stop = async () => {
    // the app and whatever it started (a shell, grep…): one process group
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await rm(tmp, { recursive: true, force: true });
  };
  const port = await new Promise<number | string>((resolve) => {
    const t = setTimeout(() => resolve(`did not start listening within 10s${lastLine() ? ` — ${lastLine()}` : ''}`), 10_000);
    child.on('message', (m: { listening?: number }) => {
      if (m?.listening) {
        clearTimeout(t);
        resolve(m.listening);
      }
    });
    child.on('exit', (code, sig) => {
      clearTimeout(t);
      resolve(`stopped at start-up (${sig ?? `exit ${code}`})${lastLine() ? ` — ${lastLine()}` : ''}`);
    });
    child.on('error', (e) => {
      clearTimeout(t);
      resolve(`could not be started: ${e.message}`);
    });
  });
  if (typeof port === 'string') {
    await stop();
    return { failure: `your ${o.path} (\`node ${main}\` in ${dir}) ${port}` };
  }
  return { app: { port, dir, main, exited: () => child.exitCode !== null || child.signalCode !== null, lastLine, spawnLog, stop } };
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
    const dast = await loadDast();
    const started = await startWorkspaceApp(ctx, {
      path: p.path,
      main: p.main,
      env: p.env,
      limitMs: p.timeoutSeconds * 1000,
      recordSpawns: p.noShellWithInput,
    });
    if ('failure' in started) return { passed: false, message: started.failure };
    const { port, lastLine } = started.app;
    const spawnLog = started.app.spawnLog ?? '';
    try {
      const where = `your ${p.path}, run on 127.0.0.1:${port}`;
      const r = await dast.scan(dast.parseArgs([`http://127.0.0.1:${port}`, ...p.args]), { timeoutMs: 5000 });
      if (started.app.exited() && r.answered === 0)
        return { passed: false, message: `${where}: it stopped while being scanned${lastLine() ? ` — ${lastLine()}` : ''}` };
      if (p.noShellWithInput && dast.exitCode(r) === 0) {
        // The attacked parameters once more with their plain values: a filter that stops every payload
        // still lets these through, to wherever the app takes them.
        for (let i = 0; i < p.args.length; i++) {
          if (p.args[i] === '--inject' && p.args[i + 1])
            await fetch(`http://127.0.0.1:${port}${p.args[i + 1]}`, { signal: AbortSignal.timeout(5000) })
              .then((x) => x.arrayBuffer())
              .catch(() => undefined);
        }
        const inputs = scanInputs(p.args);
        const runs = (await readFile(spawnLog, 'utf8').catch(() => ''))
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            try {
              return JSON.parse(l);
            } catch {
              return {};
            }
          });
        for (const run of runs) {
          const script = shellScript(run);
          const hit = script && inputs.find((v) => script.includes(v));
          if (hit)
            return {
              passed: false,
              message: `${where}: the scanner's payloads found nothing, but the search term "${hit}" reached a shell — ${String(run.file)} ran \`${script!.slice(0, 120)}\`: input still becomes part of a shell command line, and a payload the scanner does not know gets through. Run the program without a shell (execFile/spawn with an argument array)`,
            };
        }
        return {
          passed: true,
          message: `${where}: ${dast.summary(r)}; no input reached a shell (${runs.length} process${runs.length === 1 ? '' : 'es'} started, none a shell fed by input)`,
        };
      }
      return { passed: dast.exitCode(r) === 0, message: `${where}: ${dast.summary(r)}` };
    } finally {
      await started.app.stop();
    }
  },
};
