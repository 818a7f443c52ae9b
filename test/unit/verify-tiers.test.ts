/**
 * How `dev verify` spends readings (src/core/verify.ts): checks are read in tiers of cost — API reads,
 * then checks that start pods (probes), then the attack. A stand-in lab counts which checks each
 * reading ran; the checks' verdicts follow the state the stand-in is in (scenario, solution, a
 * shortcut). Nothing here talks to Kubernetes: it is the reading strategy that is under test.
 */
import { describe, it, expect, vi, beforeEach } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLesson } from '../../src/core/verify.js';
import type { LessonResult } from '../../src/core/checks/runner.js';

/** The generic battery of the lesson under test: set per test (the real templates find nothing in the stand-in's empty scenario). */
const battery = vi.hoisted(() => ({
  generics: [] as { name: string; template: string; description: string; apply: (ctx: unknown) => Promise<() => Promise<void>> }[],
}));
vi.mock('../../src/core/battery/registry.js', () => ({ genericShortcuts: () => battery.generics }));

type State = 'scenario' | 'solved' | 'restored' | `shortcut:${string}` | `generic:${string}`;
/** Whether check `id` passes in `state`, at the `n`-th reading of that check since the state began. */
type Verdict = (id: string, state: State, n: number) => boolean;

const CHECKS = [
  { id: 'api-read', type: 'object', requires: 'api' },
  { id: 'probe', type: 'probe', requires: 'kind' },
  { id: 'attack', type: 'attack', requires: 'api' },
] as const;

function standIn(verdict: Verdict, shortcuts: (string | { name: string; caughtBy: string[] })[]) {
  const empty = mkdtempSync(join(tmpdir(), 'kube-seclab-verify-tiers-'));
  const lesson = {
    id: 'tiers',
    dir: empty,
    scenarioDir: empty,
    checks: CHECKS.map((c) => ({ ...c, title: c.id, objective: 'o', params: {}, primitive: {} })),
    solution: { name: 'solution', dir: empty },
    shortcuts: shortcuts.map((x) => (typeof x === 'string' ? { name: x, dir: empty } : { ...x, dir: empty })),
    alternatives: [],
    reset: { controlPlane: [], kubelet: false },
    battery: { add: [], skip: {} },
  };
  let state: State = 'scenario';
  let since: Record<string, number> = {};
  /** Every reading: the state it was taken in and the checks it ran. */
  const readings: { state: State; ids: string[] }[] = [];
  /** Every state entered, and how many readings had been taken by then. */
  const entered: { state: State; at: number }[] = [];
  const enter = (s: State) => {
    entered.push({ state: s, at: readings.length });
    state = s;
    since = {};
  };
  const lab = {
    engine: { name: 'kind', supports: () => true },
    lesson: () => lesson,
    unavailableReason: () => undefined,
    reset: async () => enter('scenario'),
    solution: async () => enter('solved'),
    applyShortcut: async (_id: string, name: string) => enter(`shortcut:${name}`),
    applyAlternative: async () => enter('solved'),
    remove: async () => {},
    scenarioContext: async () => ({}),
    cluster: async () => ({ rename: { active: false, ns: (n: string) => n }, list: async () => [] }),
    check: async (_id: string, opts: { only?: string[] } = {}): Promise<LessonResult> => {
      const ids = CHECKS.map((c) => c.id).filter((id) => !opts.only || opts.only.includes(id));
      readings.push({ state, ids });
      const checks = ids.map((id) => {
        since[id] = (since[id] ?? 0) + 1;
        const passed = verdict(id, state, since[id]);
        const type = CHECKS.find((c) => c.id === id)!.type;
        return { id, title: id, objective: 'o', type, requires: 'api' as const, passed, status: passed ? 'passed' : 'failed', message: id, durationMs: 1 };
      });
      return { lesson: 'tiers', passed: checks.every((c) => c.passed), durationMs: 1, unreachable: false, checks } as LessonResult;
    },
  };
  /** A generic shortcut of the battery: applied, the stand-in is in `generic:<name>`; undone, in `afterUndo`. */
  const generic = (name: string, afterUndo: State = 'solved') => ({
    name,
    template: name,
    description: name,
    apply: async () => {
      enter(`generic:${name}`);
      return async () => enter(afterUndo);
    },
  });
  return { lab: lab as never, readings, generic, entered };
}

const opts = { settleMs: 0, genericSettleMs: 0, solutionTimeoutMs: 2_000 };
const reads = (readings: { state: State; ids: string[] }[], state: State, id: string) => readings.filter((r) => r.state === state && r.ids.includes(id)).length;

describe('dev verify reads checks in tiers of cost', () => {
  it('judges a shortcut an API read catches without starting a probe or the attack', async () => {
    // The scenario fails everywhere; the solution passes everywhere; the shortcut fails the API read.
    const { lab, readings } = standIn((id, state) => state === 'solved' || (state === 'shortcut:cheap' && id !== 'api-read'), ['cheap']);
    const r = await verifyLesson(lab, 'tiers', opts);
    expect(r.steps.find((s) => s.name === 'shortcut "cheap" fails')?.ok, JSON.stringify(r.steps)).toBe(true);
    expect(reads(readings, 'shortcut:cheap', 'api-read')).toBeGreaterThanOrEqual(2);
    // The verdict took API reads alone. Once, after the first caught shortcut, the attack alone is read
    // to see whether it still works (its sensitivity): the only reading of anything else, and no probe.
    const costly = readings.filter((x) => x.state === 'shortcut:cheap' && !(x.ids.length === 1 && x.ids[0] === 'api-read'));
    expect(costly).toEqual([{ state: 'shortcut:cheap', ids: ['attack'] }]);
    expect(readings.filter((x) => x.state === 'shortcut:cheap').indexOf(costly[0])).toBe(readings.filter((x) => x.state === 'shortcut:cheap').length - 1);
  });

  it('reads the probes once the API reads pass, and the attack once the probes pass too', async () => {
    // Shortcut "probe-only": only a probe sees it. Shortcut "attack-only": only the attack does.
    const { lab, readings } = standIn(
      (id, state) => state === 'solved' || (state === 'shortcut:probe-only' && id !== 'probe') || (state === 'shortcut:attack-only' && id !== 'attack'),
      ['probe-only', 'attack-only'],
    );
    const r = await verifyLesson(lab, 'tiers', opts);
    expect(r.ok, JSON.stringify(r.steps, null, 1)).toBe(true);
    expect(reads(readings, 'shortcut:probe-only', 'probe')).toBeGreaterThanOrEqual(2);
    expect(readings.filter((x) => x.state === 'shortcut:probe-only' && x.ids.length === 1 && x.ids[0] === 'api-read').length).toBeGreaterThanOrEqual(2);
    expect(reads(readings, 'shortcut:attack-only', 'attack')).toBeGreaterThanOrEqual(2);
  });

  it('reports a shortcut every tier passes as not caught', async () => {
    const { lab } = standIn((_id, state) => state !== 'scenario', ['useless']);
    const r = await verifyLesson(lab, 'tiers', opts);
    const s = r.steps.find((x) => x.name === 'shortcut "useless" fails');
    expect(s?.ok).toBe(false);
    expect(s?.detail).toContain('all checks pass');
  });

  it('polls only the API reads while the solution is still coming up, then reads the whole lesson', async () => {
    // The solution's workload needs five readings of the API check to be ready.
    const { lab, readings } = standIn((id, state, n) => state === 'solved' && (id !== 'api-read' || n > 5), []);
    const r = await verifyLesson(lab, 'tiers', opts);
    expect(r.steps.find((s) => s.name === 'solution passes')?.ok, JSON.stringify(r.steps)).toBe(true);
    const solved = readings.filter((x) => x.state === 'solved');
    // Five API-only polls fail, then one passes; only then a whole reading — the probe is never read
    // before the API check passes, and never read twice for one whole reading (no middle-tier poll).
    const firstWhole = solved.findIndex((x) => x.ids.length === CHECKS.length);
    expect(solved.slice(0, firstWhole).every((x) => x.ids.length === 1 && x.ids[0] === 'api-read')).toBe(true);
    expect(firstWhole).toBe(6);
    expect(solved.slice(0, firstWhole + 1).filter((x) => x.ids.includes('probe')).length).toBe(1);
  });
});

describe('dev verify reads the generic battery against the state under it', () => {
  beforeEach(() => {
    battery.generics = [];
  });
  const cheapOnly = (x: { ids: string[] }) => x.ids.length === 1 && x.ids[0] === 'api-read';

  it('after an undo reads the solved state by API reads alone, and judges the next shortcut an API read catches on that', async () => {
    // Three generic shortcuts the API read catches.
    const { lab, readings, generic } = standIn((id, state) => state === 'solved' || (state.startsWith('generic:') && id !== 'api-read'), []);
    battery.generics = [generic('g1'), generic('g2'), generic('g3')];
    const r = await verifyLesson(lab, 'tiers', opts);
    for (const g of ['g1', 'g2', 'g3'])
      expect(r.steps.find((s) => s.name === `generic shortcut "${g}" fails`)?.ok, JSON.stringify(r.steps, null, 1)).toBe(true);
    const firstGeneric = readings.findIndex((x) => x.state === 'generic:g1');
    const after = readings.slice(firstGeneric);
    // No probe from the first generic shortcut on: the solved state between them was read by API reads
    // only, and so was each shortcut — but for the attack alone, read to see whether it still works.
    expect(after.filter((x) => x.state === 'solved').length).toBeGreaterThanOrEqual(2);
    expect(after.filter((x) => x.state === 'solved').every(cheapOnly)).toBe(true);
    expect(after.some((x) => x.ids.includes('probe'))).toBe(false);
    expect(after.filter((x) => x.ids.includes('attack')).every((x) => x.ids.length === 1)).toBe(true);
  });

  it('reads the state under a shortcut whole before a costlier check judges it', async () => {
    // g1: the API read catches it. g2: only the probe does.
    const { lab, readings, generic } = standIn(
      (id, state) => state === 'solved' || (state === 'generic:g1' && id !== 'api-read') || (state === 'generic:g2' && id !== 'probe'),
      [],
    );
    battery.generics = [generic('g1'), generic('g2')];
    const r = await verifyLesson(lab, 'tiers', opts);
    expect(r.steps.find((s) => s.name === 'generic shortcut "g2" fails')?.ok, JSON.stringify(r.steps, null, 1)).toBe(true);
    // The probe that fails on g2 was read only after a whole reading of the solved state, taken after g2 was first applied.
    const g2first = readings.findIndex((x) => x.state === 'generic:g2');
    const probeOnG2 = readings.findIndex((x) => x.state === 'generic:g2' && x.ids.includes('probe'));
    const wholeSolved = readings.findIndex((x, i) => i > g2first && x.state === 'solved' && x.ids.length === CHECKS.length);
    expect(wholeSolved).toBeGreaterThan(g2first);
    expect(probeOnG2).toBeGreaterThan(wholeSolved);
  });

  it('never credits a shortcut with a check the state under it fails: an undo that breaks the probe means a fresh reset + solution first', async () => {
    // After g1's undo the API read passes but the probe fails ('restored'); g2 changes nothing the checks see.
    // A verdict on g2 read against 'restored' would wrongly say the probe catches it.
    const { lab, readings, generic, entered } = standIn(
      (id, state) =>
        state === 'solved' ||
        (state === 'restored' && id !== 'probe') ||
        (state === 'generic:g1' && id !== 'api-read') ||
        (state === 'generic:g2' && id !== 'probe'),
      [],
    );
    battery.generics = [generic('g1', 'restored'), generic('g2', 'restored')];
    const r = await verifyLesson(lab, 'tiers', opts);
    const g2 = r.steps.find((s) => s.name === 'generic shortcut "g2" fails');
    expect(g2?.ok, JSON.stringify(r.steps, null, 1)).toBe(true);
    // Before g2's probe was read, the lab was reset and the solution applied again, and that was read whole.
    const probeOnG2 = readings.findIndex((x) => x.state === 'generic:g2' && x.ids.includes('probe'));
    const reset = [...entered].reverse().find((e) => e.state === 'scenario' && e.at <= probeOnG2)!;
    expect(reset.at).toBeGreaterThan(readings.findIndex((x) => x.state === 'generic:g2'));
    expect(readings.slice(reset.at, probeOnG2).some((x) => x.state === 'solved' && x.ids.length === CHECKS.length)).toBe(true);
  });

  it('reports a generic shortcut that passes every check as not caught, though the state under it was last read by API reads alone', async () => {
    const { lab, generic } = standIn((id, state) => state === 'solved' || state === 'generic:useless' || (state === 'generic:g1' && id !== 'api-read'), []);
    battery.generics = [generic('g1'), generic('useless')];
    const r = await verifyLesson(lab, 'tiers', opts);
    const s = r.steps.find((x) => x.name === 'generic shortcut "useless" fails');
    expect(s?.ok).toBe(false);
    expect(s?.detail).toContain('all checks pass');
  });

  it('leaves the battery to another run when told to, and says how many it left', async () => {
    const { lab, readings, generic } = standIn((id, state) => state === 'solved' || (state.startsWith('generic:') && id !== 'api-read'), []);
    battery.generics = [generic('g1'), generic('g2')];
    const r = await verifyLesson(lab, 'tiers', { ...opts, genericBattery: false });
    expect(r.genericNotRun).toBe(2);
    expect(r.steps.some((s) => s.name.startsWith('generic shortcut'))).toBe(false);
    expect(readings.some((x) => x.state.startsWith('generic:'))).toBe(false);
    // By default it runs them.
    const other = standIn((id, state) => state === 'solved' || (state.startsWith('generic:') && id !== 'api-read'), []);
    battery.generics = [other.generic('g1')];
    const all = await verifyLesson(other.lab, 'tiers', opts);
    expect(all.steps.find((s) => s.name === 'generic shortcut "g1" fails')?.ok).toBe(true);
    expect(all.genericNotRun).toBeUndefined();
  });

  it('leaves the own shortcuts and the attack’s sensitivity to another run when told to, and counts them', async () => {
    const { lab, readings } = standIn((id, state) => state === 'solved' || (state === 'shortcut:cheap' && id !== 'api-read'), ['cheap', 'other']);
    const r = await verifyLesson(lab, 'tiers', { ...opts, ownShortcuts: false });
    expect(r.shortcutsNotRun).toBe(2);
    expect(r.steps.some((s) => s.name.startsWith('shortcut ') || s.name === 'the attack still works after a shortcut')).toBe(false);
    expect(readings.some((x) => x.state.startsWith('shortcut:'))).toBe(false);
    // The solution was still read whole.
    expect(r.steps.find((s) => s.name === 'solution passes')?.ok).toBe(true);
  });

  it('leaves a shortcut its steps.yaml says API reads catch everywhere (caughtBy) to another run when told to', async () => {
    // "declared": the API read catches it (caughtBy: [api-read]); "probe-only": only the probe does.
    const verdict: Verdict = (id, state) =>
      state === 'solved' || (state === 'shortcut:declared' && id !== 'api-read') || (state === 'shortcut:probe-only' && id !== 'probe');
    const { lab, readings } = standIn(verdict, [{ name: 'declared', caughtBy: ['api-read'] }, 'probe-only']);
    const r = await verifyLesson(lab, 'tiers', { ...opts, leaveCaughtAnywhere: true });
    expect(r.ok, JSON.stringify(r.steps, null, 1)).toBe(true);
    expect(r.shortcutsNotRun).toBe(1);
    expect(readings.some((x) => x.state === 'shortcut:declared')).toBe(false);
    expect(r.steps.find((x) => x.name === 'shortcut "probe-only" fails')?.ok).toBe(true);
    // The attack runs on the engines the other run covers too: its sensitivity is that run's, which has every shortcut.
    expect(r.steps.some((x) => x.name === 'the attack still works after a shortcut')).toBe(false);
  });

  it('where it runs a declared shortcut, proves each caughtBy check fails — a declaration that does not hold fails the step', async () => {
    // The shortcut is caught (the probe fails), but not by the API read its steps.yaml names.
    const { lab } = standIn(
      (id, state) => state === 'solved' || (state === 'shortcut:wrongly-declared' && id !== 'probe'),
      [{ name: 'wrongly-declared', caughtBy: ['api-read'] }],
    );
    const r = await verifyLesson(lab, 'tiers', opts);
    const st = r.steps.find((x) => x.name === 'shortcut "wrongly-declared" fails');
    expect(st?.ok).toBe(false);
    expect(st?.detail).toMatch(/says caughtBy api-read, but that check does not fail here/);
    // Declared right: the step passes and says so.
    const ok = standIn(
      (id, state) => state === 'solved' || (state === 'shortcut:declared' && id !== 'api-read'),
      [{ name: 'declared', caughtBy: ['api-read'] }],
    );
    const r2 = await verifyLesson(ok.lab, 'tiers', opts);
    expect(r2.steps.find((x) => x.name === 'shortcut "declared" fails')?.detail).toMatch(/caughtBy api-read fails$/);
  });
});
