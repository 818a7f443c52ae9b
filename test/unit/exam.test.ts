import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ExamRunner,
  examResult,
  fileExamStore,
  formatClock,
  hashSeed,
  memoryExamStore,
  parseExamOptions,
  pickExamLessons,
  seededRandom,
  type ExamPort,
  type ExamState,
  type ExamStore,
} from '../../src/core/exam.js';
import { Lab } from '../../src/core/lab.js';
import { UserError } from '../../src/core/errors.js';
import type { LessonResult } from '../../src/core/checks/runner.js';
import { engines } from '../../src/engines/index.js';

const IDS = [
  'api-server-exposure',
  'nodeport-exposure',
  'cloud-credentials',
  'encryption-at-rest',
  'etcd-tls',
  'rbac-least-privilege',
  'pod-security-standards',
  'over-broad-groups',
];

describe('exam: seeded selection', () => {
  it('the same seed gives the same lessons, in the same order', () => {
    const a = pickExamLessons(IDS, 3, 'class-42');
    expect(pickExamLessons(IDS, 3, 'class-42')).toEqual(a);
    expect(a).toHaveLength(3);
    expect(new Set(a).size).toBe(3);
    for (const id of a) expect(IDS).toContain(id);
    // Pinned: a seed keeps its exam across releases (and machines).
    expect(pickExamLessons(IDS, 3, '1')).toEqual(['nodeport-exposure', 'over-broad-groups', 'rbac-least-privilege']);
    expect(hashSeed('1')).toBe(873244444);
  });

  it('different seeds give different exams (most of the time), and every lesson can come up', () => {
    const exams = new Set(Array.from({ length: 40 }, (_, i) => pickExamLessons(IDS, 3, String(i)).join(',')));
    expect(exams.size).toBeGreaterThan(30);
    const seen = new Set(Array.from({ length: 40 }, (_, i) => pickExamLessons(IDS, 3, String(i))).flat());
    expect(seen.size).toBe(IDS.length);
  });

  it('the PRNG is deterministic and in [0, 1)', () => {
    const r1 = seededRandom('x'),
      r2 = seededRandom('x');
    for (let i = 0; i < 100; i++) {
      const v = r1();
      expect(v).toBe(r2());
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
  });

  it('more lessons than available: a clear error with the next step', () => {
    try {
      pickExamLessons(IDS.slice(0, 2), 5, 's');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).message).toBe('an exam of 5 lessons needs 5 lessons this engine can run; there are 2');
      expect((e as UserError).hint).toBe('use --count 2 or fewer');
    }
    expect(() => pickExamLessons(IDS, 0, 's')).toThrow(/--count must be a whole number/);
    expect(() => pickExamLessons([], 1, 's')).toThrow(/no lesson this engine can run/);
  });

  it('parses --count / --minutes / --seed, refusing nonsense in one line', () => {
    expect(parseExamOptions({ count: '2', minutes: '30', seed: 'abc' })).toEqual({ count: 2, minutes: 30, seed: 'abc' });
    expect(() => parseExamOptions({ count: 'two' })).toThrow(/--count must be a positive whole number \(got "two"\)/);
    expect(() => parseExamOptions({ count: '1.5' })).toThrow(/--count/);
    expect(() => parseExamOptions({ minutes: '0' })).toThrow(/--minutes must be a positive number/);
  });

  it('formats the clock', () => {
    expect(formatClock(754_000)).toBe('12:34');
    expect(formatClock(59_001)).toBe('1:00');
    expect(formatClock(3_725_000)).toBe('1:02:05');
    expect(formatClock(-5)).toBe('0:00');
  });
});

/** A lab without a cluster: scripted check results, calls recorded. */
class FakePort implements ExamPort {
  calls: string[] = [];
  passing = new Set<string>();
  unreachable = false;
  engineName = 'local';
  workshop?: { title: string };
  catalogue = { get: (id: string) => (IDS.includes(id) ? { id, title: `Title of ${id}`, minutes: 10 } : undefined) };
  async list() {
    return [...IDS.map((id) => ({ id, status: 'todo' })), { id: 'kubelet-hardening', status: 'unavailable' }];
  }
  async start(id: string) {
    this.calls.push(`start ${id}`);
  }
  async reset(id: string) {
    this.calls.push(`reset ${id}`);
  }
  async check(id: string, opts: { record?: boolean }): Promise<LessonResult> {
    this.calls.push(`check ${id} record=${opts.record}`);
    const passed = this.passing.has(id);
    const status = this.unreachable ? 'unreachable' : passed ? 'passed' : 'failed';
    return {
      lesson: id,
      passed: passed && !this.unreachable,
      unreachable: this.unreachable,
      durationMs: 1,
      checks: [
        {
          id: 'c1',
          title: 'first',
          objective: 'o',
          type: 'fake',
          requires: 'api',
          passed: status === 'passed',
          status,
          message: passed ? 'ok' : 'still open',
          durationMs: 1,
        },
      ],
    };
  }
}

describe('exam: the state machine', () => {
  let port: FakePort;
  let store: ExamStore & { results: Map<string, unknown> };
  let clock: number;
  const runner = () => new ExamRunner(port, store, { now: () => clock, randomSeed: () => '99' });
  beforeEach(() => {
    port = new FakePort();
    store = memoryExamStore();
    clock = Date.parse('2030-01-01T09:00:00Z');
  });

  it("plans only lessons the engine can run; minutes default to the lessons' own", async () => {
    const p = await runner().plan({ count: 3, seed: 's' });
    expect(p.lessons.map((l) => l.id)).toEqual(pickExamLessons(IDS, 3, 's'));
    expect(p.minutes).toBe(30);
    expect(p.seed).toBe('s');
    expect((await runner().plan({})).seed).toBe('99');
    await expect(runner().plan({ count: 9 })).rejects.toThrow('an exam of 9 lessons needs 9 lessons this engine can run; there are 8');
  });

  it('begin → next → submit: sets each lesson up, checks only at hand-in, scores passed/N, writes the result, resets at the end', async () => {
    const r = runner();
    const s = await r.begin({ count: 3, minutes: 30, seed: 'abc' });
    const [a, b, c] = s.lessons.map((l) => l.id);
    expect(s.phase).toBe('running');
    expect(port.calls).toEqual([`start ${a}`]);
    expect(r.remaining(s)).toBe(30 * 60_000);
    await expect(r.begin({ count: 1 })).rejects.toThrow(/an exam is already running \(lesson 1\/3, 30:00 left\)/);

    port.passing.add(a);
    clock += 5 * 60_000;
    const s2 = await r.next();
    expect(s2.index).toBe(1);
    expect(s2.phase).toBe('running');
    expect(port.calls).toEqual([`start ${a}`, `check ${a} record=false`, `start ${b}`]);

    clock += 5 * 60_000;
    const done = await r.submit();
    expect(done.phase).toBe('finished');
    expect(port.calls.slice(3)).toEqual([`check ${b} record=false`, `reset ${b}`]);
    const res = examResult(done);
    expect(res.score).toEqual({ passed: 1, total: 3, percent: 33 });
    expect(res.endedBy).toBe('submit');
    expect(res.lessons.map((l) => [l.id, l.status])).toEqual([
      [a, 'passed'],
      [b, 'failed'],
      [c, 'not-reached'],
    ]);
    expect(res.lessons[1].checks).toEqual([{ id: 'c1', title: 'first', passed: false, status: 'failed', message: 'still open' }]);
    expect(done.resultFile).toBe(`/memory/exams/${done.id}.json`);
    expect(store.results.get(done.resultFile!)).toEqual(res);

    await expect(r.submit()).rejects.toThrow(/no exam is running \(the last one is handed in\)/);
    await expect(r.next()).rejects.toThrow(UserError);
  });

  it('next on the last lesson says to submit', async () => {
    const r = runner();
    await r.begin({ count: 1, seed: 'x' });
    await expect(r.next()).rejects.toThrow(/this is the exam's last lesson \(1\/1\)/);
  });

  it('a timed-out exam is graded on the next command: the current lesson as it stands, the rest not reached', async () => {
    const s = await runner().begin({ count: 2, minutes: 10, seed: 't' });
    const [a, b] = s.lessons.map((l) => l.id);
    port.passing.add(a);
    clock += 9 * 60_000;
    expect((await runner().settle())!.phase).toBe('running');
    expect(port.calls).toEqual([`start ${a}`]);
    clock += 2 * 60_000;
    const r = runner();
    const graded = await r.settle();
    expect(r.justFinished).toBe(true);
    expect(graded!.phase).toBe('finished');
    expect(port.calls).toEqual([`start ${a}`, `check ${a} record=false`, `reset ${a}`]);
    const res = examResult(graded!);
    expect(res.endedBy).toBe('timeout');
    expect(res.score).toEqual({ passed: 1, total: 2, percent: 50 });
    expect(res.lessons.map((l) => l.status)).toEqual(['passed', 'not-reached']);
    expect(res.lessons[1].id).toBe(b);
    // The command that noticed still answers with the result; the one after finds nothing running.
    const again = runner();
    expect((await again.settle())!.phase).toBe('finished');
    expect(again.justFinished).toBe(false);
  });

  it('next after the time ran out grades instead of moving on', async () => {
    const s = await runner().begin({ count: 2, minutes: 10, seed: 't' });
    clock += 11 * 60_000;
    const r = runner();
    const after = await r.next();
    expect(after.phase).toBe('finished');
    expect(examResult(after).endedBy).toBe('timeout');
    expect(port.calls).not.toContain(`start ${s.lessons[1].id}`);
  });

  it('the clock does not run while a later lesson is set up', async () => {
    const slow = new FakePort();
    slow.start = async (id: string) => {
      slow.calls.push(`start ${id}`);
      clock += 30_000;
    };
    port = slow;
    const r = runner();
    const s = await r.begin({ count: 2, minutes: 10, seed: 'p' });
    const deadline = Date.parse(s.deadline!);
    expect(deadline).toBe(clock + 10 * 60_000);
    const s2 = await r.next();
    expect(Date.parse(s2.deadline!)).toBe(deadline + 30_000);
  });

  it('a crash mid-grading loses nothing: the next command finishes the hand-in', async () => {
    const s = await runner().begin({ count: 2, seed: 'c' });
    const [a, b] = s.lessons.map((l) => l.id);
    // Killed after the state said "grading, then next" and before the checks ran.
    const saved = (await store.load())!;
    await store.save({ ...saved, phase: 'grading', ending: 'next' });
    const resumed = await runner().settle();
    expect(resumed!.phase).toBe('running');
    expect(resumed!.index).toBe(1);
    expect(port.calls).toEqual([`start ${a}`, `check ${a} record=false`, `start ${b}`]);
    // Killed after the result was written but before the reset: finishing again is harmless.
    await store.save({ ...(await store.load())!, phase: 'finishing', outcomes: [], finishedAt: new Date(clock).toISOString() });
    const fin = await runner().settle();
    expect(fin!.phase).toBe('finished');
    expect(port.calls.at(-1)).toBe(`reset ${b}`);
  });

  it('an unreachable cluster at hand-in keeps the exam as it was, with the next step', async () => {
    const r = runner();
    await r.begin({ count: 1, seed: 'u' });
    port.unreachable = true;
    await expect(r.submit()).rejects.toThrow(/the cluster is unreachable, so .* cannot be graded yet/);
    expect((await store.load())!.phase).toBe('grading');
    port.unreachable = false;
    const done = await runner().settle();
    expect(done!.phase).toBe('finished');
    expect(examResult(done!).score.total).toBe(1);
  });
});

describe('exam: files and the Lab during an exam', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-seclab-exam-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its state in exam.json and writes results to exams/<timestamp>.json', async () => {
    const store = fileExamStore(dir);
    const port = new FakePort();
    const r = new ExamRunner(port, store, { now: () => Date.parse('2030-01-01T09:00:00Z') });
    const s = await r.begin({ count: 1, seed: 'f' });
    expect(JSON.parse(await readFile(join(dir, 'exam.json'), 'utf8')).phase).toBe('running');
    const done = await new ExamRunner(port, fileExamStore(dir), { now: () => Date.parse('2030-01-01T09:01:00Z') }).submit();
    expect(done.resultFile).toBe(join(dir, 'exams', '2030-01-01T09-00-00-000Z.json'));
    const file = JSON.parse(await readFile(done.resultFile!, 'utf8'));
    expect(Object.keys(file)).toEqual([
      'version',
      'id',
      'seed',
      'engine',
      'workshop',
      'minutes',
      'startedAt',
      'deadline',
      'finishedAt',
      'endedBy',
      'score',
      'lessons',
    ]);
    expect(file.lessons[0]).toMatchObject({ id: s.lessons[0].id, status: 'failed', checks: [{ id: 'c1', passed: false }] });
  });

  it('a corrupt state file is set aside with a clear error', async () => {
    await writeFile(join(dir, 'exam.json'), '{ nope');
    await expect(fileExamStore(dir).load()).rejects.toThrow(/the exam state file was unreadable; kept it as .*exam\.json\.corrupt-/);
    expect(await fileExamStore(dir).load()).toBeUndefined();
  });

  it('while an exam runs the Lab refuses hints, solutions, checks and other lessons', async () => {
    const lab = await Lab.open({ engines, env: { ...process.env, KUBE_SECLAB_DATA: dir }, workshop: null });
    const state: ExamState = {
      version: 1,
      id: 'x',
      seed: '1',
      minutes: 10,
      lessons: [{ id: 'rbac-least-privilege', title: 'RBAC' }],
      engine: 'local',
      createdAt: new Date().toISOString(),
      startedAt: new Date().toISOString(),
      deadline: new Date(Date.now() + 600_000).toISOString(),
      index: 0,
      phase: 'running',
      outcomes: [],
    };
    await fileExamStore(dir).save(state);
    expect((await lab.activeExam())?.id).toBe('x');
    await expect(lab.hint('rbac-least-privilege')).rejects.toThrow(/^no hints during the exam \(lesson 1\/1, (10:00|9:59) left\)$/);
    await expect(lab.solution('rbac-least-privilege')).rejects.toThrow(/^no solutions during the exam/);
    await expect(lab.check('rbac-least-privilege')).rejects.toThrow(/^no checks during the exam/);
    await expect(lab.start('network-policy')).rejects.toThrow(
      /^an exam is running \(lesson 1\/1: rbac-least-privilege, .* left\); other lessons wait until it ends$/,
    );
    // Once it is handed in, hints are back.
    await fileExamStore(dir).save({ ...state, phase: 'finished' });
    expect((await lab.hint('rbac-least-privilege')).index).toBe(0);
  });
});
