import React from 'react';
import { Box, Text } from 'ink';
import type { UiError } from '../store.js';
import { useTheme } from '../theme.js';

/** What failed, the tool's own message and the next step — never a stack trace. */
export function ErrorBox({ error, width, keys, maxLines = 6 }: { error: UiError; width: number; keys: string; maxLines?: number }) {
  const theme = useTheme();
  const lines = error.message
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);
  const shown = lines.slice(0, maxLines);
  return (
    <Box width={width} borderStyle="round" borderColor={theme.ui.borderError} paddingX={1} flexDirection="column">
      <Text {...theme.status.error} bold={!theme.noColor}>{`${theme.symbols.fail} ${error.title}`}</Text>
      {error.step ? <Text wrap="truncate-end">{`failed: ${error.step}`}</Text> : null}
      {shown.map((l, i) => (
        <Text key={i} wrap="wrap">
          {l}
        </Text>
      ))}
      {lines.length > maxLines ? <Text {...theme.text.muted}>{`… ${lines.length - maxLines} more lines`}</Text> : null}
      {error.hint ? <Text {...theme.text.accent} wrap="wrap">{`${theme.symbols.arrow} ${error.hint}`}</Text> : null}
      <Text {...theme.text.muted}>{keys}</Text>
    </Box>
  );
}
