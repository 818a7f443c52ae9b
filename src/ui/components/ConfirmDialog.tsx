import React from 'react';
import { Box, Text } from 'ink';
import { useTheme } from '../theme.js';

/** A y/n question in a box; the screen routes y/n/esc to it while it is open. */
export function ConfirmDialog({ question, width }: { question: string; width: number }) {
  const theme = useTheme();
  return (
    <Box width={width} borderStyle="round" borderColor={theme.ui.borderWarning} paddingX={1} flexDirection="column">
      <Text {...theme.status.warning}>{question}</Text>
      <Text>
        <Text {...theme.text.key}>y</Text>
        <Text {...theme.text.muted}> yes </Text>
        <Text {...theme.text.key}>n</Text>
        <Text {...theme.text.muted}> no</Text>
      </Text>
    </Box>
  );
}
