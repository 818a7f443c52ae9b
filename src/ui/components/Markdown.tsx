import React from 'react';
import { Box, Text } from 'ink';

/** A window onto pre-rendered lines (see markdown.ts): `height` lines from `scroll`. */
export function MarkdownView({ lines, scroll, height, width }: { lines: readonly string[]; scroll: number; height: number; width: number }) {
  const shown = lines.slice(scroll, scroll + Math.max(1, height));
  return (
    <Box flexDirection="column" width={width}>
      {shown.map((l, i) =>
        l === '' ? (
          <Box key={scroll + i} height={1} />
        ) : (
          <Text key={scroll + i} wrap="truncate-end">
            {l}
          </Text>
        ),
      )}
    </Box>
  );
}
