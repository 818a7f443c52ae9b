import React from 'react';
import { Box, Text } from 'ink';
import type { AttackView, UiLesson } from '../store.js';
import { useTheme, type Theme, type TextStyle } from '../theme.js';
import { Spinner } from './Spinner.js';

/**
 * What a line of the transcript is, not its colour: the attacker getting something, a defence
 * stopping them, what they got (already redacted by the core), the verdict.
 */
export type AttackRole =
  'title' | 'story' | 'won' | 'blocked' | 'skipped' | 'error' | 'detail' | 'evidence' | 'note' | 'running' | 'works' | 'fails' | 'unknown' | 'muted' | 'blank';

export interface AttackLine {
  text: string;
  role: AttackRole;
  bold?: boolean;
}

/** Word-wrap one line of plain text to `width` columns; continuation lines indented by `hang`. */
function wrap(text: string, width: number, hang: number): string[] {
  const out: string[] = [];
  const pad = ' '.repeat(hang);
  let line = '';
  for (const word of text.split(/(?<= )/)) {
    if ([...line].length + [...word.trimEnd()].length > width && line.trim().length > 0) {
      out.push(line.trimEnd());
      line = pad;
    }
    let w = word;
    // A word longer than the line (a long URL, a path) is cut.
    while ([...line].length + [...w.trimEnd()].length > width) {
      const room = Math.max(1, width - [...line].length);
      out.push(line + [...w].slice(0, room).join(''));
      w = [...w].slice(room).join('');
      line = pad;
    }
    line += w;
  }
  if (line.trim() || !out.length) out.push(line.trimEnd());
  return out;
}

const STEP: Record<string, { role: AttackRole; sym: (t: Theme) => string }> = {
  succeeded: { role: 'won', sym: (t) => t.symbols.pass },
  failed: { role: 'blocked', sym: (t) => t.symbols.fail },
  skipped: { role: 'skipped', sym: (t) => t.symbols.skip },
  error: { role: 'error', sym: (t) => t.symbols.unreachable },
};

/**
 * The attack's transcript as screen lines of at most `width` columns: the story, each step as it
 * ended (what was tried, the answer, what the attacker got, what it gives them next), the step
 * running now, and the verdict. Pure, so the screen knows how far it scrolls.
 */
export function attackLines(
  attack: NonNullable<UiLesson['attack']>,
  v: AttackView,
  width: number,
  theme: Theme,
  opts: { completed?: boolean } = {},
): AttackLine[] {
  const w = Math.max(20, width);
  const lines: AttackLine[] = [];
  const add = (text: string, role: AttackRole, hang = 0, bold = false) => {
    for (const t of wrap(text, w, hang)) lines.push({ text: t, role, bold });
  };
  add(`Attack: ${attack.title}`, 'title', 8, true);
  add(attack.story, 'story');
  lines.push({ text: '', role: 'blank' });
  for (const s of v.steps) {
    const st = STEP[s.status] ?? STEP.error;
    add(` ${st.sym(theme)} ${s.title}`, st.role, 3, s.goal);
    add(`     ${s.message}`, s.status === 'skipped' ? 'skipped' : 'detail', 5);
    for (const e of s.evidence) add(`     ${e}`, 'evidence', 5);
    if (s.note) add(`     ${theme.symbols.arrow} ${s.note}`, 'note', 7);
  }
  if (v.running) {
    add(` ${attack.steps[v.steps.length]?.try ?? 'attacking…'}`, 'running', 3);
    return lines;
  }
  const r = v.result;
  if (!r) return lines;
  lines.push({ text: '', role: 'blank' });
  if (r.skipped) {
    add(`⇒ The attack could not run: ${r.skipped}`, 'unknown', 2, true);
    add('  Nothing is proved either way: press a to try again once the cluster answers (see the status bar).', 'muted', 2);
  } else if (r.succeeded) {
    add(`⇒ The attack WORKS: ${r.summary}`, 'works', 2, true);
    add('  Fix the lesson, then press a again: the attack must fail.', 'muted', 2);
  } else {
    add(`⇒ The attack FAILS: ${r.summary.replace(/^stopped: /, 'stopped at ')}`, 'fails', 2, true);
  }
  add(`  esc: ${opts.completed ? 'the debrief' : 'back to the lesson text'}`, 'muted', 2);
  return lines;
}

function roleStyle(theme: Theme, role: AttackRole): TextStyle {
  switch (role) {
    case 'title':
      return theme.text.title;
    case 'won':
    case 'works':
      return theme.status.error; // the attacker's colour
    case 'blocked':
    case 'fails':
      return theme.status.success;
    case 'error':
    case 'unknown':
      return theme.status.warning;
    case 'evidence':
      return theme.text.accent;
    case 'story':
    case 'skipped':
    case 'note':
    case 'muted':
      return theme.text.muted;
    default:
      return theme.text.primary;
  }
}

/** A window of `height` transcript lines from `scroll`; the running step gets a spinner. */
export function AttackTranscript({ lines, scroll, height, width }: { lines: readonly AttackLine[]; scroll: number; height: number; width: number }) {
  const theme = useTheme();
  const shown = lines.slice(scroll, scroll + Math.max(1, height));
  return (
    <Box flexDirection="column" width={width}>
      {shown.map((l, i) =>
        l.role === 'blank' ? (
          <Box key={scroll + i} height={1} />
        ) : l.role === 'running' ? (
          <Text key={scroll + i} wrap="truncate-end">
            {' '}
            <Spinner />
            {l.text}
          </Text>
        ) : (
          <Text key={scroll + i} wrap="truncate-end" {...roleStyle(theme, l.role)} {...(l.bold && !theme.noColor ? { bold: true } : {})}>
            {l.text}
          </Text>
        ),
      )}
    </Box>
  );
}
