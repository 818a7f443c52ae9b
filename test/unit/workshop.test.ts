import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWorkshop, loadWorkshop, WorkshopError, aidAllowed, timeBox, timeBoxLabel, elapsedFromProgress } from '../../src/core/workshop.js';
import { formatProblem } from '../../src/core/lessons/loader.js';
import { Lab } from '../../src/core/lab.js';
import { UserError } from '../../src/core/errors.js';
import { packageRoot } from '../../src/core/paths.js';
import { engines } from '../../src/engines/index.js';

const KNOWN = ['rbac-least-privilege', 'pod-security-standards', 'network-policy', 'api-server-exposure'];

function problems(text: string) {
  try {
    parseWorkshop(text, 'ws.yaml', KNOWN);
  } catch (e) {
    expect(e).toBeInstanceOf(WorkshopError);
    return (e as WorkshopError).problems.map(formatProblem);
  }
  throw new Error('expected the workshop to be refused');
}

describe('workshop file: parsing', () => {
  it('reads a good file: title, lessons in order, time boxes, global and per-lesson rules with where they come from', () => {
    const w = parseWorkshop(
      [
        'title: Morning session',
        'hints: true',
        'solutions: false',
        'lessons:',
        '  - id: network-policy',
        '    minutes: 30',
        '    solutions: true',
        '  - rbac-least-privilege',
        '  - id: pod-security-standards',
        '    hints: false',
        '',
      ].join('\n'),
      'ws.yaml',
      KNOWN,
    );
    expect(w.title).toBe('Morning session');
    expect(w.lessons.map((l) => l.id)).toEqual(['network-policy', 'rbac-least-privilege', 'pod-security-standards']);
    expect(w.lessons.map((l) => l.minutes)).toEqual([30, undefined, undefined]);
    expect(w.lessons[0].solutions).toEqual({ allowed: true, where: 'ws.yaml:7', field: 'lessons[0].solutions' });
    expect(w.lessons[1].solutions).toEqual({ allowed: false, where: 'ws.yaml:3', field: 'solutions' });
    expect(w.lessons[2].hints).toEqual({ allowed: false, where: 'ws.yaml:10', field: 'lessons[2].hints' });
    expect(w.lessons[1].hints.allowed).toBe(true);
    expect(aidAllowed(w, 'pod-security-standards', 'hints')).toBe(false);
    expect(aidAllowed(w, 'rbac-least-privilege', 'hints')).toBe(true);
    expect(aidAllowed(undefined, 'anything', 'solutions')).toBe(true);
  });

  it('defaults: hints and solutions allowed', () => {
    const w = parseWorkshop('title: T\nlessons: [rbac-least-privilege]\n', 'ws.yaml', KNOWN);
    expect(w.lessons[0].hints).toEqual({ allowed: true, where: 'ws.yaml', field: 'hints' });
    expect(w.lessons[0].solutions.allowed).toBe(true);
  });

  it('the example in examples/workshop.yaml uses real lesson ids', async () => {
    const lab = await Lab.open({
      engines,
      env: { ...process.env, KUBE_SECLAB_DATA: '/tmp/kube-seclab-unit-nowhere' },
      workshop: join(packageRoot, 'examples', 'workshop.yaml'),
    });
    expect(lab.workshop!.title).toMatch(/Kubernetes security/);
    expect(lab.catalogue.lessons.length).toBe(lab.workshop!.lessons.length);
    expect(lab.catalogue.lessons.length).toBeGreaterThanOrEqual(3);
  });

  it('bad YAML: file:line', () => {
    expect(problems('title: T\nlessons: [rbac-least-privilege\n')).toEqual([expect.stringMatching(/^ws\.yaml:3: invalid YAML: /)]);
    expect(problems('title: T\ntitle: again\nlessons: [rbac-least-privilege]\n')).toEqual([expect.stringMatching(/^ws\.yaml:2: invalid YAML: .*unique/i)]);
    expect(problems('- just\n- a list\n')).toEqual(['ws.yaml:1: must be a YAML mapping (title:, lessons:, …)']);
  });

  it('unknown lesson id: line and field, with a suggestion; twice-listed too', () => {
    expect(problems('title: T\nlessons:\n  - rbac-least-privilege\n  - id: rbac\n    minutes: 5\n  - network-policy\n  - network-policy\n')).toEqual([
      'ws.yaml:4: lessons[1].id: no lesson "rbac" (did you mean rbac-least-privilege?)',
      'ws.yaml:7: lessons[3]: lesson network-policy is listed twice',
    ]);
  });

  it('wrong types: line and field', () => {
    expect(problems('title: T\nhints: "no"\nlessons:\n  - id: network-policy\n    minutes: twenty\n')).toEqual([
      expect.stringMatching(/^ws\.yaml:2: hints: .*expected boolean/),
      expect.stringMatching(/^ws\.yaml:5: lessons\[0\]\.minutes: .*expected number/),
    ]);
    expect(problems('title: T\nlessons:\n  - id: network-policy\n    minutes: -3\n')).toEqual(['ws.yaml:4: lessons[0].minutes: more than 0 minutes']);
    expect(problems('title: T\nlessons: []\n')).toEqual(['ws.yaml:2: lessons: at least one lesson']);
    expect(problems('lessons: [network-policy]\n')).toEqual([expect.stringMatching(/^ws\.yaml:1: title: /)]);
  });

  it('unknown fields: line and field, naming the known ones', () => {
    expect(problems('title: T\ntimebox: 3\nlessons:\n  - id: network-policy\n    minutes: 5\n    colour: red\n')).toEqual([
      'ws.yaml:2: timebox: unknown field (known: title, description, hints, solutions, lessons)',
      'ws.yaml:6: lessons[0].colour: unknown field (known: id, minutes, hints, solutions)',
    ]);
  });

  it('the error is one line with file:line: field, and the next step; more problems are counted', () => {
    try {
      parseWorkshop('title: T\nlessons:\n  - nope\n  - id: network-policy\n    minutes: x\n', 'ws.yaml', KNOWN);
      expect.unreachable();
    } catch (e) {
      const err = e as UserError;
      expect(err.message).toBe('workshop file ws.yaml:3: lessons[0]: no lesson "nope"');
      expect(err.message).not.toContain('\n');
      expect(err.hint).toMatch(/fix the workshop file \(1 more problem after this one\)/);
    }
  });

  it('a missing file is a UserError naming it', async () => {
    await expect(loadWorkshop('/nonexistent/ws.yaml', KNOWN)).rejects.toThrow(/workshop file \/nonexistent\/ws\.yaml: not found/);
  });
});

describe('workshop: time box', () => {
  it('counts from progress, soft: over time is shown, never blocks', () => {
    const now = Date.parse('2030-01-01T10:00:00Z');
    const p = { status: 'started', timeSpentMs: 10 * 60_000, lastActivity: new Date(now - 2 * 60_000).toISOString() };
    expect(elapsedFromProgress(p, now)).toBe(12 * 60_000);
    // A long break counts five minutes at most, as the progress store counts it.
    expect(elapsedFromProgress({ ...p, lastActivity: new Date(now - 3_600_000).toISOString() }, now)).toBe(15 * 60_000);
    expect(elapsedFromProgress(undefined, now)).toBe(0);
    expect(timeBoxLabel(timeBox(15, 12 * 60_000))).toBe('3 min left of 15');
    const over = timeBox(15, 18.5 * 60_000);
    expect(over.over).toBe(true);
    expect(timeBoxLabel(over)).toBe('over time by 3 min (time box 15 min)');
  });
});

describe('workshop: the Lab limited to it', () => {
  let dir: string;
  let lab: Lab;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-seclab-ws-'));
    const file = join(dir, 'ws.yaml');
    await writeFile(
      file,
      'title: Tuesday lab\nsolutions: false\nlessons:\n  - id: pod-security-standards\n    minutes: 20\n  - id: rbac-least-privilege\n    hints: false\n',
    );
    lab = await Lab.open({ engines, env: { ...process.env, KUBE_SECLAB_DATA: join(dir, 'data'), KUBE_SECLAB_WORKSHOP: file } });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists only its lessons, in its order', async () => {
    expect((await lab.list()).map((l) => l.id)).toEqual(['pod-security-standards', 'rbac-least-privilege']);
    expect(lab.catalogue.next('pod-security-standards')?.id).toBe('rbac-least-privilege');
    expect(lab.allLessons.lessons.length).toBeGreaterThan(2);
  });

  it('a lesson outside it is a clear UserError', async () => {
    await expect(lab.start('network-policy')).rejects.toThrow(/lesson network-policy is not part of the workshop "Tuesday lab"/);
    await expect(lab.check('network-policy')).rejects.toThrow(UserError);
    await expect(lab.hint('network-policy')).rejects.toThrow(/not part of the workshop/);
  });

  it('refuses hints and solutions where its rules say so, naming the rule', async () => {
    await expect(lab.hint('rbac-least-privilege')).rejects.toThrow(
      /^hints are off for rbac-least-privilege in workshop "Tuesday lab" \(.*ws\.yaml:7: lessons\[1\]\.hints: false\)$/,
    );
    await expect(lab.solution('pod-security-standards')).rejects.toThrow(
      /^solutions are off for pod-security-standards in workshop "Tuesday lab" \(.*ws\.yaml:2: solutions: false\)$/,
    );
    const h = await lab.hint('pod-security-standards');
    expect(h.index).toBe(0);
  });

  it('no workshop when the option says null', async () => {
    const all = await Lab.open({
      engines,
      env: { ...process.env, KUBE_SECLAB_DATA: join(dir, 'data'), KUBE_SECLAB_WORKSHOP: join(dir, 'ws.yaml') },
      workshop: null,
    });
    expect(all.workshop).toBeUndefined();
    expect(all.catalogue.lessons.length).toBe(all.allLessons.lessons.length);
  });
});
