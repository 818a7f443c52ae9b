/**
 * Fuzz-style: many malformed progress and workshop files. Each is refused or set aside in one line —
 * never an unexpected error or a stack trace — and nothing the learner had is lost.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProgressStore } from '../../src/core/progress/store.js';
import { parseWorkshop, WorkshopError } from '../../src/core/workshop.js';
import { formatProblem } from '../../src/core/lessons/loader.js';
import { UserError } from '../../src/core/errors.js';

const good = {
  version: 1,
  learner: { name: 'Ada' },
  current: 'rbac-least-privilege',
  lessons: {
    'rbac-least-privilege': {
      status: 'started',
      startedAt: '2026-12-01T10:00:00.000Z',
      attempts: 2,
      hintsUsed: 1,
      solutionViewed: false,
      timeSpentMs: 1000,
      lastActivity: '2026-12-01T10:05:00.000Z',
    },
  },
};
const lesson = (patch: Record<string, unknown>) => JSON.stringify({ ...good, lessons: { x: { ...good.lessons['rbac-least-privilege'], ...patch } } });

/** Progress files that parse as JSON (or not) but are not a progress file: 50+ of them. */
const MALFORMED_PROGRESS: [string, string][] = [
  ['empty', ''],
  ['whitespace', '   \n'],
  ['truncated', JSON.stringify(good).slice(0, 40)],
  ['not JSON', 'hello'],
  ['null', 'null'],
  ['a number', '42'],
  ['a string', '"progress"'],
  ['an array', '[]'],
  ['true', 'true'],
  ['BOM + garbage', '\uFEFF{{'],
  ['no version', JSON.stringify({ lessons: {} })],
  ['version 2', JSON.stringify({ ...good, version: 2 })],
  ['version "1"', JSON.stringify({ ...good, version: '1' })],
  ['version null', JSON.stringify({ ...good, version: null })],
  ['no lessons', JSON.stringify({ version: 1 })],
  ['lessons null', JSON.stringify({ version: 1, lessons: null })],
  ['lessons an array', JSON.stringify({ version: 1, lessons: [] })],
  ['lessons a string', JSON.stringify({ version: 1, lessons: 'x' })],
  ['current a number', JSON.stringify({ ...good, current: 7 })],
  ['learner a string', JSON.stringify({ ...good, learner: 'Ada' })],
  ['learner name a number', JSON.stringify({ ...good, learner: { name: 5 } })],
  ['lesson null', JSON.stringify({ version: 1, lessons: { x: null } })],
  ['lesson a number', JSON.stringify({ version: 1, lessons: { x: 3 } })],
  ['status 42', lesson({ status: 42 })],
  ['status unknown', lesson({ status: 'finished' })],
  ['status missing', lesson({ status: undefined })],
  ['attempts "many"', lesson({ attempts: 'many' })],
  ['attempts -1', lesson({ attempts: -1 })],
  ['attempts 1.5', lesson({ attempts: 1.5 })],
  ['attempts null', lesson({ attempts: null })],
  ['hintsUsed a string', lesson({ hintsUsed: '2' })],
  ['solutionViewed "no"', lesson({ solutionViewed: 'no' })],
  ['solutionViewed missing', lesson({ solutionViewed: undefined })],
  ['timeSpentMs a string', lesson({ timeSpentMs: '1s' })],
  ['timeSpentMs negative', lesson({ timeSpentMs: -5 })],
  ['startedAt not a date', lesson({ startedAt: 'yesterday' })],
  ['startedAt a number', lesson({ startedAt: 17 })],
  ['lastActivity missing', lesson({ lastActivity: undefined })],
  ['completedAt garbage', lesson({ completedAt: 'soon' })],
  ['clusterId a number', lesson({ clusterId: 12 })],
  ['lastCheck a string', lesson({ lastCheck: 'passed' })],
  ['lastCheck.passed "yes"', lesson({ lastCheck: { at: '2026-12-01T10:00:00Z', passed: 'yes', failed: [] } })],
  ['lastCheck.failed a string', lesson({ lastCheck: { at: '2026-12-01T10:00:00Z', passed: false, failed: 'a,b' } })],
  ['lastCheck.at missing', lesson({ lastCheck: { passed: false, failed: [] } })],
  ['lastCheck.checks a map', lesson({ lastCheck: { at: '2026-12-01T10:00:00Z', passed: false, failed: [], checks: { a: 1 } } })],
  ['check status bogus', lesson({ lastCheck: { at: '2026-12-01T10:00:00Z', passed: false, failed: [], checks: [{ id: 'a', status: 'maybe', message: '' }] } })],
  ['check id a number', lesson({ lastCheck: { at: '2026-12-01T10:00:00Z', passed: false, failed: [], checks: [{ id: 1, status: 'failed', message: '' }] } })],
  ['attack a string', lesson({ attack: 'worked' })],
  ['attack.succeeded.at bad', lesson({ attack: { succeeded: { at: 'x', summary: 's' } } })],
  ['attack.failed.summary a number', lesson({ attack: { failed: { at: '2026-12-01T10:00:00Z', summary: 3 } } })],
  ['deeply nested junk', JSON.stringify({ version: 1, lessons: { x: { status: { a: { b: { c: [] } } } } } })],
  ['NaN-ish', '{"version": 1, "lessons": {"x": {"attempts": NaN}}}'],
  ['duplicate keys wrong last', '{"version": 1, "version": "one", "lessons": {}}'],
  ['binary', '\u0000\u0001\u0002'],
];

describe('a malformed progress file is kept aside with one warning line, and a fresh one started', () => {
  it(`${MALFORMED_PROGRESS.length} malformed files`, async () => {
    expect(MALFORMED_PROGRESS.length).toBeGreaterThanOrEqual(50);
    for (const [name, text] of MALFORMED_PROGRESS) {
      const dir = mkdtempSync(join(tmpdir(), 'progress-fuzz-'));
      const path = join(dir, 'progress.json');
      writeFileSync(path, text);
      const store = new ProgressStore(path);
      const d = await store.load();
      expect(d, name).toEqual({ version: 1, lessons: {} });
      expect(store.warnings, name).toHaveLength(1);
      expect(store.warnings[0], name).toMatch(/^progress file was unreadable \([^\n]+\); kept it as .*progress\.json\.corrupt-[^\n]+ and started fresh$/);
      const aside = readdirSync(dir).filter((f) => f.startsWith('progress.json.corrupt-'));
      expect(aside, name).toHaveLength(1);
      expect(readFileSync(join(dir, aside[0]), 'utf8'), `${name}: the learner's file is kept byte for byte`).toBe(text);
      // And the next update works on the fresh file.
      await store.update((x) => {
        x.current = 'y';
      });
      expect(JSON.parse(readFileSync(path, 'utf8')).current).toBe('y');
    }
  });

  it('a good file with fields of a newer lab loads as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'progress-fuzz-'));
    const path = join(dir, 'progress.json');
    writeFileSync(path, JSON.stringify({ ...good, futureField: { a: 1 } }));
    const store = new ProgressStore(path);
    expect((await store.load()).current).toBe('rbac-least-privilege');
    expect(store.warnings).toEqual([]);
  });

  it('a directory in its place is moved aside, not crashed on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'progress-fuzz-'));
    const path = join(dir, 'progress.json');
    mkdirSync(path);
    writeFileSync(join(path, 'keep-me'), 'x');
    const store = new ProgressStore(path);
    expect(await store.load()).toEqual({ version: 1, lessons: {} });
    expect(store.warnings[0]).toMatch(/\(it is a directory\); kept it as /);
    const aside = readdirSync(dir).find((f) => f.startsWith('progress.json.corrupt-'))!;
    expect(existsSync(join(dir, aside, 'keep-me'))).toBe(true);
  });

  it('a file that can be neither read nor moved aside is never overwritten: updates are refused in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'progress-fuzz-'));
    const path = join(dir, 'progress.json');
    writeFileSync(path, '{"version": 1, "lessons": {"x": {"status": 42}}}');
    // The move fails as it would on a read-only folder (the test runs as root, where permissions do not stop it).
    class Stuck extends ProgressStore {
      protected override moveAside(): Promise<void> {
        return Promise.reject(Object.assign(new Error('denied'), { code: 'EACCES' }));
      }
    }
    const store = new Stuck(path);
    expect(await store.load()).toEqual({ version: 1, lessons: {} });
    expect(store.warnings[0]).toMatch(/could not move it aside, so progress is not saved until it is fixed/);
    const e = await store.update(() => {}).catch((x) => x);
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(/progress\.json is unreadable .* and could not be moved aside \(EACCES\)/);
    expect(readFileSync(path, 'utf8')).toBe('{"version": 1, "lessons": {"x": {"status": 42}}}');
  });
});

const KNOWN = ['rbac-least-privilege', 'network-policy'];
/** Workshop files that are not a workshop: 50+ of them. */
const MALFORMED_WORKSHOPS: string[] = [
  '',
  'null',
  '42',
  '"a workshop"',
  '[]',
  '- a\n- b',
  'title: x',
  'lessons: []',
  'title: x\nlessons: []',
  'title: x\nlessons: rbac-least-privilege',
  'title: x\nlessons: {rbac-least-privilege: 1}',
  'title: 5\nlessons: [rbac-least-privilege]',
  'title: ""\nlessons: [rbac-least-privilege]',
  'title: x\nlessons: [nope]',
  'title: x\nlessons: [rbac-least-privilege, rbac-least-privilege]',
  'title: x\nlessons: [{id: nope}]',
  'title: x\nlessons: [{minutes: 5}]',
  'title: x\nlessons: [{id: rbac-least-privilege, minutes: -1}]',
  'title: x\nlessons: [{id: rbac-least-privilege, minutes: 0}]',
  'title: x\nlessons: [{id: rbac-least-privilege, minutes: "ten"}]',
  'title: x\nlessons: [{id: rbac-least-privilege, minutes: 1.5}]',
  'title: x\nlessons: [{id: rbac-least-privilege, hints: "no"}]',
  'title: x\nlessons: [{id: rbac-least-privilege, solutions: 0}]',
  'title: x\nlessons: [{id: rbac-least-privilege, colour: red}]',
  'title: x\nhints: maybe\nlessons: [rbac-least-privilege]',
  'title: x\nsolutions: [true]\nlessons: [rbac-least-privilege]',
  'title: x\nextra: 1\nlessons: [rbac-least-privilege]',
  'title: x\nlessons: [42]',
  'title: x\nlessons: [null]',
  'title: x\nlessons: [[rbac-least-privilege]]',
  'title: x\nlessons:\n  - id: rbac-least-privilege\n    id: network-policy',
  'title: [x\nlessons: [rbac-least-privilege]',
  'title: x\nlessons: [rbac-least-privilege',
  '{title: x, lessons: [rbac-least-privilege]',
  'title: x\n\tlessons: [a]',
  ': :',
  'title: x\nlessons: &a [*a]',
  '%YAML 9.9\n---\ntitle: x',
  '--- a\n--- b',
  'title: x\nlessons:\n  - id: rbac-least-privilege\n    minutes: 1e400',
  'title: !!binary aGVsbG8=\nlessons: [rbac-least-privilege]',
  'title: x\nlessons: [RBAC-LEAST-PRIVILEGE]',
  'title: x\nlessons: [" rbac-least-privilege"]',
  'title: x\nlessons: [{id: rbac-least-privilege, hints: null}]',
  'title: x\nlessons: [{id: 7}]',
  'title: x\nlessons: [{id: [rbac-least-privilege]}]',
  'title:\n  nested: x\nlessons: [rbac-least-privilege]',
  'title: x\nlessons: [rbac-least-privilege]\nlessons: [network-policy]',
  '\u0000',
  'title: x\r\nlessons: [nope]\r\n',
  'title: x\nlessons: [{id: rbac-least-privilege, minutes: 100000000000000000000}]',
];

describe('a malformed workshop file is refused as file:line: field: message', () => {
  it(`${MALFORMED_WORKSHOPS.length} malformed files`, () => {
    expect(MALFORMED_WORKSHOPS.length).toBeGreaterThanOrEqual(50);
    for (const text of MALFORMED_WORKSHOPS) {
      let error: unknown;
      try {
        parseWorkshop(text, 'ws.yaml', KNOWN);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(text)).toBeInstanceOf(WorkshopError);
      const lines = (error as WorkshopError).problems.map(formatProblem);
      expect(lines.length, JSON.stringify(text)).toBeGreaterThan(0);
      for (const l of lines) expect(l, JSON.stringify(text)).toMatch(/^ws\.yaml(:\d+)?: [^\n]+$/);
    }
  });
});
