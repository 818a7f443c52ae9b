import React from 'react';
import { Box, Text } from 'ink';
import type { TaskItem } from '../store.js';
import { useTheme } from '../theme.js';
import { TICK_MS, useTick } from '../hooks/useTick.js';
import { Spinner } from './Spinner.js';

export function formatElapsed(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Long work step by step: a spinner and the running time on the current step, ✓/✗ and the time taken on the others. */
export function TaskList({ title, tasks, width, now = Date.now }: { title?: string; tasks: readonly TaskItem[]; width: number; now?: () => number }) {
  const theme = useTheme();
  const running = tasks.some((t) => t.status === 'running');
  // The same clock as the spinner: both move in one redraw.
  useTick(TICK_MS, running);
  const t0 = now();
  return (
    <Box flexDirection="column" width={width}>
      {title ? (
        <Text {...theme.text.title} wrap="truncate-end">
          {title}
        </Text>
      ) : null}
      {tasks.map((t) => {
        const elapsed = formatElapsed((t.endedAt ?? t0) - t.startedAt);
        if (t.status === 'info') {
          return <Text key={t.id} {...theme.text.muted} wrap="truncate-end">{`  ${theme.symbols.bullet} ${t.title}`}</Text>;
        }
        return (
          <Box key={t.id} width={width}>
            <Box width={4} flexShrink={0}>
              <Text>{'  '}</Text>
              {t.status === 'running' ? (
                <Spinner />
              ) : t.status === 'done' ? (
                <Text {...theme.status.success}>{theme.symbols.pass}</Text>
              ) : (
                <Text {...theme.status.error}>{theme.symbols.fail}</Text>
              )}
            </Box>
            <Box flexShrink={1}>
              <Text wrap="truncate-end" {...(t.status === 'failed' ? theme.status.error : theme.text.primary)}>
                {t.title}
              </Text>
            </Box>
            <Box flexShrink={0} marginLeft={1}>
              <Text {...theme.text.muted}>{elapsed}</Text>
            </Box>
            {t.status === 'running' && t.detail ? (
              <Box flexShrink={2} marginLeft={1}>
                <Text {...theme.text.muted} wrap="truncate-end">
                  {t.detail}
                </Text>
              </Box>
            ) : null}
          </Box>
        );
      })}
    </Box>
  );
}
