import type { z } from 'zod';
import type { LabCluster } from '../kube/client.js';
import type { Engine, Requirement } from '../engine/index.js';

export interface CheckContext {
  cluster: LabCluster;
  engine: Engine;
  /** The lesson's folder, for files a check refers to. */
  lessonDir: string;
  lessonId: string;
  /** The lab's workspace folder (files handed to the learner on their own machine). */
  workspace: string;
}

export interface CheckScope {
  namespaces: string[];
  labelsOf?: string[];
}

export interface CheckOutcome {
  passed: boolean;
  message: string;
}

/** A resource a check depends on, so watch mode knows what to watch. */
export interface WatchTarget {
  apiVersion: string;
  kind: string;
  namespace?: string;
}

/** One kind of check: data in lesson.yaml, behaviour here. */
export interface CheckPrimitive<P = any> {
  type: string;
  schema: z.ZodType<P>;
  /** What the check needs from the engine (default: api). */
  requires?: (p: P) => Requirement;
  /** What it reads, for watch mode. Control-plane files are watched through the engine. */
  watches?: (p: P) => WatchTarget[];
  /** How long it may take before the runner gives up (default 15 s). */
  timeoutMs?: (p: P) => number;
  /** Whether it depends on control-plane files (manifests, node files, etcd). */
  controlPlane?: boolean;
  /**
   * Shared-cluster mode: the namespaces whose objects the check reads or writes (`namespaces`), and
   * those of which it only reads the Namespace object's labels (`labelsOf`); or why it needs more
   * than namespaces (a string). Absent: it needs the control plane, a node or cluster-scoped objects.
   */
  scope?: (p: P) => CheckScope | string;
  run(ctx: CheckContext, p: P): Promise<CheckOutcome>;
}

export type CheckStatus = 'passed' | 'failed' | 'unreachable' | 'skipped' | 'error';

export interface CheckResult {
  id: string;
  title: string;
  objective?: string;
  type: string;
  passed: boolean;
  status: CheckStatus;
  message: string;
  durationMs: number;
  requires: Requirement;
}
