import type { HostRequirement, RequirementContext } from '../../core/engine/index.js';

/**
 * What the existing engine needs of this machine: nothing the lab installs — the instructor's
 * kubeconfig and context are given to `up` (--kubeconfig, --context) and checked there.
 */
export function existingRequirements(_ctx: RequirementContext): HostRequirement[] {
  return [];
}
