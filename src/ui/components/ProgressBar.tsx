import React from 'react';
import { Text } from 'ink';
import { useTheme } from '../theme.js';

/** `████░░░░` — the share done, in `width` cells; readable without colour. */
export function ProgressBar({ done, total, width }: { done: number; total: number; width: number }) {
  const theme = useTheme();
  const w = Math.max(1, width);
  const filled = total > 0 ? Math.round((done / total) * w) : 0;
  return (
    <Text>
      <Text {...theme.ui.progressDone}>{theme.symbols.barDone.repeat(filled)}</Text>
      <Text {...theme.ui.progressTodo}>{theme.symbols.barTodo.repeat(w - filled)}</Text>
    </Text>
  );
}
