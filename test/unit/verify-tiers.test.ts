/**
 * How `dev verify` spends readings (src/core/verify.ts): checks are read in tiers of cost — API reads,
 * then checks that start pods (probes), then the attack. A stand-in lab counts which checks each
 * reading ran; the checks' verdicts follow the state the stand-in is in (scenario, solution, a
 * shortcut). Nothing here talks to Kubernetes: it is the reading strategy that is under test.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLesson } from '../../src/core/verify.js';
import type { LessonResult } from '../../src/core/checks/runner.js';

type State = 'scenario' | 'solved' | `shortcut:${string}`;
/** Whether check `id` passes in `state`, at the `n`-th reading of that check since the state began. */
type Verdict = (id: string, state: State, n: number) => boolean;

const CHECKS = [
  { id: 'api-read', type: 'object', requires: 'api' },
  { id: 'probe', type: 'probe', requires: 'kind' },
  { id: 'attack', type: 'attack', requires: 'api' },
] as const;

function standIn(verdict: Verdict, shortcuts: string[]) {
  const empty = mkdtempSync(join(tmpdir(), 'kube-seclab-verify-tiers-'));
  const lesson = {
    id: 'tiers',
    dir: empty,
    scenarioDir: empty,
    checks: CHECKS.map((c) => ({ ...c, title: c.id, objective: 'o', params: {}, primitive: {} })),
    solution: { name: 'solution', dir: empty },
    shortcuts: shortcuts.map((name) => ({ name, dir: empty })),
    alternatives: [],
    reset: { controlPlane: [], kubelet: false },
    battery: { add: [], skip: {} },
  };
  let state: State = 'scenario';
  let since: Record<string, number> = {};
  /** Every reading: the state it was taken in and the checks it ran. */
  const readings: { state: State; ids: string[] }[] = [];
  const enter = (s: State) => {
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
  return { lab: lab as never, readings };
}

const opts = { settleMs: 0, solutionTimeoutMs: 5_000 };
const reads = (readings: { state: State; ids: string[] }[], state: State, id: string) => readings.filter((r) => r.state === state && r.ids.includes(id)).length;

describe('dev verify reads checks in tiers of cost', () => {
  it('judges a shortcut an API read catches without starting a probe or the attack', async () => {
    // The scenario fails everywhere; the solution passes everywhere; the shortcut fails the API read.
    const { lab, readings } = standIn((id, state) => state === 'solved' || (state === 'shortcut:cheap' && id !== 'api-read'), ['cheap']);
    const r = await verifyLesson(lab, 'tiers', opts);
    expect(r.steps.find((s) => s.name === 'shortcut "cheap" fails')?.ok, JSON.stringify(r.steps)).toBe(true);
    expect(reads(readings, 'shortcut:cheap', 'api-read')).toBeGreaterThanOrEqual(2);
    // The verdict took API reads alone. Once, after the first caught shortcut, the lesson is read
    // whole to see whether the attack still works (its sensitivity): the only reading with the others.
    const costly = readings.filter((x) => x.state === 'shortcut:cheap' && x.ids.length > 1);
    expect(costly.length).toBe(1);
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
