import React from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../hooks/useKeys.js';
import { useAppState, useDispatch, useStoreApi } from '../store.js';
import { useTheme } from '../theme.js';
import { commandFor, footerItems, CONFIRM_FOOTER, EXAM_FOOTER } from '../keymap.js';
import { Checklist } from '../components/Checklist.js';
import { Footer, type FooterEntry } from '../components/Footer.js';
import { StatusBar } from '../components/StatusBar.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { TaskList } from '../components/TaskList.js';
import { MarkdownView } from '../components/Markdown.js';
import { Spinner } from '../components/Spinner.js';
import { useMeasuredHeight } from '../hooks/useMeasuredHeight.js';
import { useMarkdownLines } from '../hooks/useMarkdown.js';
import { formatClock } from '../../core/workshop-rules.js';

/**
 * Exam mode: the intro (what the exam is, enter starts the clock), then one lesson at a time with the
 * time left always in view and no hints, solutions or checks; the result at the end.
 */
export function ExamScreen({ width }: { width: number }) {
  const s = useAppState();
  const dispatch = useDispatch();
  const theme = useTheme();
  const e = s.exam!;
  const cur = e.lessons[e.index];
  const lesson = cur ? s.catalogue.find((l) => l.id === cur.id) : undefined;
  const [viewRef, viewHeight] = useMeasuredHeight(10);
  const textWidth = Math.max(20, width - 1);
  const lines = useMarkdownLines(e.phase === 'running' && lesson ? lesson.markdown : '', textWidth, theme);
  const maxScroll = Math.max(0, (lines?.length ?? 0) - viewHeight);
  const scroll = Math.min(e.scroll, maxScroll);

  const store = useStoreApi();
  useKeys((input, key) => {
    const s = store.getState();
    if (s.screen !== 'exam' || !s.exam) return;
    if (s.confirm) {
      const cmd = commandFor(['confirm'], input, key);
      if (cmd === 'confirm.yes') dispatch({ type: 'confirm/answer', yes: true });
      else if (cmd === 'confirm.no') dispatch({ type: 'confirm/answer', yes: false });
      return;
    }
    if (s.error) {
      const cmd = commandFor(['error', 'global'], input, key);
      if (cmd === 'error.dismiss') dispatch({ type: 'error/dismiss' });
      else if (cmd === 'app.quit') dispatch({ type: 'app/quit' });
      return;
    }
    const phase = s.exam.phase;
    const contexts =
      phase === 'intro'
        ? (['examIntro', 'global'] as const)
        : phase === 'running'
          ? (['exam', 'scroll', 'global'] as const)
          : phase === 'finished'
            ? (['examResult', 'global'] as const)
            : (['global'] as const);
    const cmd = commandFor(contexts, input, key);
    const page = Math.max(1, viewHeight - 1);
    switch (cmd) {
      case 'exam.begin':
        dispatch({ type: 'exam/begin' });
        break;
      case 'exam.next':
        dispatch({ type: 'exam/askNext' });
        break;
      case 'exam.submit':
        dispatch({ type: 'exam/askSubmit' });
        break;
      case 'exam.reset':
        dispatch({ type: 'exam/askReset' });
        break;
      case 'exam.off':
        dispatch({ type: 'exam/refuse', what: input === 'h' ? 'hint' : 'solution' });
        break;
      case 'exam.checkOff':
        dispatch({ type: 'exam/refuse', what: input === 'a' ? 'attack' : 'check' });
        break;
      case 'exam.close':
        dispatch({ type: 'exam/close' });
        break;
      case 'scroll.down':
        dispatch({ type: 'exam/scroll', by: 1, max: maxScroll });
        break;
      case 'scroll.up':
        dispatch({ type: 'exam/scroll', by: -1, max: maxScroll });
        break;
      case 'scroll.pageDown':
        dispatch({ type: 'exam/scroll', by: page, max: maxScroll });
        break;
      case 'scroll.pageUp':
        dispatch({ type: 'exam/scroll', by: -page, max: maxScroll });
        break;
      case 'scroll.top':
        dispatch({ type: 'exam/scroll', to: 0, max: maxScroll });
        break;
      case 'scroll.bottom':
        dispatch({ type: 'exam/scroll', to: maxScroll, max: maxScroll });
        break;
      case 'app.help':
        dispatch({ type: 'help/open' });
        break;
      case 'app.quit':
        dispatch({ type: 'app/quit' });
        break;
    }
  });

  const left = e.deadline !== undefined ? e.deadline - s.now : undefined;
  const timer = left === undefined ? (e.minutes ? `${e.minutes} min` : '') : left <= 0 ? 'time is up' : `⏱ ${formatClock(left)} left`;
  const timerStyle =
    left !== undefined && left <= 60_000 ? theme.status.error : left !== undefined && left <= 5 * 60_000 ? theme.status.warning : theme.status.info;
  const headline =
    e.phase === 'intro' || e.phase === 'planning' ? 'Exam' : e.phase === 'finished' ? 'Exam result' : `Exam · lesson ${e.index + 1}/${e.lessons.length}`;

  const footer: FooterEntry[] = s.confirm
    ? footerItems(CONFIRM_FOOTER)
    : e.phase === 'intro'
      ? footerItems(['exam.begin', 'app.help', 'app.quit'])
      : e.phase === 'running'
        ? footerItems(EXAM_FOOTER).filter((f) => f.command !== 'exam.next' || e.index + 1 < e.lessons.length)
        : e.phase === 'finished'
          ? footerItems(['exam.close', 'app.quit'])
          : footerItems(['app.quit']);

  return (
    <Box flexDirection="column" width={width} flexGrow={1}>
      <Box width={width} flexShrink={0}>
        <Box flexShrink={1}>
          <Text wrap="truncate-end">
            <Text {...theme.text.title}>{headline}</Text>
            {e.phase === 'running' && cur ? <Text>{` ${theme.symbols.pointer} ${cur.title}`}</Text> : null}
            {s.workshop ? <Text {...theme.text.muted}>{` · ${s.workshop.title}`}</Text> : null}
          </Text>
        </Box>
        <Box flexGrow={1} />
        {e.phase !== 'finished' && timer ? (
          <Box flexShrink={0} marginLeft={1}>
            <Text {...timerStyle}>{timer}</Text>
          </Box>
        ) : null}
      </Box>
      <Box ref={viewRef} flexDirection="column" flexGrow={1} flexShrink={1} flexBasis={0} overflow="hidden" width={width}>
        {e.phase === 'planning' ? (
          <Text>
            <Spinner /> Choosing the lessons…
          </Text>
        ) : null}
        {e.phase === 'intro' ? (
          <Box flexDirection="column" width={width} marginTop={1}>
            <Text wrap="wrap">{`${e.lessons.length} lesson${e.lessons.length === 1 ? '' : 's'}, ${e.minutes} minutes in all (seed ${e.seed}: the same seed gives the same lessons).`}</Text>
            {e.lessons.map((l, i) => (
              <Text key={l.id} wrap="truncate-end">{`  ${i + 1}. ${l.title}`}</Text>
            ))}
            <Box height={1} />
            <Text wrap="wrap">
              No hints, no solutions, no checks: fix each lesson with kubectl in your other terminal, then hand it in (n) — its checks run then, the results
              come at the end. The lessons come one at a time and you cannot go back. f hands in and finishes. When the clock reaches 0:00 the current lesson is
              graded as it stands.
            </Text>
            <Box height={1} />
            <Text {...theme.text.accent}>Press enter to start the clock.</Text>
          </Box>
        ) : null}
        {e.phase === 'preparing' || e.phase === 'grading' ? <TaskList title={s.tasksTitle} tasks={s.tasks} width={width} /> : null}
        {e.phase === 'running' ? (
          lines ? (
            <MarkdownView lines={lines} scroll={scroll} height={viewHeight} width={textWidth} />
          ) : (
            <Text>
              <Spinner />{' '}
            </Text>
          )
        ) : null}
        {e.phase === 'finished' && e.result ? (
          <Box flexDirection="column" width={width} marginTop={1}>
            <Text>
              <Text {...theme.text.title}>{`Score ${e.result.score.passed}/${e.result.score.total}`}</Text>
              <Text
                {...theme.text.muted}
              >{` (${e.result.score.percent}%) · ${e.result.endedBy === 'timeout' ? 'the time ran out' : 'handed in'} · seed ${e.result.seed}`}</Text>
            </Text>
            <Box height={1} />
            {e.result.lessons.map((l) => (
              <Box key={l.id} flexDirection="column" width={width}>
                <Text wrap="truncate-end">
                  {l.status === 'passed' ? (
                    <Text {...theme.status.success}>{theme.symbols.pass}</Text>
                  ) : l.status === 'failed' ? (
                    <Text {...theme.status.error}>{theme.symbols.fail}</Text>
                  ) : (
                    <Text {...theme.text.muted}>{theme.symbols.skip}</Text>
                  )}
                  {` ${l.title}`}
                  <Text {...theme.text.muted}>
                    {l.status === 'not-reached' ? ' (not reached)' : ` (${l.checks.filter((c) => c.passed).length}/${l.checks.length} checks)`}
                  </Text>
                </Text>
                {l.checks
                  .filter((c) => !c.passed && c.status !== 'skipped')
                  .slice(0, 3)
                  .map((c) => (
                    <Box key={c.id} paddingLeft={4} width={width}>
                      <Text wrap="truncate-end" {...theme.status.error}>{`${c.id}: ${c.message.split('\n')[0]}`}</Text>
                    </Box>
                  ))}
              </Box>
            ))}
            {e.resultFile ? (
              <Box marginTop={1} width={width}>
                <Text wrap="wrap">
                  <Text {...theme.text.muted}>Result file: </Text>
                  {e.resultFile}
                </Text>
              </Box>
            ) : null}
          </Box>
        ) : null}
      </Box>
      <Box flexDirection="column" flexShrink={0} width={width}>
        {e.phase === 'running' && lesson ? (
          <>
            <Text>
              <Text {...theme.text.title}>Objectives </Text>
              <Text {...theme.text.muted}>checked when you hand the lesson in</Text>
            </Text>
            <Checklist rows={lesson.objectives.map((o) => ({ id: o.id, text: o.text, state: 'pending' as const, reasons: [] }))} width={width} maxReasons={0} />
          </>
        ) : null}
        {e.notice && !s.confirm ? (
          <Text {...theme.status.warning} wrap="wrap">
            {e.notice}
          </Text>
        ) : null}
        {s.confirm ? <ConfirmDialog question={s.confirm.question} width={width} /> : null}
        {s.error ? <ErrorBox error={s.error} width={width} keys="esc dismiss" /> : null}
        <Footer items={footer} width={width} />
        <StatusBar engine={s.engine} cluster={s.cluster} width={width} />
      </Box>
    </Box>
  );
}
