import React from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../hooks/useKeys.js';
import type { LessonSummary } from '../../core/lab.js';
import type { Layer } from '../../core/lessons/schema.js';
import { layerProgress, layerTitle, useAppState, useDispatch, useStoreApi, visibleLessons } from '../store.js';
import { useTheme, type Theme } from '../theme.js';
import { commandFor, footerItems, FILTER_FOOTER, keysLabel } from '../keymap.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { Footer, type FooterEntry } from '../components/Footer.js';
import { StatusBar } from '../components/StatusBar.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { useMeasuredHeight } from '../hooks/useMeasuredHeight.js';
import type { WorkshopLesson } from '../../core/workshop-rules.js';

type Row = { kind: 'layer'; layer: Layer } | { kind: 'lesson'; lesson: LessonSummary };

function statusMark(theme: Theme, l: LessonSummary) {
  switch (l.status) {
    case 'done':
      return <Text {...theme.status.success}>{theme.symbols.pass}</Text>;
    case 'current':
      return <Text {...theme.text.accent}>{theme.symbols.dot}</Text>;
    case 'unavailable':
      return <Text {...theme.text.muted}>{theme.symbols.skip}</Text>;
    default:
      return <Text {...theme.text.muted}>{theme.symbols.pending}</Text>;
  }
}

/** "15 min · no hints": a workshop lesson's time box and rules, in the list. */
function workshopNotes(w: WorkshopLesson | undefined): string {
  if (!w) return '';
  return [w.minutes ? `${w.minutes} min` : '', w.hints.allowed ? '' : 'no hints', w.solutions.allowed ? '' : 'no solutions'].filter(Boolean).join(' · ');
}

/** The four layers with a progress bar each, then the lessons: j/k or arrows, `/` filters, enter opens. */
export function HomeScreen({ width }: { width: number }) {
  const s = useAppState();
  const dispatch = useDispatch();
  const theme = useTheme();
  const { filter, filtering, selected, notice } = s.home;
  const visible = visibleLessons(s);
  const [listRef, listHeight] = useMeasuredHeight(8);
  const store = useStoreApi();

  useKeys((input, key) => {
    const s = store.getState();
    if (s.screen !== 'home') return;
    if (s.error) {
      if (commandFor(['error'], input, key) === 'error.dismiss') dispatch({ type: 'error/dismiss' });
      return;
    }
    if (s.home.filtering) {
      const cmd = commandFor(['filter'], input, key);
      if (cmd === 'filter.cancel') dispatch({ type: 'home/filterCancel' });
      else if (cmd === 'filter.open') dispatch({ type: 'home/openSelected' });
      else if (cmd === 'filter.up') dispatch({ type: 'home/move', delta: -1 });
      else if (cmd === 'filter.down') dispatch({ type: 'home/move', delta: 1 });
      else if (key.backspace || key.delete) dispatch({ type: 'home/filterBackspace' });
      else if (input && !key.ctrl && !key.meta && !key.tab && /^[\x20-\x7e]+$/.test(input)) dispatch({ type: 'home/filterType', text: input });
      return;
    }
    const cmd = commandFor(['home', 'global'], input, key);
    switch (cmd) {
      case 'home.up':
        dispatch({ type: 'home/move', delta: -1 });
        break;
      case 'home.down':
        dispatch({ type: 'home/move', delta: 1 });
        break;
      case 'home.pageUp':
        dispatch({ type: 'home/move', delta: -Math.max(1, listHeight - 2) });
        break;
      case 'home.pageDown':
        dispatch({ type: 'home/move', delta: Math.max(1, listHeight - 2) });
        break;
      case 'home.open':
        dispatch({ type: 'home/openSelected' });
        break;
      case 'home.filter':
        dispatch({ type: 'home/filterStart' });
        break;
      case 'app.help':
        dispatch({ type: 'help/open' });
        break;
      case 'app.quit':
        dispatch({ type: 'app/quit' });
        break;
    }
  });

  // Rows: a heading per layer, its lessons under it; a workshop's lessons in its own order, numbered.
  const rows: Row[] = [];
  const workshop = s.workshop;
  for (const l of visible) {
    if (workshop) {
      rows.push({ kind: 'lesson', lesson: l });
      continue;
    }
    const last = rows.length ? rows[rows.length - 1] : undefined;
    const lastLayer = last ? (last.kind === 'layer' ? last.layer : last.lesson.layer) : undefined;
    if (lastLayer !== l.layer) rows.push({ kind: 'layer', layer: l.layer });
    rows.push({ kind: 'lesson', lesson: l });
  }
  const selRow = Math.max(
    0,
    rows.findIndex((r) => r.kind === 'lesson' && r.lesson.id === selected),
  );
  const h = Math.max(1, listHeight);
  const start = Math.max(0, Math.min(selRow - Math.floor(h / 2), rows.length - h));
  const shown = rows.slice(start, start + h);

  const layers = workshop
    ? [
        {
          layer: 'workshop',
          title: 'Workshop',
          done: s.lessons.filter((l) => l.status === 'done').length,
          total: s.lessons.length,
          available: s.lessons.filter((l) => l.status !== 'unavailable').length,
        },
      ]
    : layerProgress(s.layers, s.lessons);
  const titleW = Math.max(8, ...layers.map((l) => l.title.length)) + 2;
  const barW = Math.max(6, Math.min(30, width - titleW - 12));

  const footer: FooterEntry[] = filtering
    ? [{ key: '↑↓', label: 'move' }, ...footerItems(FILTER_FOOTER)]
    : [
        { key: `${keysLabel('home.down', false)}/${keysLabel('home.up', false)}`, label: 'move' },
        ...footerItems(['home.open', 'home.filter', 'app.help', 'app.quit']),
      ];

  return (
    <Box flexDirection="column" width={width} flexGrow={1}>
      <Box width={width} flexShrink={0}>
        {workshop ? (
          <Text {...theme.text.title} wrap="truncate-end">
            {workshop.title} <Text {...theme.text.muted}>{`— kube-seclab workshop (${workshop.file})`}</Text>
          </Text>
        ) : (
          <Text {...theme.text.title} wrap="truncate-end">
            kube-seclab <Text {...theme.text.muted}>— secure a Kubernetes cluster by fixing it</Text>
          </Text>
        )}
      </Box>
      <Box flexDirection="column" marginTop={1} marginBottom={1} flexShrink={0}>
        {layers.map((l) => (
          <Box key={l.layer} width={width}>
            <Box width={titleW} flexShrink={0}>
              <Text wrap="truncate-end">{l.title}</Text>
            </Box>
            <ProgressBar done={l.done} total={l.total} width={barW} />
            <Text {...theme.text.muted}>
              {` ${l.done}/${l.total}`}
              {l.total > l.available ? ` (${l.total - l.available} need kind)` : ''}
            </Text>
          </Box>
        ))}
      </Box>
      <Box ref={listRef} flexDirection="column" flexGrow={1} flexShrink={1} flexBasis={0} overflow="hidden" width={width}>
        {rows.length === 0 ? (
          <Text {...theme.text.muted}>{s.lessons.length ? `no lesson matches "${filter}"` : 'no lessons found'}</Text>
        ) : (
          shown.map((r) =>
            r.kind === 'layer' ? (
              <Text key={`layer-${r.layer}`} {...theme.text.title} wrap="truncate-end">
                {layerTitle(s, r.layer)}
              </Text>
            ) : (
              <Box key={r.lesson.id} width={width}>
                <Box width={4} flexShrink={0}>
                  <Text {...theme.ui.selection}>{r.lesson.id === selected ? `${theme.symbols.pointer} ` : '  '}</Text>
                  {statusMark(theme, r.lesson)}
                </Box>
                {workshop ? (
                  <Box width={4} flexShrink={0}>
                    <Text {...theme.text.muted}>{`${workshop.lessons.findIndex((w) => w.id === r.lesson.id) + 1}.`}</Text>
                  </Box>
                ) : null}
                <Box flexShrink={1}>
                  <Text
                    wrap="truncate-end"
                    {...(r.lesson.id === selected ? theme.ui.selection : r.lesson.status === 'unavailable' ? theme.text.muted : theme.text.primary)}
                  >
                    {r.lesson.title}
                  </Text>
                </Box>
                <Box flexShrink={0} marginLeft={2}>
                  <Text {...theme.text.muted}>
                    {r.lesson.status === 'unavailable'
                      ? r.lesson.reason && !r.lesson.reason.startsWith('needs kind')
                        ? 'not here'
                        : 'needs kind'
                      : r.lesson.status === 'current'
                        ? 'current'
                        : r.lesson.status === 'done'
                          ? 'done'
                          : ''}
                  </Text>
                </Box>
                {workshop ? (
                  <Box flexShrink={0} marginLeft={2}>
                    <Text {...theme.text.muted}>{workshopNotes(workshop.lessons.find((w) => w.id === r.lesson.id))}</Text>
                  </Box>
                ) : null}
                <Box flexShrink={2} marginLeft={2}>
                  <Text {...theme.text.muted} wrap="truncate-end">
                    {r.lesson.id}
                  </Text>
                </Box>
              </Box>
            ),
          )
        )}
      </Box>
      <Box flexDirection="column" flexShrink={0} width={width}>
        {s.error ? <ErrorBox error={s.error} width={width} keys="esc dismiss" /> : null}
        {filtering || filter ? (
          <Text wrap="truncate-end">
            <Text {...theme.text.accent}>/</Text>
            {filter}
            {filtering ? <Text {...theme.text.muted}>▏</Text> : null}
            <Text {...theme.text.muted}>{`  ${visible.length} of ${s.lessons.length}`}</Text>
          </Text>
        ) : null}
        {notice ? (
          <Text {...theme.status.success} wrap="wrap">
            {notice}
          </Text>
        ) : null}
        <Footer items={footer} width={width} />
        <StatusBar engine={s.engine} cluster={s.cluster} width={width} />
      </Box>
    </Box>
  );
}
