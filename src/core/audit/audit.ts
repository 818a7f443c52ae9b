import { relative, join } from 'node:path';
import { minimatch } from 'minimatch';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Lab } from '../lab.js';
import type { Lesson } from '../lessons/loader.js';
import { splitScope, type AuditDeclaration } from '../lessons/schema.js';
import { errorMessage } from '../errors.js';
import { sleep } from '../fsutil.js';
import { auditSnapshot, lessonObjects, type Snapshot } from './collect.js';
import { lessonNamespaces } from '../scenarios/apply.js';
import { CIS_CHECKS } from './catalogue.js';
import { findAuditors, type AuditorTools } from './tools.js';
import type { AuditFinding } from './types.js';
import { verifyLesson, type VerifyOptions, type VerifyResult } from '../verify.js';

export type ToolKey = keyof AuditDeclaration;
export type DeclKind = 'raise' | 'clear' | 'topic';
const TOOL_NAME: Record<ToolKey, AuditFinding['tool']> = { kubeScore: 'kube-score', kubeBench: 'kube-bench' };

/** One declaration judged: where it is written, and what the auditor said. */
export interface AuditVerdict {
  tool: AuditFinding['tool'];
  kind: DeclKind;
  id: string;
  ok: boolean;
  /** lessons/<layer>/<dir>/lesson.yaml:LINE audit.kubeBench.clear[0] */
  where: string;
  detail: string;
}

export interface AuditResult {
  lesson: string;
  ok: boolean;
  skipped?: string;
  /** Declared findings the scenario raised, and those the solution cleared ("kube-bench 1.2.17"). */
  raised: string[];
  cleared: string[];
  verdicts: AuditVerdict[];
  /** A step that could not run (reset, solution, an auditor's error), one line each. */
  errors: string[];
  notes: string[];
  /** Every finding raised in each state (what the lesson could declare). */
  scenario?: AuditFinding[];
  solved?: AuditFinding[];
  durationMs: number;
  /** Of which the auditors themselves (both states). */
  auditorsMs: number;
}

/** The namespace a finding is about: kube-score "Deployment ns/name", kube-bench policies "ns/name" or "ns". */
export function findingNamespace(f: AuditFinding): string | undefined {
  if (!f.object || /^Cluster(Role|RoleBinding) /.test(f.object)) return undefined;
  const o = f.tool === 'kube-score' ? f.object.slice(f.object.indexOf(' ') + 1) : f.object;
  return o.includes('/') ? o.split('/')[0] : f.tool === 'kube-score' ? undefined : o;
}
const describe = (fs: AuditFinding[]) =>
  fs
    .map((f) => `${f.object ? `${f.object}: ` : ''}${f.detail}`)
    .slice(0, 3)
    .join('; ') + (fs.length > 3 ? `; … ${fs.length - 3} more` : '');

/**
 * Judge a lesson's declaration against what the auditors reported on its scenario and on its
 * solved state. Pure: the findings in, one verdict per declared entry out.
 *   raise  the scenario has a raised finding with this id (in the lesson's scope)
 *   clear  in the solved state the auditor judged this check (at least one verdict on it) and
 *          raised nothing: kube-bench says PASS, kube-score graded every object OK
 *   topic  in the solved state no raised finding's id matches the glob — nor any `clear` id: a
 *          solution that leaves a finding on its own topic fails
 */
export interface JudgeContext {
  /** Where an entry is written (file:line and path), for the verdict. */
  where: (tool: ToolKey, kind: DeclKind, i: number) => string;
  /** The lesson's namespaces as its scenario names them (an @NAMESPACE must be one). */
  namespaces?: string[];
  /** How the cluster names a scenario namespace (a shared cluster prefixes them). */
  mapNs?: (ns: string) => string;
}

export function judge(
  decl: AuditDeclaration,
  scenario: Pick<Snapshot, 'kubeScore' | 'kubeBench' | 'notes'>,
  solved: Pick<Snapshot, 'kubeScore' | 'kubeBench' | 'notes'>,
  ctx: JudgeContext,
): AuditVerdict[] {
  const { where, namespaces } = ctx;
  const mapNs = ctx.mapNs ?? ((n: string) => n);
  const inScope = (f: AuditFinding, namespace?: string) => !namespace || findingNamespace(f) === mapNs(namespace);
  const byId = (fs: AuditFinding[], entry: string) => {
    const { id, namespace } = splitScope(entry);
    return fs.filter((f) => f.id === id && inScope(f, namespace));
  };
  const out: AuditVerdict[] = [];
  if (namespaces) {
    for (const tool of ['kubeScore', 'kubeBench'] as const) {
      for (const kind of ['raise', 'clear', 'topic'] as const) {
        decl[tool][kind].forEach((entry, i) => {
          const ns = splitScope(entry).namespace;
          if (ns && !namespaces.includes(ns))
            out.push({
              tool: TOOL_NAME[tool],
              kind,
              id: entry,
              where: where(tool, kind, i),
              ok: false,
              detail: `@${ns} is not one of the lesson's namespaces (${namespaces.join(', ')})`,
            });
        });
      }
    }
  }
  for (const tool of ['kubeScore', 'kubeBench'] as const) {
    const d = decl[tool];
    const before = scenario[tool];
    const after = solved[tool];
    const name = TOOL_NAME[tool];
    const silent = (fs: AuditFinding[], notes: string[]) =>
      `${name} did not judge it${notes.length ? ` (${notes.join('; ')})` : tool === 'kubeScore' ? ' (no object of the lesson has it: deleted, or a kind it skips)' : ''}`;
    d.raise.forEach((id, i) => {
      const all = byId(before, id);
      const hit = all.filter((f) => f.raised);
      out.push({
        tool: name,
        kind: 'raise',
        id,
        where: where(tool, 'raise', i),
        ok: hit.length > 0,
        detail: hit.length
          ? describe(hit)
          : all.length
            ? `the scenario does not raise it: ${name} says ${[...new Set(all.map((f) => f.status))].join('/')} (${describe(all)})`
            : `the scenario does not raise it: ${silent(all, scenario.notes)}`,
      });
    });
    d.clear.forEach((id, i) => {
      const all = byId(after, id);
      const left = all.filter((f) => f.raised);
      out.push({
        tool: name,
        kind: 'clear',
        id,
        where: where(tool, 'clear', i),
        ok: all.length > 0 && left.length === 0,
        detail: left.length
          ? `still raised after the solution: ${describe(left)}`
          : all.length
            ? `${name} says ${[...new Set(all.map((f) => f.status))].join('/')} after the solution`
            : `not judged after the solution: ${silent(all, solved.notes)}`,
      });
    });
    // The topic beyond the cleared ids (which `clear` already holds to "judged, nothing raised"): one verdict per glob.
    for (const t of d.topic.map((glob, i) => ({ glob, where: where(tool, 'topic', i) }))) {
      const { id: glob, namespace } = splitScope(t.glob);
      const left = after.filter((f) => f.raised && minimatch(f.id, glob) && inScope(f, namespace));
      out.push({
        tool: name,
        kind: 'topic',
        id: t.glob,
        where: t.where,
        ok: left.length === 0,
        detail: left.length
          ? `the solution leaves a finding on the lesson's topic: ${left
              .map((f) => f.id)
              .filter((x, j, a) => a.indexOf(x) === j)
              .join(', ')} — ${describe(left)}`
          : `no ${name} finding matches it after the solution`,
      });
    }
  }
  return out;
}

/** The CIS checks a declaration needs kube-bench to run: its ids and every benchmark id its topic globs match. */
export function benchChecksFor(decl: AuditDeclaration): string[] {
  const d = decl.kubeBench;
  const ids = new Set([...d.raise, ...d.clear].map((e) => splitScope(e).id));
  for (const [id, , manual] of CIS_CHECKS) if (!manual && d.topic.some((g) => minimatch(id, splitScope(g).id))) ids.add(id);
  return [...ids];
}

/** Until every Deployment of the lesson's namespaces runs only its current pods (nothing left terminating from before). */
async function settle(lab: Lab, namespaces: string[], timeoutMs: number): Promise<void> {
  const cluster = await lab.cluster();
  const end = Date.now() + timeoutMs;
  for (;;) {
    let busy = false;
    for (const ns of namespaces) {
      const deps = await cluster.list<
        KubernetesObject & { spec?: { replicas?: number }; status?: { replicas?: number; updatedReplicas?: number; observedGeneration?: number } }
      >('apps/v1', 'Deployment', ns);
      const pods = await cluster.list<KubernetesObject>('v1', 'Pod', ns);
      if (pods.some((p) => p.metadata?.deletionTimestamp)) busy = true;
      for (const d of deps) {
        const want = d.spec?.replicas ?? 1;
        if (
          (d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0) ||
          (d.status?.updatedReplicas ?? 0) !== want ||
          (d.status?.replicas ?? 0) !== want
        )
          busy = true;
      }
    }
    if (!busy || Date.now() > end) return;
    await sleep(250);
  }
}

export interface AuditOptions {
  /** Run every CIS check, not only those the declaration names (slower: ~20 s more per state). */
  full?: boolean;
  tools?: AuditorTools;
  onStep?: (step: string) => void;
}

const NOTHING_DECLARED = 'declares nothing for either auditor (its lesson.yaml says why); --full runs them anyway';
const declaresSomething = (l: Lesson) => Object.values(l.audit).some((t) => t.raise.length || t.clear.length || t.topic.length);
const emptyResult = (id: string) => ({
  lesson: id,
  ok: true,
  raised: [] as string[],
  cleared: [] as string[],
  verdicts: [] as AuditVerdict[],
  errors: [] as string[],
  notes: [] as string[],
  durationMs: 0,
  auditorsMs: 0,
});

/** The verdicts on two snapshots, and the result line's parts. */
async function conclude(
  lab: Lab,
  lesson: Lesson,
  scenario: Snapshot | undefined,
  solved: Snapshot | undefined,
  errors: string[],
  t0: number,
): Promise<AuditResult> {
  const r: AuditResult = { ...emptyResult(lesson.id), errors };
  if (scenario && solved) {
    const file = relative(lab.catalogue.root, join(lesson.dir, 'lesson.yaml'));
    const where = (tool: ToolKey, kind: DeclKind, i: number) => `${file}:${lesson.auditLines[`${tool}.${kind}.${i}`] ?? '?'} audit.${tool}.${kind}[${i}]`;
    const cluster = await lab.cluster();
    r.verdicts = judge(lesson.audit, scenario, solved, { where, namespaces: await lessonNamespaces(lesson), mapNs: (n) => cluster.rename.ns(n) });
    r.notes = [...new Set([...scenario.notes, ...solved.notes])];
  }
  const label = (v: AuditVerdict) => `${v.tool} ${v.id}`;
  r.ok = r.errors.length === 0 && r.verdicts.every((v) => v.ok);
  r.raised = r.verdicts.filter((v) => v.kind === 'raise' && v.ok).map(label);
  r.cleared = r.verdicts.filter((v) => v.kind === 'clear' && v.ok).map(label);
  r.scenario = scenario && [...scenario.kubeScore, ...scenario.kubeBench].filter((f) => f.raised);
  r.solved = solved && [...solved.kubeScore, ...solved.kubeBench].filter((f) => f.raised);
  r.durationMs = Math.round(performance.now() - t0);
  r.auditorsMs = (scenario?.durationMs ?? 0) + (solved?.durationMs ?? 0);
  return r;
}

/** The auditors on the solved state, once the solution's rollout is over (no pod of the scenario left). */
async function solvedSnapshot(lab: Lab, lesson: Lesson, tools: AuditorTools, benchChecks: string[] | undefined): Promise<Snapshot> {
  await settle(lab, (await lessonObjects(lab, lesson)).namespaces, 60_000);
  return auditSnapshot(lab, lesson, tools, { benchChecks });
}

/**
 * `dev audit`, per lesson: reset → auditors on the scenario → each `raise` present → apply the
 * reference solution → auditors → each `clear` gone, nothing left on the lesson's topic → clean up.
 */
export async function auditLesson(lab: Lab, id: string, opts: AuditOptions = {}): Promise<AuditResult> {
  const t0 = performance.now();
  const lesson: Lesson = lab.lesson(id);
  const unavailable = lab.unavailableReason(lesson);
  if (unavailable) return { ...emptyResult(id), skipped: unavailable === 'needs kind' ? 'needs the kind engine' : unavailable };
  if (!declaresSomething(lesson) && !opts.full) return { ...emptyResult(id), skipped: NOTHING_DECLARED };
  const tools = opts.tools ?? findAuditors(lab.env);
  const benchChecks = opts.full ? undefined : benchChecksFor(lesson.audit);
  const step = opts.onStep ?? (() => {});
  const errors: string[] = [];
  let scenario: Snapshot | undefined;
  let solved: Snapshot | undefined;
  try {
    step('reset');
    await lab.reset(id);
    step('auditors on the scenario');
    scenario = await auditSnapshot(lab, lesson, tools, { benchChecks });
    step('apply the reference solution');
    await lab.solution(id, { apply: true });
    step('auditors on the solved state');
    solved = await solvedSnapshot(lab, lesson, tools, benchChecks);
  } catch (e) {
    errors.push(errorMessage(e));
  }
  try {
    await lab.remove(id);
  } catch (e) {
    errors.push(`clean up: ${errorMessage(e)}`);
  }
  return conclude(lab, lesson, scenario, solved, errors, t0);
}

/**
 * `dev verify` and `dev audit` in one pass over the same states: the auditors read the scenario
 * once verify has seen its checks fail, and the solved state once verify has seen them pass — no
 * reset of their own (the kind suite, where each control-plane reset takes minutes). Judged
 * exactly as `auditLesson` judges.
 */
export async function verifyAndAudit(
  lab: Lab,
  id: string,
  opts: AuditOptions & { verify?: VerifyOptions } = {},
): Promise<{ verify: VerifyResult; audit: AuditResult }> {
  const t0 = performance.now();
  const lesson = lab.lesson(id);
  const run = declaresSomething(lesson) || !!opts.full;
  const tools = run ? (opts.tools ?? findAuditors(lab.env)) : undefined;
  const benchChecks = opts.full ? undefined : benchChecksFor(lesson.audit);
  let scenario: Snapshot | undefined;
  let solved: Snapshot | undefined;
  const said = (s: Snapshot) => `${s.kubeScore.length + s.kubeBench.length} verdicts in ${s.durationMs} ms`;
  const verify = await verifyLesson(lab, id, {
    ...opts.verify,
    ...(tools
      ? {
          atScenario: async () => said((scenario = await auditSnapshot(lab, lesson, tools, { benchChecks }))),
          atSolved: async () => said((solved = await solvedSnapshot(lab, lesson, tools, benchChecks))),
        }
      : {}),
  });
  if (verify.skipped) return { verify, audit: { ...emptyResult(id), skipped: verify.skipped } };
  if (!tools) return { verify, audit: { ...emptyResult(id), skipped: NOTHING_DECLARED } };
  const errors =
    scenario && solved
      ? []
      : [
          `verify stopped before the auditors read both states: ${
            verify.steps
              .filter((s) => !s.ok)
              .map((s) => `${s.name}: ${s.detail}`)
              .join('; ') || 'no failing step'
          }`,
        ];
  return { verify, audit: await conclude(lab, lesson, scenario, solved, errors, t0) };
}
