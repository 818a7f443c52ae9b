import type { z } from 'zod';
import type { CheckContext } from '../checks/types.js';
import type { Requirement } from '../engine/index.js';

/** What an attack step works with: the lab's cluster and engine (as a check does), and what earlier steps found. */
export interface AttackContext extends CheckContext {
  /** Loot of earlier steps by name (a stolen token, a pod's IP…), never printed whole. */
  vars: Map<string, string>;
}

/** One value an attacker got, as shown: secret ones redacted to their first characters. */
export interface Evidence {
  label: string;
  value: string;
  secret?: boolean;
}

export interface StepOutcome {
  /** The step did what the attacker wanted. */
  succeeded: boolean;
  /** What happened, in a line: the request and the answer ("GET /api/v1/secrets → 200 OK"). */
  message: string;
  /** What the attacker got (shown redacted where secret). */
  evidence?: Evidence[];
  /** Loot for later steps. */
  vars?: Record<string, string>;
}

/** One kind of attack step: data in attack.yaml, behaviour here (as check primitives are). */
export interface AttackStepKind<P = any> {
  type: string;
  schema: z.ZodType<P>;
  /** What it needs from the engine (default: api). */
  requires?: (p: P) => Requirement;
  /** Whether it reads the control plane's files or etcd (engines without one cannot run it). */
  controlPlane?: boolean;
  /** How long it may take (default 20 s). */
  timeoutMs?: (p: P) => number;
  run(ctx: AttackContext, p: P): Promise<StepOutcome>;
}

export type AttackStepStatus = 'succeeded' | 'failed' | 'skipped' | 'error';

export interface AttackStepResult {
  id: string;
  /** What the attacker tried, in their words. */
  title: string;
  type: string;
  succeeded: boolean;
  status: AttackStepStatus;
  message: string;
  /** Redacted, ready to print. */
  evidence: string[];
  /** What this gives the attacker next (when it succeeded) or why it stopped them (when not). */
  note?: string;
  goal: boolean;
  durationMs: number;
}

export interface AttackResult {
  lesson: string;
  title: string;
  story: string;
  engine: string;
  /** At least one goal step succeeded: the weakness is still there. */
  succeeded: boolean;
  /** No goal step could run on this engine (they need kind): the attack says nothing here. */
  skipped?: string;
  /** The outcome in one line, for messages and the progress file. */
  summary: string;
  steps: AttackStepResult[];
  durationMs: number;
}
