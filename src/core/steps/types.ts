import type { z } from 'zod';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ScenarioContext } from '../scenarios/objects.js';
import type { LabNames } from '../lessons/placeholders.js';

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

/**
 * How a person does a step by hand, as `solution` shows it: a shell command to run as written (in
 * the shell `kube-seclab env` sets up: the lab's kubeconfig, kubectl on PATH), or — where no one
 * command does it (a file on the node, a control-plane flag, a kubelet setting) — what to do.
 */
export type ByHand = { run: string } | { todo: string };

/** What `byHand` may name: the lab's names and where the shown solution's files are. */
export interface ByHandContext {
  names: LabNames;
  /** A file or folder of the step's own folder (relative), as the learner reaches it: where the lab saved its shown copy. */
  file(relative: string): string;
  /** The command that applies manifests (a file or folder path) as the lab does. */
  applyCommand(path: string): string;
}

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
  /** How a person does it (its parameters as this cluster names namespaces): what `solution` shows. */
  byHand(p: P, h: ByHandContext): ByHand;
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
  /** A shortcut's checks that fail on every engine (stepsFileSchema says more). */
  caughtBy?: string[];
  steps: StepSpec[];
}
