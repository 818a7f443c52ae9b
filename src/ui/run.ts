import type { EngineName } from '../core/engine/index.js';
import type { ExamOptions } from '../core/exam.js';
import type { ExistingOptions } from '../core/engine/index.js';

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';

/**
 * Entry of the TUI: `kube-seclab` with no command, on a TTY (src/cli/main.ts checks that).
 * Returns the exit code: 0 quit, 2 the lab could not start, 130 interrupted while provisioning.
 */
export async function runTui(opts: { env: NodeJS.ProcessEnv; engine?: EngineName; existing?: ExistingOptions; exam?: ExamOptions }): Promise<number> {
  const out = process.stdout;
  // The lab's own screen (the learner's scrollback is back as it was on exit), and a first frame
  // at once: Ink and React take a few hundred ms to load; the same title and line then stay put.
  let restored = false;
  const restore = () => {
    if (!restored) {
      restored = true;
      out.write(`\x1b[?25h${ALT_SCREEN_OFF}`);
    }
  };
  process.once('exit', restore);
  const color = !opts.env.NO_COLOR && opts.env.FORCE_COLOR !== '0' && opts.env.TERM !== 'dumb';
  const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[22m` : s);
  const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[22m` : s);
  out.write(`${ALT_SCREEN_ON}\x1b[2J\x1b[H\x1b[?25l${bold('kube-seclab')} ${dim('— a Kubernetes security lab')}\r\n\r\n  Opening the lab…`);

  // Ink decides once, at import, whether it runs "in CI" — and then draws nothing until it exits.
  // Both ends are a terminal here, so a CI variable inherited from a build shell must not blank the screen.
  const saved = { CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION };
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  let startTui: typeof import('./app.js').startTui;
  try {
    ({ startTui } = await import('./app.js'));
  } catch (e) {
    restore();
    throw e;
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  }
  let code: number;
  try {
    code = await startTui({ ...opts, leaveScreen: restore });
  } finally {
    restore();
  }
  // A watch's keep-alive socket must not hold the process once the screen is gone.
  setTimeout(() => process.exit(code), 1500).unref();
  return code;
}
