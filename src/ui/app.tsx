import React, { useEffect, useMemo } from 'react';
import { Box, render, useApp } from 'ink';
import { KeyRouterContext, useKeyRouter, type KeyRouter } from './hooks/useKeys.js';
import type { Lab } from '../core/lab.js';
import type { EngineName } from '../core/engine/index.js';
import type { ExistingOptions } from '../core/engine/index.js';
import { createStore, initialState, StoreContext, useAppState, useDispatch, type Store } from './store.js';
import { createLabEffects, type EffectDeps, type LabPort } from './effects.js';
import { createTheme, ThemeContext, type Theme } from './theme.js';
import { commandFor } from './keymap.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';
import { loadMarkdown } from './hooks/useMarkdown.js';
import { StartupScreen } from './screens/Startup.js';
import { HomeScreen } from './screens/Home.js';
import { LessonScreen } from './screens/Lesson.js';
import { HelpScreen } from './screens/Help.js';
import { ExamScreen } from './screens/Exam.js';
import { formatClock } from '../core/workshop-rules.js';
import type { ExamOptions } from '../core/exam.js';

// The real Lab is what the effects drive; this line fails to compile if the two drift apart.
const _labIsAPort = (l: Lab): LabPort => l;
void _labIsAPort;

function Root() {
  const s = useAppState();
  const dispatch = useDispatch();
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();

  useEffect(() => {
    dispatch({ type: 'app/init' });
  }, []);
  useEffect(() => {
    if (s.exitCode !== undefined) exit();
  }, [s.exitCode]);
  // Markdown rendering is loaded once the lab is up, off the path to the first frame.
  useEffect(() => {
    if (s.screen !== 'startup') void loadMarkdown();
  }, [s.screen]);
  const router = useMemo<KeyRouter>(() => ({ stack: [] }), []);
  useKeyRouter(router, (input, key) => {
    if (commandFor(['global'], input, key) === 'app.interrupt') dispatch({ type: 'app/interrupt' });
  });

  // One line short of the terminal: a frame as tall as the terminal makes Ink clear the screen on every update.
  const height = Math.max(8, rows - 1);
  return (
    <KeyRouterContext.Provider value={router}>
      <Box flexDirection="column" width={columns} height={height} overflow="hidden">
        {s.screen === 'startup' ? (
          <StartupScreen width={columns} />
        ) : s.screen === 'lesson' && s.lesson ? (
          <LessonScreen width={columns} height={height} />
        ) : s.screen === 'help' ? (
          <HelpScreen width={columns} />
        ) : s.screen === 'exam' && s.exam ? (
          <ExamScreen width={columns} />
        ) : (
          <HomeScreen width={columns} />
        )}
      </Box>
    </KeyRouterContext.Provider>
  );
}

export function App({ store, theme }: { store: Store; theme: Theme }) {
  return (
    <ThemeContext.Provider value={theme}>
      <StoreContext.Provider value={store}>
        <Root />
      </StoreContext.Provider>
    </ThemeContext.Provider>
  );
}

/** Build the store with the Lab's effects: what run.ts renders, and what UI tests render with a fake Lab. */
export function createAppStore(deps: EffectDeps): Store {
  return createStore(initialState(), createLabEffects(deps));
}

/** The TUI on the real terminal (run.ts prepares it); resolves with the exit code. */
export async function startTui(opts: {
  env: NodeJS.ProcessEnv;
  engine?: EngineName;
  existing?: ExistingOptions;
  exam?: ExamOptions;
  leaveScreen: () => void;
}): Promise<number> {
  const { env } = opts;
  const theme = createTheme(env);
  const store = createAppStore({
    openLab: async () => {
      const [{ Lab }, { engines }] = await Promise.all([import('../core/lab.js'), import('../engines/index.js')]);
      return Lab.open({ engines, env, engine: opts.engine, existing: opts.existing });
    },
    preflight: async (lab) => {
      const [{ preflight }, { engines }, { labPaths }] = await Promise.all([
        import('./preflight.js'),
        import('../engines/index.js'),
        import('../core/paths.js'),
      ]);
      return preflight(lab.engineName, engines, env, labPaths(env).cache);
    },
    exam: opts.exam,
  });
  // run.ts has switched to the alternate screen and drawn a first line; Ink redraws from the top.
  process.stdout.write('\x1b[2J\x1b[H');
  // Library chatter (console.*, Node warnings) must not scribble over the screen: kept, and shown
  // after the TUI exits under KUBE_SECLAB_DEBUG=1.
  const chatter: string[] = [];
  const keep = (...args: unknown[]) => {
    if (chatter.length < 200) chatter.push(args.map(String).join(' '));
  };
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  Object.assign(console, { log: keep, info: keep, warn: keep, error: keep, debug: keep });
  const warningListeners = process.listeners('warning');
  process.removeAllListeners('warning');
  const onWarning = (w: Error) => keep(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  const onSignal = () => store.dispatch({ type: 'app/interrupt' });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, onSignal);
  const ink = render(<App store={store} theme={theme} />, { exitOnCtrlC: false, patchConsole: false });
  try {
    await ink.waitUntilExit();
  } finally {
    for (const sig of signals) process.off(sig, onSignal);
    Object.assign(console, saved);
    process.off('warning', onWarning);
    for (const l of warningListeners) process.on('warning', l as (w: Error) => void);
    opts.leaveScreen();
  }
  if (env.KUBE_SECLAB_DEBUG && chatter.length) process.stderr.write(`${chatter.join('\n')}\n`);
  // Back on the learner's own screen: what they need to know after the lab screen is gone.
  const st = store.getState();
  if (st.error?.bug && env.KUBE_SECLAB_DEBUG && st.error.stack) process.stderr.write(`${st.error.stack}\n`);
  if (st.startup.phase === 'cancelling' || st.exitCode === 130) {
    process.stderr.write('kube-seclab: stopped while setting up the cluster; the next `kube-seclab` resumes (or `kube-seclab down` removes it)\n');
  } else if (st.exam && st.exam.phase !== 'finished' && st.exam.phase !== 'intro' && st.exam.phase !== 'planning') {
    const left = st.exam.deadline !== undefined ? `${formatClock(st.exam.deadline - Date.now())} left` : 'the clock is running';
    process.stderr.write(`kube-seclab: the exam keeps running (${left}); \`kube-seclab exam\` resumes it, \`kube-seclab exam submit\` hands it in\n`);
  } else if ((st.exitCode ?? 0) === 0 && st.cluster?.healthy && st.engine) {
    process.stderr.write(
      `kube-seclab: the ${st.engine.name} cluster keeps running (\`kube-seclab down\` stops it); in your own shell: ${st.engine.envCommand ?? `export KUBECONFIG=${st.engine.kubeconfig}`}\n`,
    );
  }
  return st.exitCode ?? 0;
}
