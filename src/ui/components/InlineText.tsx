import React from 'react';
import { Text } from 'ink';
import { useTheme } from '../theme.js';

/** One-line texts from lesson.yaml (hints) may hold `code`: shown without the backticks, as code. */
export function InlineText({ text }: { text: string }) {
  const theme = useTheme();
  const parts = text.split('`');
  if (parts.length < 3) return <Text>{text}</Text>;
  return (
    <Text>
      {parts.map((p, i) =>
        i % 2 ? (
          <Text key={i} {...theme.text.accent}>
            {p}
          </Text>
        ) : (
          p
        ),
      )}
    </Text>
  );
}
