import { vi } from 'vitest';
// Ink (chalk) colours whenever the theme asks: the colour test below sees the attacker's red, and
// "no escape codes" under NO_COLOR proves the theme asked for none.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '3';
  delete process.env.NO_COLOR;
});

import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { App, createAppStore } from '../../src/ui/app.js';
import { createTheme } from '../../src/ui/theme.js';
import { UserError } from '../../src/core/errors.js';
import type { Store } from '../../src/ui/store.js';
import { renderTui, type Tui } from './ui-helpers.js';
import { FakeLab, LESSONS, attackSteps, checkResult, deferred, type Deferred } from './ui-fake-lab.js';

const rbac = LESSONS.find((l) => l.id === 'rbac-least-privilege')!;
const pss = LESSONS.find((l) => l.id === 'pod-security-standards')!;
const INVITE = 'Press a to attack first';
let open: Tui[] = [];
afterEach(() => {
  for (const t of open) t.unmount();
  open = [];
});

async function mount(
  lab: FakeLab,
  opts: { columns?: number; rows?: number; env?: NodeJS.ProcessEnv; exam?: { count: number; minutes: number; seed: string } } = {},
): Promise<{ t: Tui; store: Store }> {
  const store = createAppStore({ lab, statusIntervalMs: 0, clockIntervalMs: opts.exam ? 10 : 0, now: () => lab.clock, exam: opts.exam });
  const t = await renderTui(<App store={store} theme={createTheme(opts.env ?? { NO_COLOR: '1' })} />, { columns: opts.columns ?? 100, rows: opts.rows ?? 30 });
  open.push(t);
  return { t, store };
}

/** Home → a lesson by filter, its first (failing) watch result shown. */
async function openLesson(lab: FakeLab, id: string, opts: Parameters<typeof mount>[1] = {}) {
  const m = await mount(lab, opts);
  await m.t.waitFor('j/k move');
  await m.t.press('/', ...id.split('-')[0]);
  await m.t.waitFor(`/${id.split('-')[0]}`);
  await m.t.press('enter');
  await m.t.waitFor('is not fixed yet', { timeoutMs: 8000 });
  return m;
}

/** Each attack step waits for the test to let it go. */
function gated(lab: FakeLab): Deferred[] {
  const gates = Array.from({ length: 5 }, () => deferred());
  let i = 0;
  lab.attackGate = () => gates[i++].promise;
  return gates;
}

/** The lines between the lesson's title and the Objectives heading: the scrollable area. */
function scrollArea(f: string): string {
  const lines = f.split('\n');
  return lines
    .slice(
      1,
      lines.findIndex((l) => l.startsWith('Objectives')),
    )
    .join('\n');
}

describe('attack on the lesson screen', () => {
  it('offers a only for a lesson with an attack, and invites the learner to attack first', async () => {
    const { t } = await openLesson(new FakeLab(), rbac.id);
    let f = t.frame();
    expect(f).toMatch(/a attack\s+c check\s+w watch on\s+h hint/);
    expect(f).toContain(`${INVITE}: see what an attacker gets`);

    const other = await openLesson(new FakeLab(), pss.id);
    f = other.t.frame();
    expect(f).toMatch(/c check\s+w watch on/);
    expect(f).not.toContain('a attack');
    expect(f).not.toContain(INVITE);
    await other.t.press('a');
    await new Promise((r) => setTimeout(r, 50));
    expect(other.t.frame()).not.toContain('Attack:');
  });

  it('a shows the transcript in the text area as the steps land, spinner on the step running, the verdict at the end; esc goes back', async () => {
    const lab = new FakeLab();
    const gates = gated(lab);
    const { t } = await openLesson(lab, rbac.id);
    await t.press('a');
    // Before any step lands: the story, and a spinner on the first step.
    let f = await t.waitFor("Attack: Steal the payment gateway's key");
    expect(f).toContain('What can its ServiceAccount token do?');
    expect(f).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Read the ServiceAccount token mounted in the api pod/);
    expect(f).not.toContain(INVITE);
    // The objectives stay where they are: the transcript is not drawn over them.
    expect(f).toContain('Objectives');
    expect(f).toContain('The api ServiceAccount can no longer read Secrets');
    expect(scrollArea(f)).toContain('Attack:');
    expect(scrollArea(f)).not.toContain('Why it matters');

    gates[0].resolve();
    f = await t.waitFor('✓ Read the ServiceAccount token mounted in the api pod');
    expect(f).toContain('token: eyJh… (656 chars)');
    expect(f).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Read the payment gateway's API key/);
    expect(f).not.toContain('The attack WORKS');

    gates[1].resolve();
    f = await t.waitFor('⇒ The attack WORKS');
    expect(f).toContain("✓ Read the payment gateway's API key");
    expect(f).toContain('apiKey: sk_l… (22 chars)');
    expect(f).toContain("→ charge cards through the shop's payment account");
    expect(f).toContain('Fix the lesson, then press a again: the attack must fail.');
    expect(f).toContain('esc: back to the lesson text');
    expect(f).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Read/);
    expect(lab.called('attack').map((c) => c.args[0])).toEqual([rbac.id]);

    await t.press('esc');
    f = await t.waitFor('Why it matters');
    expect(f).not.toContain('Attack:');
    // An attack was run in this visit: no more invitation.
    expect(f).not.toContain(INVITE);
  });

  it('after the fix, a again: the attack fails, blocked steps shown as blocked', async () => {
    const lab = new FakeLab();
    lab.attacks.set(rbac.id, attackSteps(false));
    const { t } = await openLesson(lab, rbac.id);
    await t.press('a');
    const f = await t.waitFor('⇒ The attack FAILS');
    expect(f).toContain("✗ Read the payment gateway's API key");
    expect(f).toContain('403 Forbidden');
    expect(f).toContain("stopped at Read the payment gateway's API key");
    expect(f).not.toContain('sk_l');
  });

  it('one attack at a time: a while it runs only brings its transcript back', async () => {
    const lab = new FakeLab();
    const gates = gated(lab);
    const { t } = await openLesson(lab, rbac.id);
    await t.press('a');
    await t.waitFor('Attack:');
    await t.press('esc');
    await t.waitFor('Why it matters');
    await t.press('a');
    await t.waitFor('Attack:');
    gates[0].resolve();
    gates[1].resolve();
    await t.waitFor('⇒ The attack WORKS');
    expect(lab.called('attack')).toHaveLength(1);
    // Finished: a runs it again.
    await t.press('a');
    gates[2].resolve();
    gates[3].resolve();
    await t.waitFor(() => lab.called('attack').length === 2);
  });

  it('scrolls a transcript longer than the area, and follows the newest line', async () => {
    const lab = new FakeLab();
    const { t } = await openLesson(lab, rbac.id, { columns: 60, rows: 18 });
    await t.press('a');
    let f = await t.waitFor('⇒ The attack WORKS');
    expect(scrollArea(f)).not.toContain('Attack: Steal');
    expect(f).toMatch(/j\/k end/);
    await t.press('g');
    f = await t.waitFor('Attack: Steal');
    expect(f).not.toContain('⇒ The attack WORKS');
  });

  it('an attack that cannot start is one error line, and the text comes back', async () => {
    const lab = new FakeLab();
    lab.attacks.set(
      rbac.id,
      new UserError(
        'lesson rbac-least-privilege is not set up on this cluster, so there is nothing of yours to attack yet',
        '`kube-seclab start rbac-least-privilege` sets up its insecure scenario',
      ),
    );
    const { t } = await openLesson(lab, rbac.id);
    await t.press('a');
    const f = await t.waitFor('The attack could not run');
    expect(f).toContain('is not set up on this cluster');
    expect(f).toContain('kube-seclab start rbac-least-privilege');
    expect(f).not.toMatch(/\n\s+at /);
    await t.press('esc');
    await t.waitFor('Why it matters');
  });

  it('the debrief comes from the lab: how the attack went before and after the fix', async () => {
    const lab = new FakeLab();
    const { t } = await openLesson(lab, rbac.id);
    await t.press('a');
    await t.waitFor('⇒ The attack WORKS');
    lab.attacks.set(rbac.id, attackSteps(false));
    await t.press('a');
    await t.waitFor('⇒ The attack FAILS');
    // The fix lands while the learner reads the transcript: it stays, and esc leads to the debrief.
    lab.emit(checkResult(rbac));
    let f = await t.waitFor('press n for the next lesson');
    expect(f).toContain('⇒ The attack FAILS');
    expect(f).toContain('esc: the debrief');
    await t.press('esc');
    f = await t.waitFor('before and after your fix');
    expect(f).toContain('Least privilege limits the blast radius');
    expect(f).toMatch(/before — Read the payment gateway's API key: apiKey: sk_l…\s+\(22 chars\); after — stopped/);
    expect(lab.called('debrief').map((c) => c.args[0])).toEqual([rbac.id]);
    await t.press('esc');
    await t.waitFor('Why it matters');
  });

  it("a lesson completed from the text view opens the lab's debrief", async () => {
    const lab = new FakeLab();
    const { t } = await openLesson(lab, rbac.id);
    lab.emit(checkResult(rbac));
    await t.waitFor('Least privilege limits the blast radius');
    await t.waitFor(() => lab.called('debrief').length === 1);
  });

  it('during an exam, a is refused like the checks and never calls the lab', async () => {
    const lab = new FakeLab();
    const { t } = await mount(lab, { exam: { count: 2, minutes: 10, seed: 'abc' } });
    await t.waitFor('Press enter to start the clock');
    await t.press('enter');
    const f = await t.waitFor('Exam · lesson 1/2', { timeoutMs: 8000 });
    expect(f).not.toContain('a attack');
    expect(f).not.toContain(INVITE);
    await t.press('a');
    await t.waitFor('No attacks during the exam');
    expect(lab.called('attack')).toHaveLength(0);
  });

  it("colours the attacker's successes and the defence apart, and draws no escape codes under NO_COLOR", async () => {
    const lab = new FakeLab();
    const { t } = await openLesson(lab, rbac.id, { env: {} });
    await t.press('a');
    await t.waitFor('⇒ The attack WORKS');
    const red = '\x1b[31m';
    expect(t.rawFrame()).toContain(`${red}⇒ The attack WORKS`);
    expect(t.rawFrame()).toMatch(/\x1b\[31m ✓ Read the ServiceAccount token/);

    const plain = await openLesson(new FakeLab(), rbac.id, { env: { NO_COLOR: '1' } });
    await plain.t.press('a');
    await plain.t.waitFor('⇒ The attack WORKS');
    expect(plain.t.rawFrame()).not.toMatch(/\x1b\[[0-9;]*m/);
  });
});
