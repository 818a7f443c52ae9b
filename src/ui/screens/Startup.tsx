import React from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../hooks/useKeys.js';
import { useAppState, useDispatch, useStoreApi } from '../store.js';
import { useTheme } from '../theme.js';
import { commandFor } from '../keymap.js';
import { TaskList } from '../components/TaskList.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { Spinner } from '../components/Spinner.js';
import { StatusBar } from '../components/StatusBar.js';

/** Preflight, then the cluster coming up as a task list; a failure shows what failed and the next step. */
export function StartupScreen({ width }: { width: number }) {
  const s = useAppState();
  const dispatch = useDispatch();
  const theme = useTheme();
  const { phase, preflight } = s.startup;

  const store = useStoreApi();
  useKeys((input, key) => {
    const s = store.getState();
    const { phase } = s.startup;
    const cmd = commandFor(s.error ? ['error', 'global'] : ['global'], input, key);
    if (cmd === 'error.retry') dispatch({ type: 'error/retry' });
    else if (cmd === 'app.quit' || (cmd === 'error.dismiss' && key.escape))
      dispatch(phase === 'provisioning' ? { type: 'app/interrupt' } : { type: 'app/quit' });
  });

  const nameW = Math.min(22, Math.max(...(preflight ?? []).map((p) => p.name.length), 8) + 2);
  return (
    <Box flexDirection="column" width={width} flexGrow={1}>
      <Box flexDirection="column" flexShrink={1} flexGrow={1} flexBasis={0} overflow="hidden">
        <Text {...theme.text.title}>
          kube-seclab <Text {...theme.text.muted}>— a Kubernetes security lab</Text>
        </Text>
        <Box height={1} />
        {phase === 'opening' || phase === 'checking' ? (
          <Text>
            <Spinner /> {phase === 'opening' ? 'Opening the lab…' : "Looking for the lab's cluster…"}
          </Text>
        ) : null}
        {preflight?.length ? (
          <Box flexDirection="column" marginBottom={1}>
            <Text {...theme.text.title}>Preflight</Text>
            {preflight.map((p) => (
              <Box key={p.name} width={width}>
                <Box width={4} flexShrink={0}>
                  <Text>{'  '}</Text>
                  {p.ok ? (
                    <Text {...theme.status.success}>{theme.symbols.pass}</Text>
                  ) : p.optional ? (
                    <Text {...theme.text.muted}>{theme.symbols.skip}</Text>
                  ) : (
                    <Text {...theme.status.warning}>{theme.symbols.fail}</Text>
                  )}
                </Box>
                <Box width={nameW} flexShrink={0}>
                  <Text wrap="truncate-end">{p.name}</Text>
                </Box>
                <Box flexDirection="column" flexShrink={1}>
                  <Text wrap="truncate-end" {...(p.ok ? theme.text.primary : theme.text.muted)}>
                    {p.detail}
                  </Text>
                  {!p.ok && p.fix ? <Text wrap="truncate-end" {...theme.text.accent}>{`${theme.symbols.arrow} ${p.fix}`}</Text> : null}
                </Box>
              </Box>
            ))}
          </Box>
        ) : null}
        {s.tasks.length || phase === 'provisioning' ? <TaskList title={s.tasksTitle} tasks={s.tasks} width={width} /> : null}
      </Box>
      <Box flexDirection="column" flexShrink={0}>
        {s.error ? <ErrorBox error={s.error} width={width} keys={s.error.retry ? 'r retry   q quit' : 'q quit'} /> : null}
        {phase === 'provisioning' ? <Text {...theme.text.muted}>ctrl+c stops; the next start picks up where this one stopped</Text> : null}
        {phase === 'cancelling' ? <Text {...theme.status.warning}>Stopping… the next `kube-seclab` resumes or cleans up what was started.</Text> : null}
        <StatusBar engine={s.engine} cluster={s.cluster} width={width} />
      </Box>
    </Box>
  );
}
