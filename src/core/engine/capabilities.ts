import { UserError } from '../errors.js';
import type { ControlPlaneAccess, Engine } from './engine.js';

/** The control plane of an engine that owns one; an engine without (a shared cluster) is a clear error. */
export function controlPlaneOf(engine: Engine): ControlPlaneAccess {
  if (!engine.controlPlane)
    throw new UserError(
      'a shared cluster gives the lab no access to its control plane or nodes',
      'lessons that change the control plane run on `--engine local` or `--engine kind`',
    );
  return engine.controlPlane;
}
