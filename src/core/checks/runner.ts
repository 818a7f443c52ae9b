import type { CheckContext, CheckResult } from './types.js';
import type { Lesson, CheckSpec } from '../lessons/loader.js';
import type { Engine } from '../engine/index.js';
import { apiError } from '../kube/errors.js';
import { UserError, ClusterUnreachableError, GuardError } from '../errors.js';

export interface LessonResult {
  lesson: string;
  passed: boolean;
  durationMs: number;
  /** Some check could not reach the cluster: the result says nothing about the fix. */
  unreachable: boolean;
  checks: CheckResult[];
}

const TIMEOUT_MS = 15_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new ClusterUnreachableError(`no answer within ${ms / 1000}s`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

export async function runCheck(ctx: CheckContext, engine: Engine, spec: CheckSpec): Promise<CheckResult> {
  const base = { id: spec.id, title: spec.title, objective: spec.objective, type: spec.type, requires: spec.requires };
  if (spec.engines && !spec.engines.includes(engine.name)) {
    return {
      ...base,
      passed: false,
      status: 'skipped',
      message: `checked on the ${spec.engines.join('/')} engine; this lab runs on ${engine.name}`,
      durationMs: 0,
    };
  }
  if (!engine.supports(spec.requires)) {
    return {
      ...base,
      passed: false,
      status: 'skipped',
      message: `needs the kind engine (a real node and network); this lab runs on ${engine.name}`,
      durationMs: 0,
    };
  }
  const t0 = performance.now();
  try {
    // A shared cluster's namespaces are P-N: the check's namespaces (and ServiceAccounts, DNS names) with them.
    const params = ctx.cluster.rename.value(spec.params);
    const out = await withTimeout(spec.primitive.run(ctx, params), spec.primitive.timeoutMs?.(params) ?? TIMEOUT_MS);
    return { ...base, passed: out.passed, status: out.passed ? 'passed' : 'failed', message: out.message, durationMs: Math.round(performance.now() - t0) };
  } catch (e) {
    const durationMs = Math.round(performance.now() - t0);
    if (e instanceof GuardError) return { ...base, passed: false, status: 'error', message: e.message, durationMs };
    if (e instanceof ClusterUnreachableError) return { ...base, passed: false, status: 'unreachable', message: e.message, durationMs };
    if (e instanceof UserError) return { ...base, passed: false, status: 'error', message: e.message, durationMs };
    const info = apiError(e);
    if (info.unreachable) return { ...base, passed: false, status: 'unreachable', message: `cluster unreachable: ${info.message}`, durationMs };
    return { ...base, passed: false, status: 'error', message: `check could not run: ${info.message}`, durationMs };
  }
}

/** Run a lesson's checks concurrently. Passed = every check this engine can run passed. */
export async function runChecks(ctx: CheckContext, engine: Engine, lesson: Lesson): Promise<LessonResult> {
  const t0 = performance.now();
  const checks = await Promise.all(lesson.checks.map((c) => runCheck(ctx, engine, c)));
  const runnable = checks.filter((c) => c.status !== 'skipped');
  return {
    lesson: lesson.id,
    passed: runnable.length > 0 && runnable.every((c) => c.passed),
    durationMs: Math.round(performance.now() - t0),
    unreachable: checks.some((c) => c.status === 'unreachable'),
    checks,
  };
}
