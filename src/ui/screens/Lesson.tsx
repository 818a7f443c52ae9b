import React, { useMemo } from 'react';
import { Box, Text } from 'ink';
import { useKeys } from '../hooks/useKeys.js';
import { NUDGE_AFTER_FAILED_CHECKS, layerTitle, objectiveRows, useAppState, useDispatch, useStoreApi, type LessonView, type UiLesson } from '../store.js';
import { useTheme } from '../theme.js';
import { commandFor, footerItems, LESSON_FOOTER, CONFIRM_FOOTER } from '../keymap.js';
import { Checklist } from '../components/Checklist.js';
import { Footer, type FooterEntry } from '../components/Footer.js';
import { StatusBar } from '../components/StatusBar.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { TaskList } from '../components/TaskList.js';
import { MarkdownView } from '../components/Markdown.js';
import { Spinner } from '../components/Spinner.js';
import { InlineText } from '../components/InlineText.js';
import { AttackTranscript, attackLines } from '../components/AttackTranscript.js';
import { useMeasuredHeight } from '../hooks/useMeasuredHeight.js';
import { useMarkdownLines } from '../hooks/useMarkdown.js';
import { aidAllowed, timeBox, timeBoxLabel } from '../../core/workshop-rules.js';

/** What the scrollable area shows as markdown: the lesson text, the reference solution, or the debrief (the attack has its own lines). */
function viewMarkdown(lesson: UiLesson, v: LessonView): string {
  if (v.view === 'solution' && v.solution) {
    const files = v.solution.files.map((f) => `**${f.path}**\n\n\`\`\`${/\.ya?ml$/.test(f.path) ? 'yaml' : ''}\n${f.text.trimEnd()}\n\`\`\``).join('\n\n');
    const steps = (v.solution.steps ?? []).map((st, i) => ('run' in st ? `${i + 1}. \`${st.run}\`` : `${i + 1}. By hand: ${st.todo}`)).join('\n');
    const how = steps
      ? `## To carry it out in this lab\n\nIn a shell set up by \`eval "$(kube-seclab env)"\`${v.solution.dir ? ` (the files above are saved in ${v.solution.dir})` : ''}, on the lesson as a reset sets it up:\n\n${steps}\n\n`
      : '';
    return `# Reference solution\n\n${v.solution.description ?? ''}\n\n${files}\n\n${how}Or let the lab do it: \`kube-seclab solution ${lesson.id} --apply\`. Press esc for the lesson text.`;
  }
  if (v.view === 'debrief') return `# ✓ ${lesson.title}\n\n${v.debrief ?? lesson.debrief}`;
  return lesson.markdown;
}

function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

/**
 * One lesson: its text (scrollable), the objectives as a live checklist, and a fixed footer of
 * single keys. Watch mode re-checks on every cluster change, so a fix made with kubectl in the
 * other terminal turns its objective ✓ with no keypress.
 */
export function LessonScreen({ width, height: rowsAvailable }: { width: number; height: number }) {
  const s = useAppState();
  const dispatch = useDispatch();
  const theme = useTheme();
  const v = s.lesson!;
  const lesson = s.catalogue.find((l) => l.id === v.id);
  const [viewRef, viewHeight] = useMeasuredHeight(10);
  const textWidth = Math.max(20, width - 1);
  const showAttack = v.view === 'attack' && !!lesson?.attack && !!v.attack;
  const lines = useMarkdownLines(lesson && !showAttack ? viewMarkdown(lesson, v) : '', textWidth, theme);
  const transcript = useMemo(
    () => (showAttack ? attackLines(lesson!.attack!, v.attack!, textWidth, theme, { completed: v.completed }) : undefined),
    [showAttack, lesson, v.attack, textWidth, theme, v.completed],
  );
  const total = transcript?.length ?? lines?.length ?? 0;
  const maxScroll = Math.max(0, total - viewHeight);
  const scroll = Math.min(v.scroll, maxScroll);

  const store = useStoreApi();
  useKeys((input, key) => {
    const s = store.getState();
    if (s.screen !== 'lesson') return;
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
    const cmd = commandFor(['lesson', 'scroll', 'global'], input, key);
    const page = Math.max(1, viewHeight - 1);
    switch (cmd) {
      case 'lesson.attack':
        dispatch({ type: 'lesson/attack' });
        break;
      case 'lesson.check':
        dispatch({ type: 'lesson/check' });
        break;
      case 'lesson.watch':
        dispatch({ type: 'lesson/toggleWatch' });
        break;
      case 'lesson.hint':
        dispatch({ type: 'lesson/hint' });
        break;
      case 'lesson.solution':
        dispatch({ type: 'lesson/askSolution' });
        break;
      case 'lesson.reset':
        dispatch({ type: 'lesson/askReset' });
        break;
      case 'lesson.next':
        dispatch({ type: 'lesson/next' });
        break;
      case 'lesson.list':
        dispatch({ type: 'nav/home' });
        break;
      case 'lesson.back':
        dispatch({ type: 'lesson/back' });
        break;
      case 'scroll.down':
        dispatch({ type: 'lesson/scroll', by: 1, max: maxScroll });
        break;
      case 'scroll.up':
        dispatch({ type: 'lesson/scroll', by: -1, max: maxScroll });
        break;
      case 'scroll.pageDown':
        dispatch({ type: 'lesson/scroll', by: page, max: maxScroll });
        break;
      case 'scroll.pageUp':
        dispatch({ type: 'lesson/scroll', by: -page, max: maxScroll });
        break;
      case 'scroll.top':
        dispatch({ type: 'lesson/scroll', to: 0, max: maxScroll });
        break;
      // "The end" stays the end if the view shrinks afterwards (a checklist reason appears).
      case 'scroll.bottom':
        dispatch({ type: 'lesson/scroll', to: Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
        break;
      case 'app.help':
        dispatch({ type: 'help/open' });
        break;
      case 'app.quit':
        dispatch({ type: 'app/quit' });
        break;
    }
  });

  if (!lesson) return <Text>no lesson {v.id}</Text>;
  const rows =
    v.phase === 'unavailable'
      ? lesson.objectives.map((o) => ({ id: o.id, text: o.text, state: 'skipped' as const, reasons: [] }))
      : objectiveRows(lesson.objectives, v.result);
  // The attack is the lab's own (a shared cluster lends no identity to attack with).
  const canAttack = !!lesson.attack && v.phase !== 'unavailable' && s.engine?.name !== 'existing';
  const nudge = !v.completed && v.failedChecks >= NUDGE_AFTER_FAILED_CHECKS && (!v.hint || v.hint.index + 1 < v.hint.total);
  const footer: FooterEntry[] = s.confirm
    ? footerItems(CONFIRM_FOOTER)
    : footerItems(LESSON_FOOTER)
        .filter(
          (f) =>
            (f.command !== 'lesson.attack' || canAttack) &&
            (f.command !== 'lesson.hint' || aidAllowed(s.workshop, v.id, 'hints')) &&
            (f.command !== 'lesson.solution' || aidAllowed(s.workshop, v.id, 'solutions')),
        )
        .map((f) => ({
          key: f.key,
          label: f.command === 'lesson.watch' ? `watch ${s.watch ? 'on' : 'off'}` : f.label,
          highlight: (f.command === 'lesson.next' && v.completed) || (f.command === 'lesson.hint' && nudge),
        }));
  const pct = total <= viewHeight ? '' : scroll >= maxScroll ? 'end' : `${Math.round(((scroll + viewHeight) / total) * 100)}%`;
  const watchState = v.phase !== 'ready' ? '' : s.watching ? `${theme.symbols.dot} watching` : 'watch off — c checks';
  const checked = v.lastCheckAt ? ` · checked ${clock(v.lastCheckAt)}` : '';
  // The workshop's time box for this lesson: a soft limit, shown, never enforced.
  const boxMinutes = s.workshop?.lessons.find((w) => w.id === v.id)?.minutes;
  const box =
    boxMinutes && v.timeBase ? timeBox(boxMinutes, v.completed ? v.timeBase.spentMs : v.timeBase.spentMs + Math.max(0, s.now - v.timeBase.at)) : undefined;

  return (
    <Box flexDirection="column" width={width} flexGrow={1}>
      <Box width={width} flexShrink={0}>
        <Box flexShrink={1}>
          <Text wrap="truncate-end">
            <Text {...theme.text.muted}>{`${layerTitle(s, lesson.layer)} ${theme.symbols.pointer} `}</Text>
            <Text {...theme.text.title}>{lesson.title}</Text>
          </Text>
        </Box>
        <Box flexGrow={1} />
        {box ? (
          <Box flexShrink={0} marginLeft={1}>
            <Text {...(box.over ? theme.status.warning : theme.text.muted)}>{`⏱ ${timeBoxLabel(box)}`}</Text>
          </Box>
        ) : (
          <Box flexShrink={0} marginLeft={1}>
            <Text {...theme.text.muted}>
              {lesson.difficulty}
              {lesson.minutes ? ` · ${lesson.minutes} min` : ''}
            </Text>
          </Box>
        )}
      </Box>
      <Box ref={viewRef} flexDirection="column" flexGrow={1} flexShrink={1} flexBasis={0} overflow="hidden" width={width}>
        {v.phase === 'starting' ? (
          <TaskList title={s.tasksTitle} tasks={s.tasks} width={width} />
        ) : transcript ? (
          <AttackTranscript lines={transcript} scroll={scroll} height={viewHeight} width={textWidth} />
        ) : lines ? (
          <MarkdownView lines={lines} scroll={scroll} height={viewHeight} width={textWidth} />
        ) : (
          <Text>
            <Spinner />{' '}
          </Text>
        )}
      </Box>
      <Box flexDirection="column" flexShrink={0} width={width}>
        <Box width={width}>
          <Text {...theme.text.title}>Objectives </Text>
          <Box flexShrink={1}>
            <Text wrap="truncate-end" {...(s.watching ? theme.status.info : theme.text.muted)}>
              {watchState}
              <Text {...theme.text.muted}>{checked}</Text>
            </Text>
          </Box>
          <Box flexGrow={1} />
          {pct ? (
            <Box flexShrink={0} marginLeft={1}>
              <Text {...theme.text.muted}>{`j/k ${pct}`}</Text>
            </Box>
          ) : null}
        </Box>
        <Checklist rows={rows} width={width} checking={v.checking} maxReasons={rowsAvailable >= 30 ? 2 : 1} />
        {lesson.reset?.workspaceFiles.length && s.engine?.workspace && v.phase !== 'unavailable' ? (
          <Text
            {...theme.text.muted}
            wrap="truncate-end"
          >{`Your files: ${lesson.reset.workspaceFiles.map((f) => `${s.engine!.workspace}/${f}`).join(', ')}`}</Text>
        ) : null}
        {v.phase === 'unavailable' ? (
          <Text {...theme.status.warning} wrap="wrap">
            {unavailableText(s.lessons.find((x) => x.id === v.id)?.reason, s.engine?.name)}
          </Text>
        ) : s.engine?.note ? (
          <Text {...theme.status.info} wrap="wrap">
            {s.engine.note}
          </Text>
        ) : null}
        {v.result?.unreachable ? (
          <Text {...theme.status.warning} wrap="wrap">
            {'cluster unreachable — these results say nothing about your fix (see the status bar).'}
          </Text>
        ) : null}
        {canAttack && v.phase === 'ready' && !v.attack && !v.completed && !s.confirm && !s.error ? (
          <Text {...theme.text.accent} wrap="truncate-end">
            {'Press a to attack first: see what an attacker gets from this cluster as it is.'}
          </Text>
        ) : null}
        {v.hint && !v.completed && !s.confirm && !s.error ? (
          <Box width={width} flexDirection="column" marginTop={0}>
            <Text wrap="wrap">
              <Text {...theme.status.info}>{`Hint ${v.hint.index + 1}/${v.hint.total} `}</Text>
              <InlineText text={v.hint.text} />
            </Text>
          </Box>
        ) : null}
        {nudge && !s.confirm ? (
          <Text {...theme.status.warning} wrap="wrap">{`${v.failedChecks} checks failed so far — stuck? Press h for ${v.hint ? 'the next' : 'a'} hint.`}</Text>
        ) : null}
        {v.completed && !s.confirm ? (
          <Text {...theme.status.success} wrap="wrap">{`${theme.symbols.pass} All objectives met — press n for the next lesson.`}</Text>
        ) : null}
        {s.confirm ? <ConfirmDialog question={s.confirm.question} width={width} /> : null}
        {s.error ? <ErrorBox error={s.error} width={width} keys="esc dismiss" /> : null}
        <Footer items={footer} width={width} />
        <StatusBar engine={s.engine} cluster={s.cluster} width={width} />
      </Box>
    </Box>
  );
}

/** Why the lesson cannot run here: kind's real node, or (a shared cluster) more than namespaces. */
function unavailableText(reason: string | undefined, engine: string | undefined): string {
  if (reason && !reason.startsWith('needs kind')) return `This lesson cannot run here (${reason}). Read it here; press n for the next one.`;
  return `This lesson needs kind (a real node and network); this lab runs on ${engine ?? 'another engine'}. Read it here; press n for the next one.`;
}
