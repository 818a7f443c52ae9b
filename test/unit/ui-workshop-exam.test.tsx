import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { App, createAppStore } from '../../src/ui/app.js';
import { createTheme } from '../../src/ui/theme.js';
import type { Store } from '../../src/ui/store.js';
import type { Workshop } from '../../src/core/workshop-rules.js';
import type { ExamOptions } from '../../src/core/exam.js';
import { renderTui, type Tui } from './ui-helpers.js';
import { FakeLab, LESSONS, checkResult } from './ui-fake-lab.js';

let open: Tui[] = [];
afterEach(() => {
  for (const t of open) t.unmount();
  open = [];
});

const WORKSHOP: Workshop = {
  file: 'class.yaml',
  title: 'Tuesday class: RBAC and admission',
  lessons: [
    {
      id: 'pod-security-standards',
      minutes: 20,
      hints: { allowed: true, where: 'class.yaml', field: 'hints' },
      solutions: { allowed: false, where: 'class.yaml:3', field: 'solutions' },
    },
    {
      id: 'rbac-least-privilege',
      minutes: 15,
      hints: { allowed: false, where: 'class.yaml:8', field: 'lessons[1].hints' },
      solutions: { allowed: false, where: 'class.yaml:3', field: 'solutions' },
    },
  ],
};

async function mount(lab: FakeLab, opts: { exam?: ExamOptions; columns?: number; rows?: number } = {}): Promise<{ t: Tui; store: Store }> {
  const store = createAppStore({ lab, statusIntervalMs: 0, clockIntervalMs: 10, now: () => lab.clock, exam: opts.exam });
  const t = await renderTui(<App store={store} theme={createTheme({ NO_COLOR: '1' })} />, { columns: opts.columns ?? 100, rows: opts.rows ?? 30 });
  open.push(t);
  return { t, store };
}

describe('TUI under a workshop', () => {
  it('Home shows the workshop title and only its lessons, numbered in its order', async () => {
    const { t } = await mount(new FakeLab({ workshop: WORKSHOP }));
    const f = await t.waitFor('Tuesday class: RBAC and admission');
    expect(f).toContain('class.yaml');
    expect(f).toMatch(/Workshop\s+░+\s+0\/2/);
    const pss = f.indexOf('Stop the payments namespace'),
      rbac = f.indexOf('Take cluster-admin away');
    expect(pss).toBeGreaterThan(0);
    expect(rbac).toBeGreaterThan(pss);
    expect(f).toMatch(/1\.\s+Stop the payments namespace.*20 min · no solutions/);
    expect(f).toMatch(/2\.\s+Take cluster-admin away.*15 min · no hints · no solutions/);
    expect(f).not.toContain('Encrypt the Secrets');
    expect(f).not.toContain('Harden the kubelet');
    expect(f).not.toContain('Cloud & infrastructure');
  });

  it('hides the hint and solution keys it does not allow, refuses them naming the rule, and shows the time box', async () => {
    const lab = new FakeLab({ workshop: WORKSHOP });
    const { t } = await mount(lab);
    await t.waitFor(/▸ ○ 1\.\s+Stop the payments/);
    await t.press('j', 'enter');
    let f = await t.waitFor('is not fixed yet', { timeoutMs: 8000 });
    expect(f).toMatch(/c check\s+w watch on\s+x reset\s+n next\s+l list/);
    expect(f).not.toContain('h hint');
    expect(f).not.toContain('s solution');
    expect(f).toMatch(/⏱ 15 min left of 15/);
    await t.press('h');
    f = await t.waitFor('No hint');
    expect(f).toContain('hints are off for rbac-least-privilege in workshop "Tuesday class: RBAC and admission"');
    expect(f).toContain('(class.yaml:8: lessons[1].hints: false)');
    await t.press('esc');
    await t.waitForGone('No hint');
    await t.press('s');
    f = await t.waitFor('No solution');
    expect(f).toContain('(class.yaml:3: solutions: false)');
    expect(f).not.toContain('Show the reference solution?');
    expect(lab.called('hint')).toHaveLength(0);
    expect(lab.called('solution')).toHaveLength(0);
  });

  it('the time box runs on the clock and turns to "over time" — shown, never blocking', async () => {
    const lab = new FakeLab({
      workshop: WORKSHOP,
      progress: {
        lessons: {
          'pod-security-standards': {
            status: 'started',
            startedAt: 'x',
            attempts: 1,
            hintsUsed: 0,
            solutionViewed: false,
            timeSpentMs: 19 * 60_000,
            lastActivity: 'x',
          },
        },
      },
    });
    const { t } = await mount(lab);
    await t.waitFor(/▸ ○ 1\.\s+Stop the payments/);
    await t.press('enter');
    await t.waitFor('⏱ 1 min left of 20', { timeoutMs: 8000 });
    lab.clock += 3 * 60_000;
    const f = await t.waitFor('⏱ over time by 2 min (time box 20 min)');
    expect(f).toContain('h hint');
    await t.press('h');
    await t.waitFor('Hint 1/2');
  });
});

describe('TUI exam mode', () => {
  it('intro → the clock starts on enter; timer visible, no hints/solutions/checks; hand in, next; time-out grades', async () => {
    const lab = new FakeLab();
    const { t } = await mount(lab, { exam: { count: 2, minutes: 10, seed: 'abc' } });
    let f = await t.waitFor('Press enter to start the clock');
    expect(f).toContain('2 lessons, 10 minutes in all (seed abc');
    expect(f).not.toContain('Harden the kubelet'); // a lesson this engine cannot run is never drawn
    expect(lab.called('start')).toHaveLength(0);
    await t.press('enter');
    f = await t.waitFor('Exam · lesson 1/2', { timeoutMs: 8000 });
    expect(f).toMatch(/⏱ 10:00 left/);
    expect(f).toContain('checked when you hand the lesson in');
    expect(f).toMatch(/n hand in & next\s+f finish\s+x reset\s+\? help\s+q quit/);
    expect(f).not.toContain('h hint');
    const state = (await lab.examStore.load())!;
    const [first, second] = state.lessons.map((l) => l.id);
    expect(lab.called('start').map((c) => c.args[0])).toEqual([first]);

    lab.clock += 61_000;
    await t.waitFor('⏱ 8:59 left');
    await t.press('h');
    await t.waitFor('No hints during the exam');
    await t.press('s');
    await t.waitFor('No solutions during the exam');
    await t.press('c');
    await t.waitFor('No checks during the exam');
    expect(lab.called('hint')).toHaveLength(0);
    expect(lab.called('solution')).toHaveLength(0);
    expect(lab.called('check')).toHaveLength(0);
    expect(lab.called('watch')).toHaveLength(0);

    // The first lesson is fixed, then handed in.
    lab.answers.set(first, checkResult(LESSONS.find((l) => l.id === first)!));
    await t.press('n');
    await t.waitFor('Hand in lesson 1 and move on?');
    await t.press('y');
    f = await t.waitFor('Exam · lesson 2/2', { timeoutMs: 8000 });
    expect(lab.called('check').map((c) => c.args[0])).toEqual([first]);
    expect(lab.called('start').map((c) => c.args[0])).toEqual([first, second]);
    expect(f).not.toContain('hand in & next');

    // The time runs out: graded as it stands.
    lab.clock += 10 * 60_000;
    f = await t.waitFor('Exam result', { timeoutMs: 8000 });
    expect(f).toMatch(/Score 1\/2 \(50%\) · the time ran out · seed abc/);
    expect(f).toMatch(/✓ .*checks\)/);
    expect(f).toMatch(/✗ .*\(0\/\d checks\)/);
    expect(f).toContain('is not fixed yet');
    expect(f).toMatch(/Result file: \/memory\/exams\/.*\.json/);
    expect(lab.called('check').map((c) => c.args[0])).toEqual([first, second]);
    expect(lab.called('reset').map((c) => c.args[0])).toEqual([second]);
    await t.press('enter');
    await t.waitFor('j/k move');
  });

  it('f finishes after a y; lessons not reached score 0', async () => {
    const lab = new FakeLab();
    const { t } = await mount(lab, { exam: { count: 3, seed: '1' } });
    await t.waitFor('Press enter to start the clock');
    await t.press('enter');
    await t.waitFor('Exam · lesson 1/3', { timeoutMs: 8000 });
    await t.press('f');
    await t.waitFor('Hand in and end the exam now?');
    await t.press('n');
    await t.waitForGone('Hand in and end the exam now?');
    await t.press('f', 'y');
    const f = await t.waitFor('Exam result', { timeoutMs: 8000 });
    expect(f).toMatch(/Score 0\/3 \(0%\) · handed in/);
    expect(f.match(/\(not reached\)/g)).toHaveLength(2);
  });

  it('a count larger than the lessons available is one clear line', async () => {
    const { t } = await mount(new FakeLab(), { exam: { count: 9 } });
    const f = await t.waitFor('The exam could not start');
    expect(f).toContain('an exam of 9 lessons needs 9 lessons this engine can run; there are 3');
    expect(f).toContain('→ use --count 3 or fewer');
  });

  it('plain `kube-seclab` resumes an exam in progress on the exam screen', async () => {
    const lab = new FakeLab();
    await lab.exams().begin({ count: 1, minutes: 5, seed: 'r' });
    lab.calls = [];
    const { t } = await mount(lab);
    const f = await t.waitFor('Exam · lesson 1/1', { timeoutMs: 8000 });
    expect(f).toMatch(/⏱ 5:00 left/);
    expect(lab.called('start')).toHaveLength(0);
  });
});
