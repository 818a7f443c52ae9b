#!/usr/bin/env node
/**
 * TUI benchmark (npm run bench:tui): the built binary in tmux, as a learner starts it.
 *   first run   (default) an empty lab data dir: the TUI itself provisions the local cluster, then a
 *               lesson is opened (scenario set up, watch on). Figures for the TUI process:
 *                 CPU % of a core while provisioning (/proc/<pid>/stat utime+stime over wall time,
 *                 from the task list appearing to the Home screen), CPU % while idle on the lesson
 *                 screen with watch on (a quiet window, --idle seconds), RSS and peak RSS at the end.
 *               The Kubernetes binaries come from the cache (~/.cache/kube-seclab/bin/<version>, or
 *               KUBE_SECLAB_CACHE / KUBE_SECLAB_BIN_DIR) when they are there — the output says so;
 *               building them is not what this measures (without them the run stops, unless --build).
 *   cold start  spawn → first non-empty frame in the pane (capture-pane polled as fast as it goes),
 *               median of several runs; also spawn → the first frame drawn by Ink (the start-up
 *               screen with its status bar) and spawn → the Home screen (lab opened, cluster healthy).
 *   memory      RSS of the TUI process (/proc/<pid>/status VmRSS, and the peak VmHWM) after a lesson
 *               is open on a warm start, its scenario set up and watch mode running
 * Goals: first frame <= 400 ms, CPU while waiting <= 3 % of a core, RSS <= 150 MB.
 *
 * Data dir: a new temporary one (its cluster is removed at the end). With --no-first-run (or
 * $KUBE_SECLAB_DATA set) the cluster is brought up first (`kube-seclab up`, not timed) and only the
 * warm-start figures are printed; --first-run-only skips them. Options: --runs N, --lesson ID, --idle SECONDS,
 * --keep, --build.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'kube-seclab.js');
const W = 46;
const GOALS = { firstFrameMs: 400, rssMb: 150, cpuPct: 3 };
const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    lesson: { type: 'string', default: 'rbac-least-privilege' },
    idle: { type: 'string', default: '45' },
    keep: { type: 'boolean' },
    build: { type: 'boolean' },
    'first-run-only': { type: 'boolean' },
    'no-first-run': { type: 'boolean' },
  },
});

if (!existsSync(join(ROOT, 'dist', 'ui', 'app.js'))) {
  console.error('bench:tui: build first (`npm run build`)');
  process.exit(2);
}
const ownData = !process.env.KUBE_SECLAB_DATA;
const doFirstRun = ownData && !opt['no-first-run'];
const data = process.env.KUBE_SECLAB_DATA || mkdtempSync(join(tmpdir(), 'kube-seclab-bench-'));
const env = { ...process.env, KUBE_SECLAB_DATA: data, KUBE_SECLAB_ENGINE: process.env.KUBE_SECLAB_ENGINE ?? 'local', TERM: 'xterm-256color' };
delete env.NO_COLOR;
const socket = `ksl-bench-${process.pid}`;
const tmux = (...args) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
const capture = (s) => {
  try {
    return tmux('capture-pane', '-p', '-t', s);
  } catch {
    return '';
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function waitFor(session, test, timeoutMs, what, every = 20) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const s = capture(session);
    if (test(s)) return s;
    await sleep(every);
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
    try {
      tmux(
        'new-session',
        '-d',
        '-s',
        session,
        '-x',
        '100',
        '-y',
        '30',
        '-e',
        `KUBE_SECLAB_DATA=${data}`,
        '-e',
        `KUBE_SECLAB_ENGINE=${env.KUBE_SECLAB_ENGINE}`,
        ENTRIES[entry],
      );
      break;
    } catch (e) {
      if (attempt >= 2) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  let first;
  let ink;
  for (;;) {
    const s = capture(session);
    const t = performance.now() - t0;
    if (first === undefined && s.trim()) first = t;
    if (s.includes('●')) {
      ink = t;
      break;
    }
    if (t > 30_000) throw new Error('no frame within 30 s');
  }
  await waitFor(session, (s) => s.includes('j/k move'), 60_000, 'the Home screen');
  return { first, ink, home: performance.now() - t0 };
}

/** CPU time (user + system) of a process in seconds, from /proc/<pid>/stat. */
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
function cpuSecondsOf(pid) {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime (14), stime (15)
}
/** A CPU meter from now: returns a function giving % of one core, CPU seconds and wall seconds so far. */
function cpuMeter(pid) {
  const c0 = cpuSecondsOf(pid);
  const t0 = performance.now();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSecondsOf(pid) - c0;
    return { pct: (100 * cpu) / wall, cpu, wall };
  };
}
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Where the local engine finds the Kubernetes binaries (as src/engines/local/binaries-cache.ts does). */
function binariesSource() {
  const explicit = env.KUBE_SECLAB_BIN_DIR || env.KUBEBUILDER_ASSETS;
  if (explicit) return { dir: explicit, how: 'KUBE_SECLAB_BIN_DIR / KUBEBUILDER_ASSETS' };
  const versions = readFileSync(join(ROOT, 'src', 'engines', 'local', 'versions.ts'), 'utf8');
  const k8s = /K8S_VERSION = '([^']+)'/.exec(versions)?.[1] ?? 'unknown';
  const cache = env.KUBE_SECLAB_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kube-seclab');
  return { dir: join(cache, 'bin', k8s), how: 'the existing cache', stamp: existsSync(join(cache, 'bin', k8s, '.versions')) };
}

async function openLesson(s) {
  tmux('send-keys', '-t', s, '/');
  await sleep(200);
  tmux('send-keys', '-t', s, '-l', opt.lesson);
  await sleep(300);
  tmux('send-keys', '-t', s, 'Enter');
  await waitFor(s, (x) => x.includes('● watching') && /^ [✓✗] /m.test(x), 180_000, 'the lesson with its checks', 100);
}

/**
 * First run: the TUI on an empty data dir provisions the cluster itself; then a lesson with watch on.
 * The cluster stays up (the warm starts use it).
 */
async function firstRun(session) {
  const t0 = performance.now();
  tmux(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    '100',
    '-y',
    '30',
    '-e',
    `KUBE_SECLAB_DATA=${data}`,
    '-e',
    `KUBE_SECLAB_ENGINE=${env.KUBE_SECLAB_ENGINE}`,
    ENTRIES.binary,
  );
  const pid = Number(tmux('list-panes', '-t', session, '-F', '#{pane_pid}').trim());
  const whole = cpuMeter(pid);
  // Provisioning: from the task list appearing to the Home screen. Polled slowly: the bench's own
  // capture-pane calls cost the tmux server, not the TUI, but the machine is shared.
  await waitFor(session, (x) => x.includes('ctrl+c stops') || x.includes('j/k move'), 120_000, 'provisioning to start', 100);
  const prov = cpuMeter(pid);
  let lastTasks = '';
  // CPU per step: each poll's CPU goes to the step that was running (the line with the spinner) at the poll before.
  const steps = new Map();
  let step = '(before the first step)';
  let c = cpuSecondsOf(pid);
  let t = performance.now();
  await waitFor(
    session,
    (x) => {
      const c1 = cpuSecondsOf(pid);
      const t1 = performance.now();
      const acc = steps.get(step) ?? { cpu: 0, wall: 0 };
      steps.set(step, { cpu: acc.cpu + c1 - c, wall: acc.wall + (t1 - t) / 1000 });
      c = c1;
      t = t1;
      if (x.includes('ctrl+c stops')) lastTasks = x;
      const running = /^\s+[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] (.+?)\s+\d+(?:\.\d)?s\b|^\s+[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] (.+?)\s+\d+m\d\ds\b/m.exec(x);
      // No step running: between steps, or after the last one (the TUI loads the lessons and draws Home).
      step = running ? (running[1] ?? running[2]).trim() : '(no step running: between steps / loading the lessons)';
      return x.includes('j/k move');
    },
    30 * 60_000,
    'the Home screen after provisioning',
    250,
  );
  const provisioning = { ...prov(), load: loadavg() };
  const toHome = (performance.now() - t0) / 1000;
  await openLesson(session);
  await sleep(5000); // the first watch re-checks settle
  const idleMeter = cpuMeter(pid);
  await sleep(Math.max(5, Number(opt.idle)) * 1000);
  const idle = { ...idleMeter(), load: loadavg() };
  const screen = capture(session);
  return { pid, provisioning, steps, idle, toHome, total: whole(), mem: rssOf(pid), lastTasks, screen };
}

function rssOf(pid) {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(st)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** The first run's figures side by side, with the goals; true when one misses its goal. */
function printFirst(first) {
  const line = (name, v, unit, goal, extra = '') =>
    console.log(
      `${name.padEnd(W)} ${v.toFixed(1).padStart(6)} ${unit.padEnd(7)}${goal !== undefined ? `goal <= ${goal} ${unit}`.padEnd(20) + (v <= goal ? 'PASS' : 'FAIL') : ''.padEnd(24)}${extra ? `   ${extra}` : ''}`,
    );
  console.log(`\nfirst run (empty data dir, cluster provisioned by the TUI; spawn → Home ${first.toHome.toFixed(0)} s)`);
  const tasks = first.lastTasks
    .split('\n')
    .filter((l) => /^\s+[✓✗•⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/.test(l))
    .map((l) => l.trimEnd());
  if (tasks.length) console.log(`  the task list as last seen while provisioning:\n${tasks.map((l) => `    ${l}`).join('\n')}`);
  line(
    '  CPU while provisioning',
    first.provisioning.pct,
    '% core',
    GOALS.cpuPct,
    `${first.provisioning.cpu.toFixed(2)} s CPU in ${first.provisioning.wall.toFixed(0)} s; load ${first.provisioning.load}`,
  );
  // The steps where the TUI only waits for other processes (the API server, the controllers, a build).
  const waiting = [...first.steps].filter(([name]) => /^Wait |^Find the Kubernetes binaries/.test(name));
  const w = waiting.reduce((a, [, v]) => ({ cpu: a.cpu + v.cpu, wall: a.wall + v.wall }), { cpu: 0, wall: 0 });
  if (w.wall > 0)
    line('  CPU in the waiting steps (Wait …, Find …)', (100 * w.cpu) / w.wall, '% core', GOALS.cpuPct, `${w.cpu.toFixed(2)} s CPU in ${w.wall.toFixed(0)} s`);
  console.log('    per step (CPU of the TUI process while the step was running):');
  for (const [name, v] of first.steps)
    console.log(
      `      ${name.slice(0, 58).padEnd(58)} ${v.cpu.toFixed(2).padStart(6)} s CPU in ${v.wall.toFixed(1).padStart(5)} s  ${(v.wall ? (100 * v.cpu) / v.wall : 0).toFixed(1).padStart(5)} %`,
    );
  line(
    `  CPU idle on the lesson, watch on`,
    first.idle.pct,
    '% core',
    GOALS.cpuPct,
    `${first.idle.cpu.toFixed(2)} s CPU in ${first.idle.wall.toFixed(0)} s; load ${first.idle.load}`,
  );
  line('  RSS at the end (VmRSS)', first.mem.rssMb, 'MB', GOALS.rssMb);
  line('  peak RSS (VmHWM)', first.mem.hwmMb, 'MB', GOALS.rssMb);
  line('  whole first run, spawn → end', first.total.pct, '% core', undefined, `${first.total.cpu.toFixed(1)} s CPU in ${first.total.wall.toFixed(0)} s`);
  const lost = !first.screen.includes('● watching');
  if (lost) console.log('  (the lesson screen no longer showed "● watching" at the end)');
  return (
    lost ||
    [first.provisioning.pct, first.idle.pct, w.wall > 0 ? (100 * w.cpu) / w.wall : 0].some((v) => v > GOALS.cpuPct) ||
    [first.mem.rssMb, first.mem.hwmMb].some((v) => v > GOALS.rssMb)
  );
}

let failed; // every path below sets it
try {
  console.log(`bench:tui — data ${data}`);
  let first;
  if (doFirstRun) {
    const bin = binariesSource();
    const cached = bin.stamp !== false && existsSync(join(bin.dir, 'kube-apiserver'));
    console.log(
      `Kubernetes binaries: ${cached ? `from ${bin.how} ${bin.dir} (not rebuilt; provisioning starts etcd, the control plane and the lab's objects)` : `none in ${bin.dir}`}`,
    );
    if (!cached && !opt.build)
      throw new Error(`no Kubernetes binaries in ${bin.dir}: build them first (\`kube-seclab up\` once) or pass --build to time a first run that builds them`);
    console.log(
      `first run: empty data dir, the TUI provisions the ${env.KUBE_SECLAB_ENGINE} cluster, then lesson ${opt.lesson} with watch on, idle ${opt.idle} s … (load average ${loadavg()})`,
    );
    first = await firstRun('first');
    tmux('send-keys', '-t', 'first', 'q');
    await sleep(1000);
    try {
      tmux('kill-session', '-t', 'first');
    } catch {
      /* gone */
    }
  } else {
    const up = spawnSync(process.execPath, [BIN, 'up'], { env, stdio: ['ignore', 'ignore', 'ignore'] });
    if (up.status !== 0) throw new Error('`kube-seclab up` failed');
  }
  if (first && opt['first-run-only']) {
    failed = printFirst(first);
  } else {
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
    await openLesson(s);
    await sleep(1500); // a few watch re-checks
    const mem = rssOf(pid);
    tmux('send-keys', '-t', s, 'q');
    // Reference: the same core work without a screen (`check --watch`, the CLI face of watch mode).
    const ref = spawn(process.execPath, [BIN, 'check', opt.lesson, '--watch'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    ref.stdout.on('data', (d) => {
      out += d;
    });
    const refEnd = Date.now() + 60_000;
    while (!/checks pass|all \d+ checks/.test(out) && Date.now() < refEnd) await sleep(50);
    await sleep(1500);
    const refMem = rssOf(ref.pid);
    ref.kill('SIGINT');

    const row = (name, value, goal, unit) =>
      console.log(`${name.padEnd(W)} ${value.toFixed(0).padStart(6)} ${unit}${goal ? `   goal <= ${goal} ${unit}   ${value <= goal ? 'ok' : 'OVER'}` : ''}`);
    console.log(`\nwarm start (cluster already up): median of ${runs} cold starts each (after one warm-up); load average ${loadavg()}`);
    for (const [entry, rs] of Object.entries(starts)) {
      console.log(`\n${entry === 'binary' ? '`node bin/kube-seclab.js`' : 'TUI entry alone (dist/ui/run.js)'}`);
      row('  spawn → first frame', median(rs.map((r) => r.first)), entry === 'binary' ? GOALS.firstFrameMs : 0, 'ms');
      console.log(`${''.padEnd(W)} runs: ${rs.map((r) => r.first.toFixed(0)).join(', ')} ms`);
      row('  spawn → first frame drawn by Ink', median(rs.map((r) => r.ink)), 0, 'ms');
      row('  spawn → Home (lab open, cluster checked)', median(rs.map((r) => r.home)), 0, 'ms');
    }
    console.log('');
    row('warm start: RSS with a lesson open (VmRSS)', mem.rssMb, GOALS.rssMb, 'MB');
    row('peak RSS (VmHWM)', mem.hwmMb, 0, 'MB');
    row('reference: `check --watch` (no UI), VmRSS', refMem.rssMb, 0, 'MB');
    failed = median(starts.binary.map((r) => r.first)) > GOALS.firstFrameMs || mem.rssMb > GOALS.rssMb;
    if (first) failed = printFirst(first) || failed;
  }
} catch (e) {
  console.error(`bench:tui: ${e.message}`);
  failed = true;
} finally {
  try {
    tmux('kill-server');
  } catch {
    /* gone */
  }
  if (ownData && !opt.keep) {
    spawnSync(process.execPath, [BIN, 'down'], { env, stdio: 'ignore' });
    rmSync(data, { recursive: true, force: true });
  }
}
process.exitCode = failed ? 1 : 0;
