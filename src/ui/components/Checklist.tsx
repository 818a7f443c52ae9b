import React from 'react';
import { Box, Text } from 'ink';
import type { ObjectiveRow } from '../store.js';
import { useTheme, type Theme } from '../theme.js';
import { Spinner } from './Spinner.js';

function mark(theme: Theme, state: ObjectiveRow['state']) {
  switch (state) {
    case 'passed':
      return <Text {...theme.status.success}>{theme.symbols.pass}</Text>;
    case 'failed':
      return <Text {...theme.status.error}>{theme.symbols.fail}</Text>;
    case 'unreachable':
      return <Text {...theme.status.warning}>{theme.symbols.unreachable}</Text>;
    case 'skipped':
      return <Text {...theme.text.muted}>{theme.symbols.skip}</Text>;
    default:
      return <Text {...theme.text.muted}>{theme.symbols.pending}</Text>;
  }
}

/**
 * The lesson's objectives as a live checklist: ✓ met, ✗ not yet (with each failing check's one-line
 * reason under it), ? cluster unreachable, – needs kind, ○ not checked yet.
 */
export function Checklist({
  rows,
  width,
  checking = false,
  maxReasons = 2,
}: {
  rows: readonly ObjectiveRow[];
  width: number;
  checking?: boolean;
  maxReasons?: number;
}) {
  const theme = useTheme();
  return (
    <Box flexDirection="column" width={width}>
      {rows.map((r) => (
        <Box key={r.id} flexDirection="column" width={width}>
          <Box width={width}>
            <Box width={3} flexShrink={0}>
              <Text> </Text>
              {checking && r.state === 'pending' ? <Spinner /> : mark(theme, r.state)}
            </Box>
            <Box flexShrink={1}>
              <Text wrap="truncate-end">{r.text}</Text>
            </Box>
            {r.reasons.length > maxReasons && maxReasons < 2 ? (
              <Box flexShrink={0} marginLeft={1}>
                <Text {...theme.text.muted}>{`+${r.reasons.length - maxReasons} more`}</Text>
              </Box>
            ) : null}
          </Box>
          {r.reasons.slice(0, maxReasons).map((reason, i) => (
            <Box key={i} width={width} paddingLeft={5}>
              <Text wrap="truncate-end" {...(r.state === 'failed' ? theme.status.error : theme.text.muted)}>
                {reason.split('\n')[0]}
              </Text>
            </Box>
          ))}
          {r.reasons.length > maxReasons && maxReasons >= 2 ? (
            <Box width={width} paddingLeft={5}>
              <Text {...theme.text.muted}>{`… and ${r.reasons.length - maxReasons} more`}</Text>
            </Box>
          ) : null}
        </Box>
      ))}
    </Box>
  );
}
