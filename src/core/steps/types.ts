import type { z } from 'zod';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ScenarioContext } from '../scenarios/objects.js';

/** What a step works with: the lab's cluster, engine and workspace, the folder it comes from, the lesson. */
export interface StepContext extends ScenarioContext {
  /** The folder the steps file is in (a scenario, the solution, a shortcut): its `file:` references are relative to it. */
  dir: string;
  lessonId: string;
}

/** An object a step writes or deletes, as far as the shared-cluster scope needs it. */
export type ObjectRef = Pick<KubernetesObject, 'kind'> & { metadata?: { name?: string; namespace?: string } };

/**
 * Shared-cluster mode: what a step touches in the cluster — objects (judged by kind and namespace)
 * and namespaces it reads or writes in. Empty: nothing in the cluster (a workspace file).
 */
export interface StepScope {
  objects?: ObjectRef[];
  namespaces?: string[];
}

/**
 * What a lesson's `reset:` must list so that a reset undoes a step. Objects a step makes in the
 * cluster need nothing: a reset empties the lesson's namespaces and sweeps what carries its label.
 */
export type ResetNeed = { controlPlane: string } | { nodeFile: string } | { kubelet: true } | { workspace: string };

/** One kind of step: data in a steps file, behaviour here (as check primitives are). */
export interface StepKind<P = any> {
  type: string;
  schema: z.ZodType<P>;
  /** Do it. */
  run(ctx: StepContext, p: P): Promise<void>;
  /** What a reset must put back after it (checked when lessons load). Absent: nothing beyond the lesson's namespaces and labelled objects. */
  undo?: (p: P) => ResetNeed[];
  /**
   * Shared-cluster mode: what it touches (objects read from `dir` where it applies files), or why
   * it cannot run confined to namespaces (a string). Absent: it changes a node or the control plane.
   */
  scope?: (p: P, dir: string) => Promise<StepScope | string> | StepScope | string;
  /** The files or folders of its own folder it reads (relative): shown with the solution, checked to exist. */
  files?: (p: P) => string[];
}

/** One step of a steps file, validated: its kind and parameters, and where it is written. */
export interface StepSpec {
  type: string;
  params: unknown;
  kind: StepKind;
  /** The steps file (as given to the loader) and the step's line in it. */
  file: string;
  line?: number;
}

/** A steps file, validated. */
export interface StepsFile {
  /** Its path (as given to the loader). */
  file: string;
  description?: string;
  /** The engines it means something on; undefined: every engine. */
  engines?: string[];
  steps: StepSpec[];
}
