#!/usr/bin/env node
// npm run bench:class — `kube-seclab class report` on synthetic classes: 30 and 300 learners' exports
// (every catalogue lesson, realistic spreads of progress, check results with messages) written as
// files, then read + validated + merged + summarized, and the HTML page rendered. Runs each size
// BENCH_RUNS times (after one warm-up) and prints p50/max. Goal: 30 learners < 1 s end to end.
// Uses tsc's output (dist/): run `npm run build` first.
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalogue } from '../dist/core/lessons/loader.js';
import { packageRoot } from '../dist/core/paths.js';
import { buildExport } from '../dist/core/classroom/export.js';
import { readExports, mergeExports, summarize } from '../dist/core/classroom/report.js';
import { renderHtml } from '../dist/core/classroom/html.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const SIZES = (process.env.BENCH_SIZES ?? '30,300').split(',').map(Number);
const catalogue = await loadCatalogue(packageRoot);
const dir = mkdtempSync(join(tmpdir(), 'kube-seclab-bench-class-'));

/** Deterministic pseudo-random numbers (Park–Miller), so every run benches the same class. */
function rng(seed) {
  let s = seed % 2147483647 || 1;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

function syntheticProgress(i) {
  const r = rng(i + 1);
  const reached = Math.floor(r() * (catalogue.lessons.length + 1));
  const lessons = {};
  catalogue.lessons.slice(0, reached).forEach((l, k) => {
    const done = k < reached - 1 || r() < 0.5;
    const failed = done ? [] : l.checks.filter((_, j) => j === 0 || r() < 0.3).map((c) => c.id);
    lessons[l.id] = {
      status: done ? 'done' : 'started',
      startedAt: '2025-03-01T09:00:00.000Z',
      attempts: 1 + Math.floor(r() * 10),
      hintsUsed: Math.floor(r() * 4),
      solutionViewed: r() < 0.1,
      timeSpentMs: Math.round((2 + r() * 50) * 60_000),
      lastActivity: '2025-03-01T11:00:00.000Z',
      lastCheck: {
        at: '2025-03-01T11:00:00.000Z',
        passed: done,
        failed,
        checks: l.checks.map((c) => ({
          id: c.id,
          status: failed.includes(c.id) ? 'failed' : 'passed',
          message: failed.includes(c.id) ? `${c.id}: ${'the object still allows what the guide says it must not; '.repeat(2)}` : 'ok',
        })),
      },
    };
  });
  return { version: 1, lessons };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
console.log(`${catalogue.lessons.length} lessons per export, ${RUNS} runs per size (after a warm-up)\n`);
console.log('learners   export files  read+validate p50   merge+summarize p50   render HTML p50   total p50 / max    HTML size');
const results = [];
for (const n of SIZES) {
  const files = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const exp = buildExport({
      lessons: catalogue.lessons,
      progress: syntheticProgress(i),
      learner: { name: `Learner ${i} <${i}@example.org>`, id: `s-${String(i).padStart(4, '0')}` },
      labVersion: '0.1.0',
      labName: 'default',
      engine: 'local',
      now: new Date(Date.UTC(2025, 2, 1, 12, 0, i % 60)),
    });
    const file = join(dir, `n${n}-learner-${i}.json`);
    writeFileSync(file, JSON.stringify(exp, null, 2));
    bytes += statSync(file).size;
    files.push(file);
  }
  const read = [],
    merge = [],
    render = [],
    total = [];
  let htmlBytes = 0;
  for (let run = 0; run <= RUNS; run++) {
    const t0 = performance.now();
    const { exports, problems } = await readExports(files);
    const t1 = performance.now();
    const { learners, notes } = mergeExports(exports);
    const report = summarize(learners, { notes, problems });
    const t2 = performance.now();
    const html = renderHtml(report);
    const t3 = performance.now();
    if (report.learners.length !== n || problems.length) throw new Error(`expected ${n} learners, got ${report.learners.length} (${problems.length} problems)`);
    htmlBytes = Buffer.byteLength(html);
    if (run === 0) continue; // warm-up
    read.push(t1 - t0);
    merge.push(t2 - t1);
    render.push(t3 - t2);
    total.push(t3 - t0);
  }
  results.push({ n, p50: pct(total, 0.5), max: Math.max(...total) });
  const ms = (x) => `${x.toFixed(1)} ms`;
  console.log(
    `${String(n).padStart(8)}  ${`${n} (${(bytes / 1024).toFixed(0)} KB)`.padStart(13)}  ${ms(pct(read, 0.5)).padStart(17)}  ${ms(pct(merge, 0.5)).padStart(20)}  ${ms(pct(render, 0.5)).padStart(16)}  ${`${ms(pct(total, 0.5))} / ${ms(Math.max(...total))}`.padStart(18)}  ${`${(htmlBytes / 1024).toFixed(0)} KB`.padStart(9)}`,
  );
}
const thirty = results.find((r) => r.n === 30);
if (thirty) console.log(`\n30 learners: worst ${thirty.max.toFixed(1)} ms end to end (goal < 1000 ms: ${thirty.max < 1000 ? 'met' : 'NOT met'})`);
rmSync(dir, { recursive: true, force: true });
