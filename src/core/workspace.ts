import { resolve, sep } from 'node:path';
import { UserError } from './errors.js';

/** A path in the lab's workspace folder (files handed to the learner on their own machine); never outside it. */
export function workspaceFile(ctx: { workspace: string }, path: string): string {
  const full = resolve(ctx.workspace, path);
  if (!full.startsWith(resolve(ctx.workspace) + sep)) throw new UserError(`workspace path ${path} leaves the workspace`);
  return full;
}
