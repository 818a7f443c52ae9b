import { execa } from 'execa';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Whether a file (not a folder) exists and may be run. */
export function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A command on PATH (the first executable of that name), or undefined. */
export function onPath(cmd: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

/** The first line a tool prints for a version command, or undefined when it fails or is not there. */
export async function toolVersion(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const r = await execa(cmd, args, { timeout: 5000, reject: false });
    return r.exitCode === 0 ? (r.stdout || r.stderr).split('\n')[0].trim() : undefined;
  } catch {
    return undefined;
  }
}
