import React from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../hooks/useKeys.js';
import { useAppState, useDispatch, useStoreApi } from '../store.js';
import { useTheme } from '../theme.js';
import { CONTEXT_TITLES, HELP_ORDER, KEYMAP, commandFor, keysLabel, type KeyContext } from '../keymap.js';
import { Footer } from '../components/Footer.js';
import { useMeasuredHeight } from '../hooks/useMeasuredHeight.js';

const FIRST: Record<string, KeyContext[]> = {
  lesson: ['lesson', 'scroll'],
  home: ['home', 'filter'],
  startup: ['global'],
  help: [],
  exam: ['exam', 'scroll', 'examIntro', 'examResult'],
};

/** Every key, generated from the keymap table; the current screen's keys first. */
export function HelpScreen({ width }: { width: number }) {
  const s = useAppState();
  const dispatch = useDispatch();
  const theme = useTheme();
  const [ref, height] = useMeasuredHeight(15);
  const order = [...(FIRST[s.helpReturn] ?? []), ...HELP_ORDER.filter((c) => !(FIRST[s.helpReturn] ?? []).includes(c))];
  const lines: { heading?: string; keys?: string; text?: string }[] = [];
  for (const c of order) {
    const bs = KEYMAP.filter((b) => b.context === c);
    if (!bs.length) continue;
    if (lines.length) lines.push({});
    lines.push({ heading: CONTEXT_TITLES[c] });
    for (const b of bs) lines.push({ keys: keysLabel(b.command), text: b.description });
  }
  const max = Math.max(0, lines.length - height);
  const scroll = Math.min(s.helpScroll, max);

  const store = useStoreApi();
  useKeys((input, key) => {
    if (store.getState().screen !== 'help') return;
    const cmd = commandFor(['help', 'scroll'], input, key);
    if (cmd === 'help.close') dispatch({ type: 'help/close' });
    else if (cmd === 'scroll.down') dispatch({ type: 'help/scroll', by: 1, max });
    else if (cmd === 'scroll.up') dispatch({ type: 'help/scroll', by: -1, max });
    else if (cmd === 'scroll.pageDown') dispatch({ type: 'help/scroll', by: height - 1, max });
    else if (cmd === 'scroll.pageUp') dispatch({ type: 'help/scroll', by: 1 - height, max });
    else if (cmd === 'scroll.top') dispatch({ type: 'help/scroll', to: 0, max });
    else if (cmd === 'scroll.bottom') dispatch({ type: 'help/scroll', to: max, max });
  });

  const keyW = Math.max(...lines.map((l) => l.keys?.length ?? 0)) + 3;
  return (
    <Box flexDirection="column" width={width} flexGrow={1}>
      <Box flexShrink={0}>
        <Text {...theme.text.title}>
          Keys <Text {...theme.text.muted}>— kube-seclab</Text>
        </Text>
      </Box>
      <Box ref={ref} flexDirection="column" flexGrow={1} flexShrink={1} flexBasis={0} overflow="hidden" marginTop={1}>
        {lines.slice(scroll, scroll + height).map((l, i) =>
          l.heading ? (
            <Text key={i} {...theme.text.title}>
              {l.heading}
            </Text>
          ) : l.keys ? (
            <Box key={i} width={width}>
              <Box width={keyW} flexShrink={0}>
                <Text {...theme.text.key}>{`  ${l.keys}`}</Text>
              </Box>
              <Box flexShrink={1}>
                <Text wrap="truncate-end">{l.text}</Text>
              </Box>
            </Box>
          ) : (
            <Text key={i}> </Text>
          ),
        )}
      </Box>
      <Box flexShrink={0}>
        <Footer
          width={width}
          items={[{ key: keysLabel('help.close'), label: 'close' }, ...(max > 0 ? [{ key: 'j/k', label: scroll >= max ? 'scroll (end)' : 'scroll' }] : [])]}
        />
      </Box>
    </Box>
  );
}
