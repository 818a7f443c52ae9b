import type { CheckContext } from '../checks/types.js';
import type { Attack, AttackStepSpec } from './loader.js';
import type { AttackResult, AttackStepResult, AttackContext } from './types.js';
import { showEvidence } from './redact.js';
import { apiRequest } from './request.js';
import { apiError } from '../kube/errors.js';
import { ClusterUnreachableError, GuardError, UserError, errorMessage } from '../errors.js';

const STEP_TIMEOUT_MS = 20_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new ClusterUnreachableError(`no answer within ${ms / 1000}s`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/**
 * How a step ended, for the verdict: it worked; a defence stopped it (it failed, or a step it builds
 * on was stopped); nobody knows (it errored, or builds on one that did); or this engine cannot run it.
 */
type Outcome = 'worked' | 'blocked' | 'unknown' | 'unsupported';
/** A step's outcome, why, and which step it was decided at (the step itself or one it builds on). */
interface Decided {
  outcome: Outcome;
  why: string;
  at: string;
}

/**
 * Run a lesson's attack against the cluster as it is now, step by step, as the attacker would: each
 * step that builds on another runs only if that one worked. The attack succeeded when a goal step did;
 * it fails only when a defence stopped every goal step this engine can run — a goal step that errored
 * (the cluster stopped answering, say) proves nothing, and the attack "could not run".
 * Everything it creates is a dry run or a pod it deletes; secret values leave it redacted.
 */
export async function runAttack(ctx: CheckContext, attack: Attack, opts: { onStep?: (s: AttackStepResult) => void } = {}): Promise<AttackResult> {
  const t0 = performance.now();
  const actx: AttackContext = { ...ctx, vars: new Map() };
  const steps: AttackStepResult[] = [];
  const outcome = new Map<string, Decided>();
  /** Set once the API server stops answering: the steps after it are not tried (each would wait its whole time out). */
  let hung: string | undefined;
  for (const s of attack.steps) {
    const { result: r, outcome: o } = hung
      ? { result: skipped(s, attack, `not tried: the cluster stopped answering (${hung})`), outcome: { outcome: 'unknown' as const, why: hung, at: s.try } }
      : await runStep(actx, s, outcome, attack.goal.includes(s.id));
    outcome.set(s.id, o);
    // A step found the cluster unreachable: the API server itself, or only what that step talks to (etcd's port, say)?
    if (r.status === 'error' && /^cluster unreachable/.test(r.message) && !(await apiAnswers(ctx))) hung = r.message;
    steps.push(r);
    opts.onStep?.(r);
  }
  const goal = steps.filter((s) => s.goal);
  const of = (s: AttackStepResult) => outcome.get(s.id)!;
  const won = goal.filter((s) => s.succeeded);
  const unknown = goal.filter((s) => of(s).outcome === 'unknown');
  const blocked = goal.filter((s) => of(s).outcome === 'blocked');
  const base = {
    lesson: ctx.lessonId,
    title: attack.title,
    story: attack.story,
    engine: ctx.engine.name,
    steps,
    durationMs: Math.round(performance.now() - t0),
  };
  if (won.length) {
    const w = won[0];
    return { ...base, succeeded: true, summary: `${w.title}: ${w.evidence[0] ?? w.message}` };
  }
  if (unknown.length || !blocked.length) {
    const why = unknown.length ? of(unknown[0]).why : goal.length ? of(goal[0]).why : 'no goal step ran';
    return { ...base, succeeded: false, skipped: why, summary: `could not run: ${why}` };
  }
  const stop = blocked.find((s) => s.status === 'failed') ?? blocked[0];
  return { ...base, succeeded: false, summary: `stopped: ${of(stop).at} — ${of(stop).why}` };
}

/** Whether the API server answers at all (any HTTP status) within 3 s. */
async function apiAnswers(ctx: CheckContext): Promise<boolean> {
  try {
    await withTimeout(apiRequest(ctx.cluster, { anonymous: true }, 'GET', '/livez', undefined, { timeoutMs: 3000 }), 3500);
    return true;
  } catch {
    return false;
  }
}

function skipped(s: AttackStepSpec, attack: Attack, message: string): AttackStepResult {
  return { id: s.id, title: s.try, type: s.type, goal: attack.goal.includes(s.id), succeeded: false, status: 'skipped', message, evidence: [], durationMs: 0 };
}

async function runStep(
  ctx: AttackContext,
  s: AttackStepSpec,
  done: Map<string, Decided>,
  goal: boolean,
): Promise<{ result: AttackStepResult; outcome: Decided }> {
  const base = { id: s.id, title: s.try, type: s.type, goal };
  const skip = (message: string, outcome: Outcome, why: string, at = s.try) => ({
    result: { ...base, succeeded: false, status: 'skipped' as const, message, evidence: [], durationMs: 0 },
    outcome: { outcome, why, at },
  });
  // A step that builds on one a defence stopped is stopped too; on one that errored, nobody knows.
  for (const want of ['unknown', 'unsupported', 'blocked'] as const) {
    const n = s.needs.find((x) => done.get(x)?.outcome === want);
    if (n)
      return skip(
        `needs step ${n}, which ${want === 'blocked' ? 'was stopped' : want === 'unknown' ? 'could not run' : 'cannot run here'}`,
        want,
        done.get(n)!.why,
        done.get(n)!.at,
      );
  }
  if (s.engines && !s.engines.includes(ctx.engine.name as 'local' | 'kind')) {
    const m = `runs on the ${s.engines.join(' and the ')} engine${s.engines.length > 1 ? 's' : ''}; this lab runs on ${ctx.engine.name}`;
    return skip(m, 'unsupported', m);
  }
  if (!ctx.engine.supports(s.requires)) {
    const m = `needs a real node and network (the kind engine); this lab runs on ${ctx.engine.name}`;
    return skip(m, 'unsupported', m);
  }
  const t0 = performance.now();
  try {
    const params = ctx.cluster.rename.value(s.params);
    const out = await withTimeout(s.kind.run(ctx, params), s.kind.timeoutMs?.(params) ?? STEP_TIMEOUT_MS);
    for (const [k, v] of Object.entries(out.vars ?? {})) ctx.vars.set(k, v);
    return {
      result: {
        ...base,
        succeeded: out.succeeded,
        status: out.succeeded ? 'succeeded' : 'failed',
        message: out.message,
        evidence: (out.evidence ?? []).map(showEvidence),
        note: out.succeeded ? s.next : s.blocked,
        durationMs: Math.round(performance.now() - t0),
      },
      outcome: { outcome: out.succeeded ? 'worked' : 'blocked', why: out.message, at: s.try },
    };
  } catch (e) {
    const info = e instanceof UserError || e instanceof GuardError || e instanceof ClusterUnreachableError ? { message: errorMessage(e) } : unreachableOr(e);
    return {
      result: { ...base, succeeded: false, status: 'error', message: info.message, evidence: [], durationMs: Math.round(performance.now() - t0) },
      outcome: { outcome: 'unknown', why: info.message, at: s.try },
    };
  }
}

/** A network failure reads as the cluster not answering; anything else as the API's own message. */
function unreachableOr(e: unknown): { message: string } {
  const info = apiError(e);
  return { message: info.unreachable ? `cluster unreachable: ${info.message}` : info.message };
}
