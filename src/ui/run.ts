import type { EngineName } from '../engines/types.js';

/** Entry of the Ink TUI (being written; see issue 4). */
export async function runTui(_opts: { env: NodeJS.ProcessEnv; engine?: EngineName }): Promise<number> {
  process.stderr.write('kube-seclab: the lab screen is not in this build yet; use the subcommands (see --help)\n');
  return 2;
}
