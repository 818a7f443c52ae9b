import React from 'react';
import { Box, Text } from 'ink';
import { useTheme } from '../theme.js';

export interface FooterEntry {
  key: string;
  label: string;
  highlight?: boolean;
}

/** A fixed row of single keys (`c check  w watch …`), wrapping onto a second line on narrow terminals. */
export function Footer({ items, width }: { items: readonly FooterEntry[]; width: number }) {
  const theme = useTheme();
  return (
    <Box width={width} flexWrap="wrap" columnGap={2}>
      {items.map((it) => (
        <Box key={it.key + it.label} flexShrink={0}>
          <Text {...(it.highlight ? theme.status.success : theme.text.key)}>{it.key}</Text>
          <Text {...(it.highlight ? theme.status.success : theme.text.muted)}>{` ${it.label}`}</Text>
        </Box>
      ))}
    </Box>
  );
}
