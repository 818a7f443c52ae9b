import type { Key } from 'ink';

/**
 * Every key binding of the TUI, as one table of named commands (the gemini-cli habit): screens ask
 * "which command is this key?" and never compare raw keys; the footers and the `?` help screen are
 * generated from the same table, so they cannot drift from what the keys do.
 */
export type KeyContext = 'global' | 'home' | 'filter' | 'lesson' | 'scroll' | 'confirm' | 'help' | 'error' | 'provision' | 'examIntro' | 'exam' | 'examResult';

export type Command =
  | 'app.quit'
  | 'app.help'
  | 'app.interrupt'
  | 'home.up'
  | 'home.down'
  | 'home.pageUp'
  | 'home.pageDown'
  | 'home.open'
  | 'home.filter'
  | 'filter.open'
  | 'filter.cancel'
  | 'filter.up'
  | 'filter.down'
  | 'lesson.attack'
  | 'lesson.check'
  | 'lesson.watch'
  | 'lesson.hint'
  | 'lesson.solution'
  | 'lesson.reset'
  | 'lesson.next'
  | 'lesson.list'
  | 'lesson.back'
  | 'scroll.down'
  | 'scroll.up'
  | 'scroll.pageDown'
  | 'scroll.pageUp'
  | 'scroll.top'
  | 'scroll.bottom'
  | 'confirm.yes'
  | 'confirm.no'
  | 'help.close'
  | 'error.dismiss'
  | 'error.retry'
  | 'exam.begin'
  | 'exam.next'
  | 'exam.submit'
  | 'exam.reset'
  | 'exam.off'
  | 'exam.checkOff'
  | 'exam.close';

type NamedKey = 'upArrow' | 'downArrow' | 'pageUp' | 'pageDown' | 'return' | 'escape' | 'home' | 'end' | 'tab';

export interface KeySpec {
  input?: string;
  key?: NamedKey;
  ctrl?: boolean;
}

export interface Binding {
  command: Command;
  context: KeyContext;
  keys: KeySpec[];
  /** What the help screen says the command does. */
  description: string;
  /** Short word for the footer; bindings without one are listed only in help. */
  footer?: string;
}

const k = (input: string): KeySpec => ({ input });
const named = (key: NamedKey): KeySpec => ({ key });
const ctrl = (input: string): KeySpec => ({ input, ctrl: true });

export const KEYMAP: readonly Binding[] = [
  // Lesson screen: the fixed one-key footer (rustlings' habit). `a` only for a lesson that has an attack.
  {
    command: 'lesson.attack',
    context: 'lesson',
    keys: [k('a')],
    footer: 'attack',
    description: "run the lesson's attack on the cluster as it is now (esc: back to the text)",
  },
  { command: 'lesson.check', context: 'lesson', keys: [k('c')], footer: 'check', description: 'run the checks now' },
  { command: 'lesson.watch', context: 'lesson', keys: [k('w')], footer: 'watch', description: 'watch mode on/off: re-check whenever the cluster changes' },
  { command: 'lesson.hint', context: 'lesson', keys: [k('h')], footer: 'hint', description: 'the next hint, gentle first' },
  { command: 'lesson.solution', context: 'lesson', keys: [k('s')], footer: 'solution', description: 'show the reference solution (asks first)' },
  { command: 'lesson.reset', context: 'lesson', keys: [k('x')], footer: 'reset', description: 'put the lesson back to its insecure start (asks y/n)' },
  { command: 'lesson.next', context: 'lesson', keys: [k('n')], footer: 'next', description: 'open the next lesson' },
  { command: 'lesson.list', context: 'lesson', keys: [k('l')], footer: 'list', description: 'back to the list of lessons' },
  { command: 'lesson.back', context: 'lesson', keys: [named('escape')], description: 'from the solution, debrief or attack back to the lesson text' },
  // Lesson text scrolling: keys distinct from the footer's.
  { command: 'scroll.down', context: 'scroll', keys: [k('j'), named('downArrow')], description: 'scroll the text down a line' },
  { command: 'scroll.up', context: 'scroll', keys: [k('k'), named('upArrow')], description: 'scroll the text up a line' },
  { command: 'scroll.pageDown', context: 'scroll', keys: [named('pageDown'), k(' ')], description: 'scroll down a page' },
  { command: 'scroll.pageUp', context: 'scroll', keys: [named('pageUp'), k('b')], description: 'scroll up a page' },
  { command: 'scroll.top', context: 'scroll', keys: [k('g'), named('home')], description: 'to the top of the text' },
  { command: 'scroll.bottom', context: 'scroll', keys: [k('G'), named('end')], description: 'to the end of the text' },
  // Home.
  { command: 'home.up', context: 'home', keys: [k('k'), named('upArrow')], footer: 'up', description: 'previous lesson' },
  { command: 'home.down', context: 'home', keys: [k('j'), named('downArrow')], footer: 'down', description: 'next lesson' },
  { command: 'home.pageUp', context: 'home', keys: [named('pageUp')], description: 'a page of lessons up' },
  { command: 'home.pageDown', context: 'home', keys: [named('pageDown')], description: 'a page of lessons down' },
  { command: 'home.open', context: 'home', keys: [named('return')], footer: 'open', description: 'open the selected lesson' },
  { command: 'home.filter', context: 'home', keys: [k('/')], footer: 'filter', description: 'filter the lessons by id, title or layer' },
  { command: 'filter.open', context: 'filter', keys: [named('return')], footer: 'open', description: 'open the selected lesson' },
  { command: 'filter.up', context: 'filter', keys: [named('upArrow')], description: 'previous match' },
  { command: 'filter.down', context: 'filter', keys: [named('downArrow')], description: 'next match' },
  { command: 'filter.cancel', context: 'filter', keys: [named('escape')], footer: 'clear', description: 'clear the filter' },
  // Dialogs.
  { command: 'confirm.yes', context: 'confirm', keys: [k('y'), k('Y')], footer: 'yes', description: 'confirm' },
  { command: 'confirm.no', context: 'confirm', keys: [k('n'), k('N'), named('escape')], footer: 'no', description: 'cancel' },
  { command: 'error.retry', context: 'error', keys: [k('r')], footer: 'retry', description: 'try again' },
  { command: 'error.dismiss', context: 'error', keys: [named('escape'), named('return')], footer: 'dismiss', description: 'close the message' },
  // Exam.
  {
    command: 'exam.begin',
    context: 'examIntro',
    keys: [named('return')],
    footer: 'start the exam',
    description: 'start the exam: set up its first lesson and start the clock',
  },
  {
    command: 'exam.next',
    context: 'exam',
    keys: [k('n')],
    footer: 'hand in & next',
    description: 'hand in this lesson (its checks run now, results at the end) and set up the next',
  },
  { command: 'exam.submit', context: 'exam', keys: [k('f')], footer: 'finish', description: 'hand in this lesson and end the exam (asks first)' },
  {
    command: 'exam.reset',
    context: 'exam',
    keys: [k('x')],
    footer: 'reset',
    description: 'put this exam lesson back to its insecure start (the clock keeps running)',
  },
  { command: 'exam.off', context: 'exam', keys: [k('h'), k('s')], description: 'hints and solutions are off during the exam' },
  {
    command: 'exam.checkOff',
    context: 'exam',
    keys: [k('c'), k('w'), k('a')],
    description: 'no checks, watch or attacks in the exam: checks run when a lesson is handed in',
  },
  {
    command: 'exam.close',
    context: 'examResult',
    keys: [named('return'), k('l')],
    footer: 'lessons list',
    description: 'from the exam result to the list of lessons',
  },
  { command: 'help.close', context: 'help', keys: [named('escape'), k('?'), k('q')], footer: 'close', description: 'close this help' },
  // Everywhere.
  { command: 'app.help', context: 'global', keys: [k('?')], footer: 'help', description: 'this help' },
  { command: 'app.quit', context: 'global', keys: [k('q')], footer: 'quit', description: 'quit (the cluster keeps running; `kube-seclab down` stops it)' },
  { command: 'app.interrupt', context: 'global', keys: [ctrl('c')], description: 'quit; while the cluster is being set up, stop (the next start resumes)' },
];

export const CONTEXT_TITLES: Record<KeyContext, string> = {
  lesson: 'Lesson',
  scroll: 'Lesson text',
  home: 'Lessons list',
  filter: 'While filtering',
  confirm: 'Questions',
  error: 'Messages',
  help: 'Help',
  global: 'Everywhere',
  provision: 'While setting up',
  examIntro: 'Before the exam',
  exam: 'During the exam',
  examResult: 'Exam result',
};

function matchesSpec(s: KeySpec, input: string, key: Key): boolean {
  if (!!s.ctrl !== !!key.ctrl) return false;
  if (s.key) return key[s.key] === true;
  return s.input === input && !key.escape && !key.return;
}

/** The command a keypress means in the first of `contexts` (in order) that binds it. */
export function commandFor(contexts: readonly KeyContext[], input: string, key: Key): Command | undefined {
  for (const c of contexts) {
    for (const b of KEYMAP) if (b.context === c && b.keys.some((s) => matchesSpec(s, input, key))) return b.command;
  }
  return undefined;
}

export function binding(command: Command): Binding {
  const b = KEYMAP.find((x) => x.command === command);
  if (!b) throw new Error(`no binding for ${command}`);
  return b;
}

const KEY_NAMES: Record<NamedKey, string> = {
  upArrow: '↑',
  downArrow: '↓',
  pageUp: 'PgUp',
  pageDown: 'PgDn',
  return: 'enter',
  escape: 'esc',
  home: 'Home',
  end: 'End',
  tab: 'tab',
};

export function specLabel(s: KeySpec): string {
  const base = s.key ? KEY_NAMES[s.key] : s.input === ' ' ? 'space' : (s.input ?? '');
  return s.ctrl ? `ctrl+${base}` : base;
}

/** "j/↓" — every key of a command, for help; the first key alone for footers. */
export function keysLabel(command: Command, all = true): string {
  const b = binding(command);
  return all
    ? b.keys
        .filter((s) => !(s.input && /^[A-Z]$/.test(s.input) && b.keys.some((o) => o.input === s.input!.toLowerCase())))
        .map(specLabel)
        .join('/')
    : specLabel(b.keys[0]);
}

export interface FooterItem {
  key: string;
  label: string;
  command: Command;
}

/** The footer entries for a screen, in table order. */
export function footerItems(commands: readonly Command[]): FooterItem[] {
  return commands.map((c) => {
    const b = binding(c);
    return { key: specLabel(b.keys[0]), label: b.footer ?? b.description, command: c };
  });
}

export const LESSON_FOOTER: readonly Command[] = [
  'lesson.attack',
  'lesson.check',
  'lesson.watch',
  'lesson.hint',
  'lesson.solution',
  'lesson.reset',
  'lesson.next',
  'lesson.list',
  'app.help',
  'app.quit',
];
export const HOME_FOOTER: readonly Command[] = ['home.down', 'home.open', 'home.filter', 'app.help', 'app.quit'];
export const FILTER_FOOTER: readonly Command[] = ['filter.open', 'filter.cancel'];
export const CONFIRM_FOOTER: readonly Command[] = ['confirm.yes', 'confirm.no'];
export const EXAM_FOOTER: readonly Command[] = ['exam.next', 'exam.submit', 'exam.reset', 'app.help', 'app.quit'];
export const HELP_ORDER: readonly KeyContext[] = [
  'lesson',
  'scroll',
  'home',
  'filter',
  'examIntro',
  'exam',
  'examResult',
  'confirm',
  'error',
  'help',
  'global',
];
