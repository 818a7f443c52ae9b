import React from 'react';
import { Box, Text } from 'ink';
import { useTheme } from '../theme.js';
import type { State } from '../store.js';

/**
 * Engine, cluster health, and the line that sets up the learner's other terminal — kubectl on the
 * lab's cluster, `kube-seclab` in every folder: `eval "$(cd <checkout> && npx kube-seclab env)"`
 * (never shortened, so it can be copied).
 */
export function StatusBar({ engine, cluster, width }: { engine?: State['engine']; cluster?: State['cluster']; width: number }) {
  const theme = useTheme();
  const health = !cluster
    ? { text: 'checking', style: theme.text.muted }
    : cluster.healthy
      ? { text: 'healthy', style: theme.status.success }
      : cluster.exists
        ? { text: cluster.running ? 'unhealthy' : 'stopped', style: theme.status.error }
        : { text: 'no cluster', style: theme.status.warning };
  const cmd = engine ? (engine.envCommand ?? `export KUBECONFIG=${engine.kubeconfig}`) : '';
  return (
    <Box width={width} flexWrap="wrap" columnGap={2}>
      <Box flexShrink={0}>
        <Text {...theme.text.muted}>{engine?.name ?? '…'} </Text>
        <Text {...health.style}>{`${theme.symbols.dot} ${health.text}`}</Text>
      </Box>
      {cmd ? <Text {...theme.text.accent}>{cmd}</Text> : null}
    </Box>
  );
}
