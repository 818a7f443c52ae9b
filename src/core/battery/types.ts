import type { KubernetesObject } from '@kubernetes/client-node';
import type { Lesson } from '../lessons/loader.js';
import type { ScenarioContext } from '../scenarios/apply.js';
import type { EngineName } from '../engine/index.js';

/** Puts back what a generic shortcut changed, so the next one starts from the solved state again. */
export type Undo = () => Promise<void>;

/**
 * One generic shortcut, made for one lesson from a template: applied on top of the reference
 * solution, it must make a check fail (`dev verify` proves it), then it is undone.
 */
export interface GenericShortcut {
  /** The template's id (what a lesson's `battery.skip` names). */
  template: string;
  /** Unique within the lesson, e.g. `scale-to-zero shop/api`. */
  name: string;
  /** What the cheap fix does, in the learner's words. */
  description: string;
  /** Only on these engines (default: every engine). */
  engines?: EngineName[];
  /** It writes cluster-scoped objects or outside the lesson's namespaces (not run on a shared cluster). */
  clusterScoped?: boolean;
  /** Apply it on top of the solved state, wait until what it changed has settled, and return its undo. */
  apply(ctx: ScenarioContext): Promise<Undo>;
}

/** What a template sees of a lesson: its data and its scenario's objects (as written, before renaming). */
export interface BatteryInput {
  lesson: Lesson;
  /** The objects of scenarios/<id>/*.yaml. */
  scenario: KubernetesObject[];
  /** The objects of the solution's own manifests (not what its steps do). */
  solution: KubernetesObject[];
  /**
   * The live workloads (Deployments, StatefulSets, DaemonSets) of the lesson's namespaces right after
   * the scenario was set up — the insecure originals as they really ran (built images included),
   * ready to be created again (no status or server-set fields).
   */
  unsolved: KubernetesObject[];
}

/**
 * A shortcut template applied to every lesson of a kind: the lessons it finds something to work on
 * in (their checks' parameters, their scenario's objects). Templates that only some lessons of a
 * kind can be judged by are `optIn`: a lesson lists them in `battery.add`.
 */
export interface ShortcutTemplate {
  id: string;
  description: string;
  optIn?: boolean;
  instances(input: BatteryInput): GenericShortcut[];
}
