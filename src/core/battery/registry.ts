import type { GenericShortcut, ShortcutTemplate, BatteryInput } from './types.js';
import { scaleToZero, deleteWorkload, recreateUnfixed, insecureSibling } from './workloads.js';
import { RBAC_TEMPLATES } from './rbac.js';
import { SECRET_TEMPLATES } from './secrets.js';
import { netpolAllowAll, netpolAnyNamespace, netpolSelectsNothing, netpolElsewhere } from './network.js';
import { privilegedPod, insecureCronJob, privilegedEphemeral } from './podSecurity.js';
import { bindingWarnOnly, bindingExistingNamespaces, policyCreateOnly, policyWithoutEphemeral, webhookFailOpen, webhookWithoutEphemeral } from './admission.js';

/**
 * Every generic shortcut template. `dev verify` applies each instance to a lesson on top of its
 * reference solution: a check must fail. Adding one = a module + a line here.
 */
export const TEMPLATES: ShortcutTemplate[] = [
  scaleToZero,
  deleteWorkload,
  recreateUnfixed,
  insecureSibling,
  netpolAllowAll,
  netpolAnyNamespace,
  netpolSelectsNothing,
  netpolElsewhere,
  privilegedPod,
  insecureCronJob,
  privilegedEphemeral,
  bindingWarnOnly,
  bindingExistingNamespaces,
  policyCreateOnly,
  policyWithoutEphemeral,
  webhookFailOpen,
  webhookWithoutEphemeral,
  ...RBAC_TEMPLATES,
  ...SECRET_TEMPLATES,
];

export const templateIds = () => TEMPLATES.map((t) => t.id);

/** The generic shortcuts of a lesson: every automatic template, the opt-in ones it adds, minus those it skips (with a reason). */
export function genericShortcuts(input: BatteryInput): GenericShortcut[] {
  const { add, skip } = input.lesson.battery;
  return TEMPLATES.filter((t) => (!t.optIn || add.includes(t.id)) && !(t.id in skip)).flatMap((t) => t.instances(input));
}
