import { describe, it, expect, beforeAll, vi, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { loadCatalogue, type Catalogue } from '../../src/core/lessons/loader.js';
import { packageRoot } from '../../src/core/paths.js';
import { ProgressStore, lastCheckRecord, type ProgressData } from '../../src/core/progress/store.js';
import { buildExport, progressExportSchema, resolveLearner, toJunit, EXPORT_FORMAT } from '../../src/core/classroom/export.js';
import { runCommand } from '../../src/cli/commands.js';

let catalogue: Catalogue;
beforeAll(async () => {
  catalogue = await loadCatalogue(packageRoot);
});
afterEach(() => {
  vi.restoreAllMocks();
});

const tmp = () => mkdtempSync(join(tmpdir(), 'kube-seclab-export-'));
const NASTY = `<script>alert("x")</script> & 'Bob' \u0007\x1b[31mred\x1b[0m ]]> \uD800`;

/** A progress file as version 1 wrote it before per-check results were kept (lastCheck: failed ids only). */
function oldFormatProgress(c: Catalogue): ProgressData {
  const [a, b] = c.lessons;
  return {
    version: 1,
    current: b.id,
    lessons: {
      [a.id]: {
        status: 'done',
        startedAt: '2025-01-01T10:00:00.000Z',
        completedAt: '2025-01-01T10:12:00.000Z',
        attempts: 3,
        hintsUsed: 1,
        solutionViewed: false,
        timeSpentMs: 720_000,
        lastActivity: '2025-01-01T10:12:00.000Z',
        clusterId: 'x',
        lastCheck: { at: '2025-01-01T10:12:00.000Z', passed: true, failed: [] },
      },
      [b.id]: {
        status: 'started',
        startedAt: '2025-01-01T10:13:00.000Z',
        attempts: 2,
        hintsUsed: 2,
        solutionViewed: true,
        timeSpentMs: 300_000,
        lastActivity: '2025-01-01T10:18:00.000Z',
        lastCheck: { at: '2025-01-01T10:18:00.000Z', passed: false, failed: [b.checks[0].id] },
      },
    },
  } as ProgressData;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
});

/** The common JUnit schema's rules, checked on the parsed document (well-formedness by the validator). */
function checkJunit(xml: string) {
  const valid = XMLValidator.validate(xml);
  expect(valid, JSON.stringify(valid)).toBe(true);
  const doc = parser.parse(xml);
  const root = doc.testsuites;
  expect(root).toBeDefined();
  const num = (x: string) => {
    expect(x).toMatch(/^\d+$/);
    return Number(x);
  };
  const time = (x: string) => {
    expect(x).toMatch(/^\d+(\.\d+)?$/);
    return Number(x);
  };
  let tests = 0,
    failures = 0,
    skipped = 0;
  for (const s of root.testsuite) {
    expect(typeof s['@name']).toBe('string');
    expect(s['@timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/); // xs:dateTime without zone, as the schema's pattern
    const cases = s.testcase;
    expect(num(s['@tests'])).toBe(cases.length);
    expect(num(s['@failures'])).toBe(cases.filter((c: any) => c.failure !== undefined).length);
    expect(num(s['@skipped'])).toBe(cases.filter((c: any) => c.skipped !== undefined).length);
    expect(num(s['@errors'])).toBe(0);
    time(s['@time']);
    for (const c of cases) {
      expect(c['@name']).toBeTruthy();
      expect(c['@classname']).toBeTruthy();
      time(c['@time']);
      expect(c.failure !== undefined && c.skipped !== undefined).toBe(false);
    }
    tests += cases.length;
    failures += Number(s['@failures']);
    skipped += Number(s['@skipped']);
  }
  expect(num(root['@tests'])).toBe(tests);
  expect(num(root['@failures'])).toBe(failures);
  expect(num(root['@skipped'])).toBe(skipped);
  return doc;
}

describe('progress store: per-check results, old files', () => {
  it('an old-format file (lastCheck with failed ids only) still loads, unchanged and not set aside', async () => {
    const dir = tmp();
    const path = join(dir, 'progress.json');
    const old = oldFormatProgress(catalogue);
    writeFileSync(path, JSON.stringify(old, null, 2));
    const store = new ProgressStore(path);
    const d = await store.load();
    expect(store.warnings).toEqual([]);
    expect(readdirSync(dir)).toEqual(['progress.json']);
    expect(d).toEqual(old);
    // …and an update keeps it loadable, adding the new field only where a new check is recorded.
    const b = catalogue.lessons[1];
    await store.update((x) => {
      x.lessons[b.id].lastCheck = lastCheckRecord({
        passed: false,
        checks: b.checks.map((c, i) => ({ id: c.id, status: i === 0 ? 'failed' : 'passed', message: i === 0 ? 'still <open>' : 'ok' })),
      });
    });
    const again = await new ProgressStore(path).load();
    expect(again.lessons[b.id].lastCheck!.failed).toEqual([b.checks[0].id]);
    expect(again.lessons[b.id].lastCheck!.checks![0]).toEqual({ id: b.checks[0].id, status: 'failed', message: 'still <open>' });
    expect(again.lessons[catalogue.lessons[0].id].lastCheck!.checks).toBeUndefined();
  });

  it("lastCheckRecord keeps every check's status and message (long messages shortened), and the failed ids", () => {
    const long = 'x'.repeat(2000);
    const r = lastCheckRecord(
      {
        passed: false,
        checks: [
          { id: 'a', status: 'passed', message: 'fine' },
          { id: 'b', status: 'failed', message: long },
          { id: 'c', status: 'error', message: 'boom' },
          { id: 'd', status: 'skipped', message: 'needs kind' },
        ],
      },
      new Date('2025-02-03T04:05:06Z'),
    );
    expect(r.at).toBe('2025-02-03T04:05:06.000Z');
    expect(r.failed).toEqual(['b']);
    expect(r.checks!.map((c) => c.status)).toEqual(['passed', 'failed', 'error', 'skipped']);
    expect(r.checks![1].message.length).toBe(500);
    expect(r.checks![1].message.endsWith('…')).toBe(true);
  });
});

describe('progress export (JSON contract)', () => {
  it('lists every catalogue lesson with done, attempts, hints, solution, time and last check results', () => {
    const progress = oldFormatProgress(catalogue);
    const [a, b, c] = catalogue.lessons;
    progress.lessons[c.id] = {
      status: 'started',
      startedAt: '2025-01-02T09:00:00.000Z',
      attempts: 1,
      hintsUsed: 0,
      solutionViewed: false,
      timeSpentMs: 65_000,
      lastActivity: '2025-01-02T09:01:05.000Z',
      lastCheck: lastCheckRecord({
        passed: false,
        checks: c.checks.map((k, i) => ({ id: k.id, status: i === 0 ? 'failed' : 'passed', message: i === 0 ? 'Service/web is a NodePort' : 'ok' })),
      }),
    };
    const exp = buildExport({
      lessons: catalogue.lessons,
      progress,
      learner: { name: 'Ada', id: 's-1' },
      labVersion: '9.9.9',
      labName: 'default',
      engine: 'local',
      now: new Date('2025-03-01T12:00:00Z'),
    });
    expect(progressExportSchema.parse(exp)).toEqual(exp);
    expect(exp).toMatchObject({
      format: EXPORT_FORMAT,
      version: 1,
      exportedAt: '2025-03-01T12:00:00.000Z',
      labVersion: '9.9.9',
      engine: 'local',
      labName: 'default',
      learner: { name: 'Ada', id: 's-1' },
    });
    expect(exp.lessons.map((l) => l.id)).toEqual(catalogue.lessons.map((l) => l.id));
    const byId = Object.fromEntries(exp.lessons.map((l) => [l.id, l]));
    expect(byId[a.id]).toMatchObject({
      status: 'done',
      done: true,
      attempts: 3,
      hintsUsed: 1,
      solutionViewed: false,
      timeSpentMs: 720_000,
      completedAt: '2025-01-01T10:12:00.000Z',
    });
    // Old record of a passed run: every check of the lesson passed.
    expect(byId[a.id].lastCheck!.checks.map((k) => k.id)).toEqual(a.checks.map((k) => k.id));
    expect(byId[a.id].lastCheck!.checks.every((k) => k.passed)).toBe(true);
    // Old record of a failed run: the failed ids, without messages.
    expect(byId[b.id]).toMatchObject({ status: 'started', done: false, attempts: 2, hintsUsed: 2, solutionViewed: true });
    expect(byId[b.id].lastCheck!.checks).toEqual([{ id: b.checks[0].id, passed: false, status: 'failed' }]);
    // New record: every check with its message.
    expect(byId[c.id].lastCheck!.checks).toHaveLength(c.checks.length);
    expect(byId[c.id].lastCheck!.checks[0]).toEqual({ id: c.checks[0].id, passed: false, status: 'failed', message: 'Service/web is a NodePort' });
    const untouched = exp.lessons.filter((l) => ![a.id, b.id, c.id].includes(l.id));
    expect(untouched.length).toBe(catalogue.lessons.length - 3);
    for (const l of untouched) expect(l).toMatchObject({ status: 'not-started', done: false, attempts: 0, hintsUsed: 0, timeSpentMs: 0, lastCheck: null });
  });

  it("the learner: flags, else the progress file's, else the OS user", () => {
    const p: ProgressData = { version: 1, lessons: {}, learner: { name: 'Saved', id: 'saved-id' } };
    expect(resolveLearner({ name: 'Flag', id: 'f1' }, p)).toEqual({ name: 'Flag', id: 'f1' });
    expect(resolveLearner({ name: 'Flag' }, p)).toEqual({ name: 'Flag', id: 'saved-id' });
    expect(resolveLearner({}, p)).toEqual({ name: 'Saved', id: 'saved-id' });
    expect(resolveLearner({}, { version: 1, lessons: {} })).toEqual({ name: userInfo().username });
  });
});

describe('progress export (JUnit XML)', () => {
  it("one suite per layer, one case per lesson: passed when done, failure with the failed checks' messages, skipped when never started", () => {
    const progress = oldFormatProgress(catalogue);
    const c = catalogue.lessons[2];
    progress.lessons[c.id] = {
      status: 'started',
      startedAt: '2025-01-02T09:00:00.000Z',
      attempts: 1,
      hintsUsed: 0,
      solutionViewed: false,
      timeSpentMs: 65_500,
      lastActivity: '2025-01-02T09:01:05.000Z',
      lastCheck: lastCheckRecord({
        passed: false,
        checks: c.checks.map((k, i) => ({ id: k.id, status: i === 0 ? 'failed' : 'passed', message: i === 0 ? NASTY : 'ok' })),
      }),
    };
    const exp = buildExport({
      lessons: catalogue.lessons,
      progress,
      learner: { name: NASTY, id: 'id"&<>' },
      labVersion: '1.0.0',
      labName: 'default',
      engine: 'local',
      now: new Date('2025-03-01T12:00:00.123Z'),
    });
    const xml = toJunit(exp);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    expect(xml).not.toContain('<script>');
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/); // no characters XML 1.0 forbids
    const doc = checkJunit(xml);
    const suites = doc.testsuites.testsuite;
    const layers = [...new Set(catalogue.lessons.map((l) => l.layer))];
    expect(suites.map((s: any) => s['@package'])).toEqual(layers.map((l) => `kube-seclab.${l}`));
    const cases = new Map<string, any>(suites.flatMap((s: any) => s.testcase.map((tc: any) => [tc['@name'], tc])));
    expect([...cases.keys()]).toEqual(catalogue.lessons.map((l) => l.id));
    const [a, b] = catalogue.lessons;
    expect(cases.get(a.id).failure).toBeUndefined();
    expect(cases.get(a.id).skipped).toBeUndefined();
    expect(cases.get(a.id)['@time']).toBe('720.000');
    expect(cases.get(b.id).failure['#text']).toContain(b.checks[0].id);
    const fc = cases.get(c.id).failure;
    expect(fc['@message']).toBe(`1 of ${c.checks.length} checks failed`);
    // The message survives the round trip, less what XML cannot carry (control characters, ANSI colours, a lone surrogate).
    expect(fc['#text']).toBe(`${c.checks[0].id} (failed): <script>alert("x")</script> & 'Bob' red ]]> `);
    expect(cases.get(c.id)['@time']).toBe('65.500');
    for (const l of catalogue.lessons.slice(3)) expect(cases.get(l.id).skipped['@message']).toBe('not started');
    const props = Object.fromEntries(suites[0].properties.property.map((p: any) => [p['@name'], p['@value']]));
    expect(props['learner']).toBe(`<script>alert("x")</script> & 'Bob' red ]]> `);
    expect(props['learner.id']).toBe('id"&<>');
    expect(doc.testsuites['@tests']).toBe(String(catalogue.lessons.length));
    expect(doc.testsuites['@failures']).toBe('2');
    expect(doc.testsuites['@skipped']).toBe(String(catalogue.lessons.length - 3));
  });

  it('a started lesson never checked fails with "never checked"', () => {
    const l = catalogue.lessons[0];
    const progress: ProgressData = {
      version: 1,
      lessons: {
        [l.id]: {
          status: 'started',
          startedAt: '2025-01-01T00:00:00Z',
          attempts: 0,
          hintsUsed: 0,
          solutionViewed: false,
          timeSpentMs: 0,
          lastActivity: '2025-01-01T00:00:00Z',
        },
      },
    };
    const doc = checkJunit(
      toJunit(buildExport({ lessons: catalogue.lessons, progress, learner: { name: 'x' }, labVersion: '1', labName: 'default', engine: 'local' })),
    );
    const tc = doc.testsuites.testsuite[0].testcase[0];
    expect(tc['@name']).toBe(l.id);
    expect(tc.failure['@message']).toBe('started, never checked');
  });
});

describe('kube-seclab progress export (the subcommand)', () => {
  it('writes JSON and JUnit, remembers --learner/--learner-id in progress, and uses them next time', async () => {
    const data = tmp();
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'progress.json'), JSON.stringify(oldFormatProgress(catalogue)));
    const env = { ...process.env, KUBE_SECLAB_DATA: data, KUBE_SECLAB_NAME: '' };
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const junit = join(data, 'out', 'ada.xml');
    expect(await runCommand('progress', ['export'], { format: 'junit', out: junit, learner: 'Ada <L>', 'learner-id': 's&1' }, env, 'local')).toBe(0);
    checkJunit(readFileSync(junit, 'utf8'));
    expect(readFileSync(junit, 'utf8')).toContain('value="Ada &lt;L&gt;"');
    expect(JSON.parse(readFileSync(join(data, 'progress.json'), 'utf8')).learner).toEqual({ name: 'Ada <L>', id: 's&1' });
    const json = join(data, 'ada.json');
    expect(await runCommand('progress', ['export'], { out: json }, env, 'local')).toBe(0);
    const exp = progressExportSchema.parse(JSON.parse(readFileSync(json, 'utf8')));
    expect(exp.learner).toEqual({ name: 'Ada <L>', id: 's&1' });
    expect(exp.lessons).toHaveLength(catalogue.lessons.length);
    expect(exp.engine).toBe('local');
    expect(exp.labVersion).toBe(JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version);
    await expect(runCommand('progress', ['export'], { format: 'csv' }, env, 'local')).rejects.toThrow(/unknown export format "csv"/);
  });
});
