import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { App, createAppStore } from '../../src/ui/app.js';
import { createTheme } from '../../src/ui/theme.js';
import { KEYMAP, keysLabel } from '../../src/ui/keymap.js';
import { UserError } from '../../src/core/errors.js';
import type { Store } from '../../src/ui/store.js';
import { renderTui, type Tui } from './ui-helpers.js';
import { FakeLab, LESSONS, checkResult, deferred } from './ui-fake-lab.js';

const rbac = LESSONS.find((l) => l.id === 'rbac-least-privilege')!;
let open: Tui[] = [];
afterEach(() => {
  for (const t of open) t.unmount();
  open = [];
});

async function mount(lab: FakeLab, opts: { columns?: number; rows?: number; env?: NodeJS.ProcessEnv } = {}): Promise<{ t: Tui; store: Store }> {
  const store = createAppStore({
    lab,
    statusIntervalMs: 0,
    preflight: async () => [
      { name: 'local engine', ok: true, detail: 'possible here' },
      {
        name: 'kind engine',
        ok: false,
        optional: true,
        detail: 'needs Docker and kind (docker not found)',
        fix: 'lessons marked "needs kind" cannot run here',
      },
    ],
  });
  const t = await renderTui(<App store={store} theme={createTheme(opts.env ?? { NO_COLOR: '1' })} />, opts);
  open.push(t);
  return { t, store };
}

/** Home → the rbac lesson, its first (failing) watch result shown. */
async function openRbac(lab: FakeLab, opts: Parameters<typeof mount>[1] = {}) {
  const m = await mount(lab, opts);
  await m.t.waitFor('Take cluster-admin away');
  await m.t.press('/');
  await m.t.press('r', 'b', 'a', 'c');
  await m.t.waitFor('/rbac');
  await m.t.press('enter');
  await m.t.waitFor('Why it matters', { timeoutMs: 8000 });
  await m.t.waitFor('is not fixed yet');
  return m;
}

describe('start-up', () => {
  it('goes straight Home when the cluster is healthy, with the current lesson preselected', async () => {
    const lab = new FakeLab({ healthy: true, progress: { current: 'pod-security-standards', lessons: { 'encryption-at-rest': { status: 'done' } as never } } });
    const { t } = await mount(lab);
    const f = await t.waitFor('Cluster components');
    expect(lab.called('up')).toHaveLength(0);
    expect(f).toMatch(/Cloud & infrastructure\s+█+░*\s+1\/2/);
    expect(f).toMatch(/▸ ● Stop the payments namespace/);
    expect(f).toMatch(/✓ Encrypt the Secrets.*done/);
    expect(f).toMatch(/– Harden the kubelet.*needs kind/);
    expect(f).toContain('local ● healthy');
    // The learner's other terminal: kubectl on the lab's cluster and the lab's own kube-seclab, run from the checkout.
    expect(f).toContain('eval "$(cd /tmp/fake-lab/checkout && npx kube-seclab env)"');
    expect(f).not.toContain('export KUBECONFIG');
  });

  it('shows preflight and a task list with elapsed time while the cluster comes up', async () => {
    const gate = deferred();
    const lab = new FakeLab({ healthy: false, upSteps: [{ title: 'Find the Kubernetes binaries' }, { title: 'Wait for the API server', wait: gate.promise }] });
    const { t } = await mount(lab);
    const f = await t.waitFor(/Wait for the API server \d+\.\ds/);
    expect(f).toContain('Preflight');
    expect(f).toContain('✓ local engine');
    expect(f).toMatch(/needs Docker and kind/);
    expect(f).toMatch(/✓ Find the Kubernetes binaries \d+\.\ds/);
    expect(f).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Wait for the API server/);
    expect(f).toContain('ctrl+c stops');
    gate.resolve();
    await t.waitFor('j/k move');
  });

  it("a failure shows what failed, the tool's message and the next step — no stack trace", async () => {
    const lab = new FakeLab({
      healthy: false,
      upSteps: [
        {
          title: 'Wait for the API server',
          fail: new UserError('kube-apiserver does not start from its manifest: unknown flag --bogus', 'fix /etc/kubernetes/manifests/kube-apiserver.yaml'),
        },
      ],
    });
    const { t } = await mount(lab);
    const f = await t.waitFor('The cluster did not come up');
    expect(f).toContain('failed: Wait for the API server');
    expect(f).toContain('unknown flag --bogus');
    expect(f).toContain('→ fix /etc/kubernetes/manifests/kube-apiserver.yaml');
    expect(f).toContain('r retry');
    expect(f).not.toMatch(/\n\s+at /);
  });

  it('a bug is one line, never a stack', async () => {
    const err = new TypeError("Cannot read properties of undefined (reading 'spec')");
    const lab = new FakeLab({ healthy: false, upSteps: [{ title: 'Mark the cluster', fail: err }] });
    const { t } = await mount(lab);
    const f = await t.waitFor('The cluster did not come up');
    expect(f).toContain("Cannot read properties of undefined (reading 'spec')");
    expect(f).toContain('this is a bug');
    expect(f).not.toContain('at ');
  });

  it('ctrl-c while provisioning aborts lab.up through its signal and exits 130', async () => {
    const gate = deferred();
    const lab = new FakeLab({ healthy: false, upSteps: [{ title: 'Wait for the API server', wait: gate.promise }] });
    const { t, store } = await mount(lab);
    await t.waitFor('Wait for the API server');
    await t.press('ctrlC');
    const deadline = Date.now() + 3000;
    while (store.getState().exitCode === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(lab.upSignal?.aborted).toBe(true);
    expect(store.getState().exitCode).toBe(130);
  });
});

describe('home', () => {
  it('moves with j/k and arrows, filters with /, opens with enter', async () => {
    const lab = new FakeLab();
    const { t } = await mount(lab);
    await t.waitFor(/▸ ○ Encrypt the Secrets/);
    await t.press('j');
    await t.waitFor(/▸ – Harden the kubelet/);
    await t.press('down');
    await t.waitFor(/▸ ○ Take cluster-admin/);
    await t.press('k');
    await t.waitFor(/▸ – Harden the kubelet/);
    await t.press('up');
    await t.waitFor(/▸ ○ Encrypt the Secrets/);
    await t.press('/', 'p', 'o', 'd');
    const f = await t.waitFor('/pod');
    expect(f).toContain('Stop the payments namespace');
    expect(f).not.toContain('Take cluster-admin');
    expect(f).toContain('1 of 4');
    await t.press('backspace', 'backspace', 'backspace', 'r', 'b', 'a', 'c');
    await t.waitFor(/▸ ○ Take cluster-admin/);
    await t.press('esc');
    await t.waitFor((fr) => fr.includes('Encrypt the Secrets') && !fr.includes('/rbac'));
    await t.press('enter');
    await t.waitFor('Cluster components ▸ Take cluster-admin', { timeoutMs: 8000 });
  });
});

describe('keys', () => {
  it('several keys in one read (fast typing, a paste, tmux send-keys) each count', async () => {
    const { t } = await mount(new FakeLab());
    await t.waitFor(/▸ ○ Encrypt the Secrets/);
    await t.press('jj');
    await t.waitFor(/▸ ○ Take cluster-admin/);
    await t.press('/', 'payments\r');
    await t.waitFor('Cluster components ▸ Stop the payments namespace', { timeoutMs: 8000 });
  });
});

describe('lesson', () => {
  it('sets up an unstarted lesson, watches, and turns an objective ✓ with no keypress', async () => {
    const lab = new FakeLab();
    const { t } = await openRbac(lab);
    expect(lab.called('start').map((c) => c.args[0])).toEqual(['rbac-least-privilege']);
    expect(lab.watching).toBe('rbac-least-privilege');
    let f = t.frame();
    expect(f).toMatch(/✗ The api ServiceAccount can no longer read Secrets/);
    expect(f).toMatch(/no-secrets is not fixed yet \(ClusterRoleBinding app-admin\)/);
    expect(f).toContain('● watching');
    // The learner fixes one objective in the other terminal: the watch reports, nobody presses a key.
    lab.emit(checkResult(rbac, { 'reads-configmaps': 'ServiceAccount shop/api cannot list configmaps' }));
    f = await t.waitFor(/✓ The api ServiceAccount can no longer read Secrets/);
    expect(f).toMatch(/✗ The API can still read its ConfigMaps/);
    expect(f).toContain('cannot list configmaps');
    lab.emit(checkResult(rbac));
    f = await t.waitFor('press n for the next lesson');
    expect(f).toMatch(/✓ The API can still read its ConfigMaps/);
    expect(f).toContain('Least privilege limits the blast radius');
  });

  it("shows where the files a lesson hands out are (an app's sources to fix and build)", async () => {
    rbac.reset = { workspaceFiles: ['storefront'] };
    try {
      const { t } = await openRbac(new FakeLab());
      expect(t.frame()).toContain('Your files: /tmp/fake-lab/workspace/storefront');
    } finally {
      delete rbac.reset;
    }
    const { t } = await openRbac(new FakeLab());
    expect(t.frame()).not.toContain('Your files');
  });

  it('does not set up a lesson again that was started before', async () => {
    const lab = new FakeLab({ progress: { current: 'rbac-least-privilege', lessons: { 'rbac-least-privilege': { status: 'started' } as never } } });
    const { t } = await mount(lab);
    await t.waitFor(/▸ ● Take cluster-admin/);
    await t.press('enter');
    await t.waitFor('is not fixed yet', { timeoutMs: 8000 });
    expect(lab.called('start')).toHaveLength(0);
  });

  it('has a fixed footer of single keys', async () => {
    const { t } = await openRbac(new FakeLab());
    expect(t.frame()).toMatch(/c check\s+w watch on\s+h hint\s+s solution\s+x reset\s+n next\s+l list\s+\? help\s+q quit/);
  });

  it('w turns watch off and on; c checks by hand', async () => {
    const lab = new FakeLab();
    const { t } = await openRbac(lab);
    await t.press('w');
    await t.waitFor('w watch off');
    expect(lab.watching).toBeUndefined();
    lab.answers.set(rbac.id, checkResult(rbac));
    await t.press('c');
    await t.waitFor('press n for the next lesson');
    expect(lab.called('check')).toHaveLength(1);
    await t.press('w');
    await t.waitFor('w watch on');
    expect(lab.watching).toBe(rbac.id);
  });

  it('after three failed checks nudges towards h; h shows the hints one by one', async () => {
    const lab = new FakeLab();
    const { t } = await openRbac(lab);
    expect(t.frame()).not.toContain('stuck?');
    // Two changes in the cluster that change what fails, then a check by hand: three failed checks.
    lab.emit(checkResult(rbac, { 'reads-configmaps': 'ServiceAccount shop/api cannot list configmaps' }));
    lab.emit(lab.failing(rbac.id));
    await t.press('c');
    await t.waitFor('3 checks failed so far — stuck? Press h for a hint.');
    await t.press('h');
    let f = await t.waitFor('Hint 1/3');
    expect(f).toContain('Who is bound to cluster-admin?');
    await t.press('h');
    f = await t.waitFor('Hint 2/3');
    expect(f).toContain('A Role + RoleBinding in namespace shop');
  });

  it('s asks before showing the solution', async () => {
    const lab = new FakeLab();
    const { t } = await openRbac(lab);
    await t.press('s');
    let f = await t.waitFor('Show the reference solution?');
    expect(f).toMatch(/y yes\s+n no/);
    await t.press('n');
    await t.waitForGone('Show the reference solution?');
    expect(lab.called('solution')).toHaveLength(0);
    await t.press('s');
    await t.waitFor('Show the reference solution?');
    await t.press('y');
    f = await t.waitFor('Reference solution');
    expect(f).toContain('kind: Role');
    expect(lab.called('solution')[0].args[0]).toBe(rbac.id);
    await t.press('esc');
    await t.waitFor('Why it matters');
  });

  it('x resets the lesson only after y', async () => {
    const lab = new FakeLab();
    const { t } = await openRbac(lab);
    await t.press('x');
    await t.waitFor('Reset this lesson to its insecure starting point?');
    await t.press('esc');
    await t.waitForGone('Reset this lesson');
    expect(lab.called('reset')).toHaveLength(0);
    await t.press('x');
    await t.waitFor('Reset this lesson');
    await t.press('y');
    await t.waitForGone('Reset this lesson');
    await t.waitFor('● watching');
    expect(lab.called('reset').map((c) => c.args[0])).toEqual([rbac.id]);
    expect(lab.called('watch')).toHaveLength(2);
  });

  it('n opens the next lesson; l goes back to the list', async () => {
    const lab = new FakeLab();
    const { t } = await openRbac(lab);
    lab.emit(checkResult(rbac));
    await t.waitFor('press n');
    await t.press('n');
    await t.waitFor('Cluster components ▸ Stop the payments namespace', { timeoutMs: 8000 });
    expect(lab.watching).toBe('pod-security-standards');
    await t.press('l');
    const f = await t.waitFor(/▸ ● Stop the payments/);
    expect(f).toMatch(/✓ Take cluster-admin.*done/);
    expect(lab.watching).toBeUndefined();
  });

  it('scrolls the text with j/k and PgDn/PgUp, keys apart from the footer', async () => {
    const { t } = await openRbac(new FakeLab(), { columns: 80, rows: 24 });
    expect(t.frame()).not.toContain('THE-END-OF-THE-LESSON');
    await t.press('G');
    await t.waitFor('THE-END-OF-THE-LESSON');
    await t.press('g');
    await t.waitFor('Why it matters');
    await t.press('pageDown');
    await t.waitForGone("Take cluster-admin away from the shop's API\n");
    await t.press('j');
    await t.press('pageUp', 'k', 'k', 'k');
    await t.waitFor('Why it matters');
  });

  it('marks a lesson the engine cannot run as needing kind, without setting it up', async () => {
    const lab = new FakeLab();
    const { t } = await mount(lab);
    await t.waitFor('Harden the kubelet');
    await t.press('j');
    await t.waitFor(/▸ – Harden/);
    await t.press('enter');
    const f = await t.waitFor('This lesson needs kind', { timeoutMs: 8000 });
    expect(f).toMatch(/– The kubelet refuses anonymous requests/);
    expect(lab.called('start')).toHaveLength(0);
  });
});

describe('help', () => {
  it('? lists the keymap — every command and its keys — and esc closes it', async () => {
    const { t } = await openRbac(new FakeLab(), { columns: 100, rows: 80 });
    await t.press('?');
    const f = await t.waitFor('Keys — kube-seclab');
    for (const b of KEYMAP) {
      expect(f).toContain(b.description);
      expect(f).toContain(keysLabel(b.command));
    }
    await t.press('esc');
    await t.waitFor('Why it matters');
  });

  it('scrolls when it does not fit (80x24)', async () => {
    const { t } = await openRbac(new FakeLab(), { columns: 80, rows: 24 });
    await t.press('?');
    const f = await t.waitFor('Keys — kube-seclab');
    expect(f).toContain('run the checks now');
    expect(f).not.toContain('this help');
    await t.press('G');
    for (let i = 0; i < 40; i++) await t.press('j');
    await t.waitFor('this help');
    await t.press('q');
    await t.waitFor('Why it matters');
  });
});

describe('terminal conventions', () => {
  const lines = (f: string) => f.split('\n');
  const width = (l: string) => [...l].length;

  it('fits 80x24 on every screen, and follows a resize', async () => {
    const lab = new FakeLab();
    const { t } = await openRbac(lab, { columns: 80, rows: 24 });
    lab.emit(
      checkResult(rbac, {
        'no-secrets':
          'ServiceAccount shop/api can still list secrets cluster-wide (ClusterRoleBinding app-admin grants cluster-admin to it, which is far too much)',
      }),
    );
    await t.waitFor('can still list secrets');
    for (const f of [t.frame()]) {
      expect(lines(f).length).toBeLessThanOrEqual(24);
      for (const l of lines(f)) expect(width(l)).toBeLessThanOrEqual(80);
    }
    expect(t.frame()).toContain('eval "$(cd /tmp/fake-lab/checkout && npx kube-seclab env)"');
    expect(t.frame()).toContain('q quit');
    await t.press('l');
    let f = await t.waitFor('j/k move');
    expect(lines(f).length).toBeLessThanOrEqual(24);
    for (const l of lines(f)) expect(width(l)).toBeLessThanOrEqual(80);
    t.resize(60, 20);
    f = await t.waitFor((fr) => lines(fr).every((l) => width(l) <= 60) && lines(fr).length <= 20);
    expect(f).toContain('j/k move');
    t.resize(120, 40);
    f = await t.waitFor((fr) => lines(fr).length > 24);
    expect(lines(f).length).toBeLessThanOrEqual(40);
    expect(f).toContain('j/k move');
  });
});
