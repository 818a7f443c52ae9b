#!/usr/bin/env node
/**
 * TUI benchmark (npm run bench:tui): the built binary in tmux, as a learner starts it.
 *   cold start  spawn → first non-empty frame in the pane (capture-pane polled as fast as it goes),
 *               median of several runs; also spawn → the first frame drawn by Ink (the start-up
 *               screen with its status bar) and spawn → the Home screen (lab opened, cluster healthy).
 *   memory      RSS of the TUI process (/proc/<pid>/status VmRSS, and the peak VmHWM) after a lesson
 *               is open, its scenario set up and watch mode running
 * Goals: first frame <= 400 ms, RSS <= 150 MB.
 *
 * The cluster is brought up first (`kube-seclab up`) and that is not timed. Data dir: $KUBE_SECLAB_DATA,
 * else a temporary one (whose cluster is removed at the end). Options: --runs N, --lesson ID, --keep.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'kube-seclab.js');
const GOALS = { firstFrameMs: 400, rssMb: 150 };
const { values: opt } = parseArgs({ options: { runs: { type: 'string', default: '7' }, lesson: { type: 'string', default: 'rbac-least-privilege' }, keep: { type: 'boolean' } } });

if (!existsSync(join(ROOT, 'dist', 'ui', 'app.js'))) {
  console.error('bench:tui: build first (`npm run build`)');
  process.exit(2);
}
const ownData = !process.env.KUBE_SECLAB_DATA;
const data = process.env.KUBE_SECLAB_DATA || mkdtempSync(join(tmpdir(), 'kube-seclab-bench-'));
const env = { ...process.env, KUBE_SECLAB_DATA: data, KUBE_SECLAB_ENGINE: process.env.KUBE_SECLAB_ENGINE ?? 'local', TERM: 'xterm-256color' };
delete env.NO_COLOR;
const socket = `ksl-bench-${process.pid}`;
const tmux = (...args) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
const capture = (s) => { try { return tmux('capture-pane', '-p', '-t', s); } catch { return ''; } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function waitFor(session, test, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const s = capture(session);
    if (test(s)) return s;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}:\n${capture(session)}`);
}

const ENTRIES = {
  binary: `exec ${process.execPath} ${BIN}`,
};

/** One start: ms to the first non-empty frame, to Ink's first frame and to Home; the session is left running. */
async function coldStart(session, entry = 'binary') {
  const t0 = performance.now();
  // tmux now and then loses its server while the previous run's is going away: try again
  for (let attempt = 0; ; attempt++) {
    try { tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', '-e', `KUBE_SECLAB_DATA=${data}`, '-e', `KUBE_SECLAB_ENGINE=${env.KUBE_SECLAB_ENGINE}`, ENTRIES[entry]); break; } catch (e) { if (attempt >= 2) throw e; await new Promise((r) => setTimeout(r, 300)); }
  }
  let first;
  let ink;
  for (;;) {
    const s = capture(session);
    const t = performance.now() - t0;
    if (first === undefined && s.trim()) first = t;
    if (s.includes('●')) { ink = t; break; }
    if (t > 30_000) throw new Error('no frame within 30 s');
  }
  await waitFor(session, (s) => s.includes('j/k move'), 60_000, 'the Home screen');
  return { first, ink, home: performance.now() - t0 };
}

function rssOf(pid) {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(st)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

let failed = false;
try {
  console.log(`bench:tui — data ${data}`);
  const up = spawnSync(process.execPath, [BIN, 'up'], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  if (up.status !== 0) throw new Error('`kube-seclab up` failed');
  const runs = Math.max(1, Number(opt.runs));
  const starts = {};
  for (const entry of Object.keys(ENTRIES)) {
    starts[entry] = [];
    // One warm-up start (the OS file cache), not counted.
    for (let i = 0; i <= runs; i++) {
      const name = `${entry.replace(/\W/g, '')}${i}`;
      const r = await coldStart(name, entry);
      tmux('kill-session', '-t', name);
      if (i > 0) starts[entry].push(r);
    }
  }
  // Memory: open a lesson (scenario set up, watch running, checks done), then read the process's RSS.
  const s = 'mem';
  await coldStart(s);
  const pid = Number(tmux('list-panes', '-t', s, '-F', '#{pane_pid}').trim());
  tmux('send-keys', '-t', s, '/');
  await sleep(200);
  tmux('send-keys', '-t', s, '-l', opt.lesson);
  await sleep(300);
  tmux('send-keys', '-t', s, 'Enter');
  await waitFor(s, (x) => x.includes('● watching') && /^ [✓✗] /m.test(x), 120_000, 'the lesson with its checks');
  await sleep(1500); // a few watch re-checks
  const mem = rssOf(pid);
  tmux('send-keys', '-t', s, 'q');
  // Reference: the same core work without a screen (`check --watch`, the CLI face of watch mode).
  const ref = spawn(process.execPath, [BIN, 'check', opt.lesson, '--watch'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  ref.stdout.on('data', (d) => { out += d; });
  const refEnd = Date.now() + 60_000;
  while (!/checks pass|all \d+ checks/.test(out) && Date.now() < refEnd) await sleep(50);
  await sleep(1500);
  const refMem = rssOf(ref.pid);
  ref.kill('SIGINT');

  const W = 46;
  const row = (name, value, goal, unit) => console.log(`${name.padEnd(W)} ${value.toFixed(0).padStart(6)} ${unit}${goal ? `   goal <= ${goal} ${unit}   ${value <= goal ? 'ok' : 'OVER'}` : ''}`);
  console.log(`\nmedian of ${runs} cold starts each (after one warm-up); load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  for (const [entry, rs] of Object.entries(starts)) {
    console.log(`\n${entry === 'binary' ? '`node bin/kube-seclab.js`' : 'TUI entry alone (dist/ui/run.js)'}`);
    row('  spawn → first frame', median(rs.map((r) => r.first)), entry === 'binary' ? GOALS.firstFrameMs : 0, 'ms');
    console.log(`${''.padEnd(W)} runs: ${rs.map((r) => r.first.toFixed(0)).join(', ')} ms`);
    row('  spawn → first frame drawn by Ink', median(rs.map((r) => r.ink)), 0, 'ms');
    row('  spawn → Home (lab open, cluster checked)', median(rs.map((r) => r.home)), 0, 'ms');
  }
  console.log('');
  row('RSS with a lesson open (VmRSS)', mem.rssMb, GOALS.rssMb, 'MB');
  row('peak RSS (VmHWM)', mem.hwmMb, 0, 'MB');
  row('reference: `check --watch` (no UI), VmRSS', refMem.rssMb, 0, 'MB');
  failed = median(starts.binary.map((r) => r.first)) > GOALS.firstFrameMs || mem.rssMb > GOALS.rssMb;
} catch (e) {
  console.error(`bench:tui: ${e.message}`);
  failed = true;
} finally {
  try { tmux('kill-server'); } catch { /* gone */ }
  if (ownData && !opt.keep) {
    spawnSync(process.execPath, [BIN, 'down'], { env, stdio: 'ignore' });
    rmSync(data, { recursive: true, force: true });
  }
}
process.exitCode = failed ? 1 : 0;
