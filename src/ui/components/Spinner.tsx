import React from 'react';
import { Text } from 'ink';
import { TICK_MS, useTick } from '../hooks/useTick.js';
import { useTheme } from '../theme.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function Spinner({ active = true }: { active?: boolean }) {
  const theme = useTheme();
  const n = useTick(TICK_MS, active);
  return <Text {...theme.status.info}>{FRAMES[n % FRAMES.length]}</Text>;
}
