import type { CheckContext } from '../checks/types.js';
import type { Attack, AttackStepSpec } from './loader.js';
import type { AttackResult, AttackStepResult, AttackContext } from './types.js';
import { showEvidence } from './redact.js';
import { apiError } from '../kube/errors.js';
import { ClusterUnreachableError, GuardError, UserError, errorMessage } from '../errors.js';

const STEP_TIMEOUT_MS = 20_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => { t = setTimeout(() => rej(new ClusterUnreachableError(`no answer within ${ms / 1000}s`)), ms); })]).finally(() => clearTimeout(t));
}

/**
 * Run a lesson's attack against the cluster as it is now, step by step, as the attacker would: each
 * step that builds on another runs only if that one worked. The attack succeeded when a goal step did.
 * Everything it creates is a dry run or a pod it deletes; secret values leave it redacted.
 */
export async function runAttack(ctx: CheckContext, attack: Attack, opts: { onStep?: (s: AttackStepResult) => void } = {}): Promise<AttackResult> {
  const t0 = performance.now();
  const actx: AttackContext = { ...ctx, vars: new Map() };
  const steps: AttackStepResult[] = [];
  const status = new Map<string, AttackStepResult['status']>();
  for (const s of attack.steps) {
    const r = await runStep(actx, s, status, attack.goal.includes(s.id));
    status.set(s.id, r.status);
    steps.push(r);
    opts.onStep?.(r);
  }
  const goal = steps.filter((s) => s.goal);
  const won = goal.filter((s) => s.succeeded);
  const ran = goal.filter((s) => s.status === 'succeeded' || s.status === 'failed');
  const base = { lesson: ctx.lessonId, title: attack.title, story: attack.story, engine: ctx.engine.name, steps, durationMs: Math.round(performance.now() - t0) };
  if (won.length) {
    const w = won[0];
    return { ...base, succeeded: true, summary: `${w.title}: ${w.evidence[0] ?? w.message}` };
  }
  if (!ran.length) {
    const why = goal.find((s) => s.status === 'error') ?? goal[0];
    return { ...base, succeeded: false, skipped: why?.message ?? 'no goal step ran', summary: `could not run: ${why?.message ?? 'no goal step ran'}` };
  }
  return { ...base, succeeded: false, summary: `stopped: ${ran[0].title} — ${ran[0].message}` };
}

async function runStep(ctx: AttackContext, s: AttackStepSpec, done: Map<string, AttackStepResult['status']>, goal: boolean): Promise<AttackStepResult> {
  const base = { id: s.id, title: s.try, type: s.type, goal };
  const skip = (message: string): AttackStepResult => ({ ...base, succeeded: false, status: 'skipped', message, evidence: [], durationMs: 0 });
  const missing = s.needs.find((n) => done.get(n) !== 'succeeded');
  if (missing) return skip(`needs step ${missing}, which did not succeed`);
  if (!ctx.engine.supports(s.requires)) return skip(`needs a real node and network (the kind engine); this lab runs on ${ctx.engine.name}`);
  const t0 = performance.now();
  try {
    const params = ctx.cluster.rename.value(s.params);
    const out = await withTimeout(s.kind.run(ctx, params), s.kind.timeoutMs?.(params) ?? STEP_TIMEOUT_MS);
    for (const [k, v] of Object.entries(out.vars ?? {})) ctx.vars.set(k, v);
    return {
      ...base, succeeded: out.succeeded, status: out.succeeded ? 'succeeded' : 'failed', message: out.message,
      evidence: (out.evidence ?? []).map(showEvidence), note: out.succeeded ? s.next : s.blocked,
      durationMs: Math.round(performance.now() - t0),
    };
  } catch (e) {
    const info = e instanceof UserError || e instanceof GuardError || e instanceof ClusterUnreachableError ? { message: errorMessage(e) } : apiError(e);
    return { ...base, succeeded: false, status: 'error', message: info.message, evidence: [], durationMs: Math.round(performance.now() - t0) };
  }
}
