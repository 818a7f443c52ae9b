import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExport, type ProgressExport, type CatalogueLesson } from '../../src/core/classroom/export.js';
import { readExports, mergeExports, summarize, classReport, parseExport, formatReportText, median, formatDuration } from '../../src/core/classroom/report.js';
import { renderHtml } from '../../src/core/classroom/html.js';
import { runCommand } from '../../src/cli/commands.js';
import type { ProgressData, LessonProgress } from '../../src/core/progress/store.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const LESSONS: CatalogueLesson[] = [
  { id: 'api-server-exposure', layer: 'cloud', title: 'Expose less', checks: [{ id: 'bind' }, { id: 'app' }] },
  { id: 'rbac-least-privilege', layer: 'cluster', title: 'RBAC', checks: [{ id: 'no-secrets' }, { id: 'can-read' }] },
  { id: 'network-policy', layer: 'cluster', title: 'NetworkPolicy', checks: [{ id: 'deny' }, { id: 'dns' }] },
];

type Spec = { done?: boolean; attempts?: number; hints?: number; min?: number; failing?: string[]; solution?: boolean };
/** A learner's export, through the real buildExport, from a compact description per lesson. */
function learner(name: string, id: string | undefined, specs: Record<string, Spec>, exportedAt = '2025-03-01T12:00:00Z'): ProgressExport {
  const lessons: Record<string, LessonProgress> = {};
  for (const [lid, s] of Object.entries(specs)) {
    const l = LESSONS.find((x) => x.id === lid)!;
    lessons[lid] = {
      status: s.done ? 'done' : 'started',
      startedAt: '2025-03-01T10:00:00Z',
      attempts: s.attempts ?? 1,
      hintsUsed: s.hints ?? 0,
      solutionViewed: !!s.solution,
      timeSpentMs: (s.min ?? 1) * 60_000,
      lastActivity: '2025-03-01T11:00:00Z',
      lastCheck: {
        at: '2025-03-01T11:00:00Z',
        passed: !!s.done,
        failed: s.failing ?? [],
        checks: l.checks.map((c) => ({
          id: c.id,
          status: s.failing?.includes(c.id) ? 'failed' : 'passed',
          message: s.failing?.includes(c.id) ? `${c.id} is still open` : 'ok',
        })),
      },
    };
  }
  const progress: ProgressData = { version: 1, lessons };
  return buildExport({
    lessons: LESSONS,
    progress,
    learner: id ? { name, id } : { name },
    labVersion: '0.1.0',
    labName: 'default',
    engine: 'local',
    now: new Date(exportedAt),
  });
}

function dir() {
  return mkdtempSync(join(tmpdir(), 'kube-seclab-class-'));
}
function write(d: string, name: string, data: unknown) {
  const p = join(d, name);
  writeFileSync(p, typeof data === 'string' ? data : JSON.stringify(data));
  return p;
}

describe('reading exports', () => {
  it('each bad file gets one line naming the problem; the good ones are still read', async () => {
    const d = dir();
    const good = write(d, 'ada.json', learner('Ada', 'a1', { 'rbac-least-privilege': { done: true } }));
    const files = [
      good,
      join(d, 'missing.json'),
      write(d, 'trunc.json', '{"format": "kube-seclab-progress", '),
      write(d, 'other.json', { format: 'something-else' }),
      write(d, 'progress.json', { version: 1, lessons: {} }),
      write(d, 'v2.json', { ...learner('X', undefined, {}), version: 2 }),
      write(
        d,
        'bad-field.json',
        (() => {
          const e = learner('Y', undefined, {}) as any;
          e.lessons[1].attempts = -3;
          return e;
        })(),
      ),
      write(d, 'array.json', []),
      (() => {
        const p = join(d, 'a-dir');
        mkdirSync(p);
        return p;
      })(),
    ];
    const { exports, problems } = await readExports(files);
    expect(exports.map((e) => e.file)).toEqual([good]);
    const msg = Object.fromEntries(problems.map((p) => [p.file.split('/').pop(), p.message]));
    expect(msg['missing.json']).toBe('no such file');
    expect(msg['trunc.json']).toMatch(/^not JSON \(/);
    expect(msg['other.json']).toBe('not a kube-seclab progress export (format "something-else", expected "kube-seclab-progress")');
    expect(msg['progress.json']).toMatch(/looks like a progress\.json; export it with `kube-seclab progress export`/);
    expect(msg['v2.json']).toBe('export version 2 is not supported (this kube-seclab reads version 1)');
    expect(msg['bad-field.json']).toMatch(/^invalid export: lessons\[1\]\.attempts: /);
    expect(msg['array.json']).toMatch(/expected a JSON object/);
    expect(msg['a-dir']).toBe('is a directory, not an export file');
    for (const p of problems) expect(p.message).not.toContain('\n');
  });

  it('parseExport accepts what buildExport writes, through JSON', () => {
    const e = learner('Ada', 'a1', { 'network-policy': { attempts: 4, failing: ['dns'] } });
    expect(parseExport(JSON.stringify(e))).toEqual(e);
  });
});

describe('merging', () => {
  it('the same learner twice: the later export wins (by exportedAt, whatever the order), with a note', () => {
    const old = { file: 'old.json', data: learner('Ada', 'a1', { 'rbac-least-privilege': { attempts: 1 } }, '2025-03-01T09:00:00Z') };
    const neu = { file: 'new.json', data: learner('Ada L.', 'a1', { 'rbac-least-privilege': { done: true, attempts: 5 } }, '2025-03-02T09:00:00Z') };
    const bob = { file: 'bob.json', data: learner('Bob', undefined, {}) };
    for (const order of [
      [old, bob, neu],
      [neu, bob, old],
    ]) {
      const { learners, notes } = mergeExports(order);
      expect(learners.map((l) => l.file).sort()).toEqual(['bob.json', 'new.json']);
      expect(notes).toHaveLength(1);
      expect(notes[0]).toContain('using new.json');
      expect(notes[0]).toContain('ignoring old.json');
    }
  });

  it('on equal export times the one named later wins; learners without an id match by name, case-insensitively', () => {
    const a = { file: 'first.json', data: learner('Carol', undefined, {}) };
    const b = { file: 'second.json', data: learner('carol', undefined, { 'network-policy': { done: true } }) };
    const { learners, notes } = mergeExports([a, b]);
    expect(learners.map((l) => l.file)).toEqual(['second.json']);
    expect(notes[0]).toMatch(/appears twice: using second\.json .* ignoring first\.json/);
    // Different ids are different learners, even with the same name.
    expect(
      mergeExports([
        { file: 'x', data: learner('Dan', 'd1', {}) },
        { file: 'y', data: learner('Dan', 'd2', {}) },
      ]).learners,
    ).toHaveLength(2);
  });

  it('summarizes per lesson (n/N, medians over learners who started) and per learner', () => {
    const ls = [
      {
        file: 'a',
        data: learner('Ada', 'a1', {
          'rbac-least-privilege': { done: true, attempts: 2, hints: 1, min: 10 },
          'network-policy': { attempts: 6, hints: 3, min: 40, failing: ['dns'] },
        }),
      },
      { file: 'b', data: learner('Bob', 'b1', { 'rbac-least-privilege': { done: true, attempts: 4, hints: 0, min: 20, solution: true } }) },
      {
        file: 'c',
        data: learner('Cy', 'c1', {
          'rbac-least-privilege': { attempts: 9, hints: 2, min: 30, failing: ['no-secrets', 'can-read'] },
          'network-policy': { attempts: 2, min: 5, failing: ['dns', 'deny'] },
        }),
      },
    ];
    const r = summarize(ls, { now: new Date('2025-03-03T00:00:00Z') });
    expect(r.lessons.map((l) => l.id)).toEqual(['api-server-exposure', 'rbac-least-privilege', 'network-policy']);
    const rbac = r.lessons[1];
    expect(rbac).toMatchObject({
      learners: 3,
      started: 3,
      done: 2,
      stuck: 1,
      medianAttempts: 4,
      medianHints: 1,
      totalHints: 3,
      medianTimeMs: 20 * 60_000,
      maxTimeMs: 30 * 60_000,
      solutionsViewed: 1,
    });
    expect(rbac.completion).toBeCloseTo(2 / 3);
    const np = r.lessons[2];
    expect(np).toMatchObject({ started: 2, done: 0, stuck: 2, medianAttempts: 4, medianTimeMs: 22.5 * 60_000, meanHints: 1.5 });
    expect(np.failingChecks).toEqual([
      { id: 'dns', learners: 2 },
      { id: 'deny', learners: 1 },
    ]);
    expect(r.lessons[0]).toMatchObject({ started: 0, done: 0, medianAttempts: null, medianTimeMs: null });
    expect(r.learners.map((x) => [x.name, x.done, x.attempts, x.hintsUsed, x.timeSpentMs])).toEqual([
      ['Ada', 1, 8, 4, 50 * 60_000],
      ['Bob', 1, 4, 0, 20 * 60_000],
      ['Cy', 0, 11, 2, 35 * 60_000],
    ]);
    expect(r.learners[0].lessons).toEqual({ 'api-server-exposure': 'not-started', 'rbac-least-privilege': 'done', 'network-policy': 'started' });
    const text = formatReportText(r);
    expect(text[0]).toBe('3 learners, 3 lessons');
    expect(text.find((l) => l.startsWith('rbac-least-privilege'))).toMatch(/^rbac-least-privilege\s+2\/3\s+4\s+3\s+20 min\s+(no-secrets|can-read) \(1\)/);
    expect(text.find((l) => l.startsWith('network-policy'))).toMatch(/0\/3\s+4\s+3\s+23 min\s+dns \(2\), deny \(1\)/);
    expect(text.find((l) => l.startsWith('Cy (c1)'))).toMatch(/0\/3 done\s+11 attempts, 2 hints, 0 solutions viewed, 35 min/);
  });

  it('median and durations', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect([formatDuration(null), formatDuration(42_000), formatDuration(180_000), formatDuration(3_900_000)]).toEqual(['–', '42 s', '3 min', '1 h 05 min']);
  });
});

describe('the HTML page', () => {
  const evil = '<script>alert(1)</script>';
  const report = () =>
    summarize(
      [
        {
          file: 'evil.json',
          data: learner(evil, '"><img src=x onerror=alert(2)>', {
            'rbac-least-privilege': { done: true, attempts: 3, min: 12 },
            'network-policy': { attempts: 5, hints: 2, min: 30, failing: ['dns'] },
          }),
        },
        { file: 'bob.json', data: learner('Bob & Co', undefined, { 'rbac-least-privilege': { attempts: 9, hints: 1, min: 25, failing: ['no-secrets'] } }) },
      ],
      { notes: [`learner ${evil} appears twice: using a, ignoring b`], problems: [{ file: '<b>x.json</b>', message: 'not JSON (<i>)' }] },
    );

  it('escapes every learner-provided string: no tag, attribute or script gets in', () => {
    const page = renderHtml(report());
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<img/i);
    expect(page).not.toMatch(/<b>x|<i>\)/);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(page).toContain('Bob &amp; Co');
    // Self-contained: a CSP forbidding every fetch and script, no external reference of any kind.
    expect(page).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(page).not.toMatch(/<[^>]*\s(src|href|on\w+)\s*=/i); // in a real tag, not in escaped text
    expect(page).not.toMatch(/@import|url\(/i);
  });

  it('has the three charts with one bar per lesson and series, sized by value, and one table row per learner', () => {
    const r = report();
    const page = renderHtml(r);
    for (const id of ['chart-completion', 'chart-stuck', 'chart-time']) expect(page).toContain(`<svg id="${id}"`);
    const bars = [
      ...page.matchAll(/<rect class="bar" data-lesson="([^"]+)" data-series="([^"]+)" data-value="([^"]*)" x="[\d.]+" y="[\d.]+" width="([\d.]+)"/g),
    ].map((m) => ({ lesson: m[1], series: m[2], value: m[3], width: Number(m[4]) }));
    expect(bars.filter((b) => b.series === 'completion')).toHaveLength(r.lessons.length);
    expect(bars.filter((b) => b.series === 'attempts')).toHaveLength(r.lessons.length);
    expect(bars.filter((b) => b.series === 'time')).toHaveLength(r.lessons.length);
    const completion = Object.fromEntries(bars.filter((b) => b.series === 'completion').map((b) => [b.lesson, b.width]));
    expect(completion['rbac-least-privilege']).toBeGreaterThan(0);
    expect(completion['network-policy']).toBe(0);
    const attempts = Object.fromEntries(bars.filter((b) => b.series === 'attempts').map((b) => [b.lesson, b.width]));
    expect(attempts['rbac-least-privilege']).toBeGreaterThan(attempts['network-policy']); // medians 6 and 5
    expect(attempts['api-server-exposure']).toBe(0);
    expect(page.match(/<tr class="learner">/g)).toHaveLength(2);
    expect(page).toContain('1/2 (50%)');
  });
});

describe('kube-seclab class report (the subcommand)', () => {
  it('merges what it can, reports each bad file on one line, writes the page; exit 2 only when nothing is usable', async () => {
    const d = dir();
    const a = write(d, 'a.json', learner('Ada', 'a1', { 'rbac-least-privilege': { done: true } }));
    const b = write(d, 'b.json', learner('Bob', 'b1', { 'network-policy': { failing: ['dns'] } }));
    const bad = write(d, 'bad.json', 'nope');
    const errs: string[] = [];
    const outs: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      errs.push(String(s));
      return true;
    });
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      outs.push(String(s));
      return true;
    });
    const env = { ...process.env, KUBE_SECLAB_DATA: join(d, 'data') };
    const html = join(d, 'out', 'report.html');
    expect(await runCommand('class', ['report', a, bad, b], { html }, env, 'local')).toBe(0);
    expect(errs.filter((e) => e.includes(bad))).toHaveLength(1);
    expect(errs.find((e) => e.includes(bad))).toMatch(/bad\.json: not JSON/);
    expect(outs.join('')).toMatch(/2 learners, /);
    expect(readFileSync(html, 'utf8').match(/<tr class="learner">/g)).toHaveLength(2);
    outs.length = 0;
    expect(await runCommand('class', ['report', a, a, bad], { json: true }, env, 'local')).toBe(0);
    const json = JSON.parse(outs.join(''));
    expect(json.learners).toHaveLength(1);
    expect(json.notes[0]).toMatch(/appears twice/);
    expect(json.problems).toEqual([{ file: bad, message: expect.stringMatching(/^not JSON/) }]);
    errs.length = 0;
    expect(await runCommand('class', ['report', bad, join(d, 'nothing.json')], {}, env, 'local')).toBe(2);
    expect(errs.join('')).toMatch(/none of the 2 files is a usable progress export/);
    expect((await classReport([a])).learners).toHaveLength(1);
  });
});
