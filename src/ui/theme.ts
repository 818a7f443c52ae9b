import { createContext, useContext } from 'react';

/**
 * Colours as semantic roles, one theme for the whole TUI. Components never name a colour: they
 * ask for a role (`theme.status.error`) and spread its Text props. With NO_COLOR (or TERM=dumb,
 * FORCE_COLOR=0) every role is empty, so frames carry no escape codes at all — the symbols
 * (✓ ✗ ▸ …) still say everything the colours say.
 */
export interface TextStyle {
  color?: string;
  backgroundColor?: string;
  bold?: boolean;
  dimColor?: boolean;
  inverse?: boolean;
}

export interface Theme {
  noColor: boolean;
  status: { success: TextStyle; error: TextStyle; warning: TextStyle; info: TextStyle };
  text: { primary: TextStyle; muted: TextStyle; accent: TextStyle; title: TextStyle; key: TextStyle; link: TextStyle };
  ui: { selection: TextStyle; border?: string; borderError?: string; borderWarning?: string; progressDone: TextStyle; progressTodo: TextStyle };
  /** The same roles as ANSI wrappers, for text rendered outside Ink (markdown). */
  ansi: {
    heading: (s: string) => string;
    firstHeading: (s: string) => string;
    strong: (s: string) => string;
    em: (s: string) => string;
    code: (s: string) => string;
    link: (s: string) => string;
    quote: (s: string) => string;
    muted: (s: string) => string;
  };
  symbols: typeof SYMBOLS;
}

export const SYMBOLS = {
  pass: '✓',
  fail: '✗',
  pending: '○',
  skip: '–',
  unreachable: '?',
  error: '!',
  pointer: '▸',
  current: '▸',
  bullet: '•',
  arrow: '→',
  dot: '●',
  ellipsis: '…',
  barDone: '█',
  barTodo: '░',
} as const;

const sgr = (open: string, close: string) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const plain = (s: string) => s;

export function wantsColor(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false;
  if (env.TERM === 'dumb') return false;
  return true;
}

export function createTheme(env: NodeJS.ProcessEnv = process.env): Theme {
  if (!wantsColor(env)) {
    const none: TextStyle = {};
    return {
      noColor: true,
      status: { success: none, error: none, warning: none, info: none },
      text: { primary: none, muted: none, accent: none, title: none, key: none, link: none },
      ui: { selection: none, progressDone: none, progressTodo: none },
      ansi: { heading: plain, firstHeading: plain, strong: plain, em: plain, code: plain, link: plain, quote: plain, muted: plain },
      symbols: SYMBOLS,
    };
  }
  return {
    noColor: false,
    status: { success: { color: 'green' }, error: { color: 'red' }, warning: { color: 'yellow' }, info: { color: 'cyan' } },
    text: {
      primary: {},
      muted: { dimColor: true },
      accent: { color: 'cyan' },
      title: { bold: true },
      key: { color: 'cyan', bold: true },
      link: { color: 'blue' },
    },
    ui: {
      selection: { color: 'cyan', bold: true },
      border: 'gray',
      borderError: 'red',
      borderWarning: 'yellow',
      progressDone: { color: 'green' },
      progressTodo: { dimColor: true },
    },
    ansi: {
      heading: sgr('1;32', '22;39'),
      firstHeading: sgr('1;35', '22;39'),
      strong: sgr('1', '22'),
      em: sgr('3', '23'),
      code: sgr('33', '39'),
      link: sgr('34', '39'),
      quote: sgr('2;3', '22;23'),
      muted: sgr('2', '22'),
    },
    symbols: SYMBOLS,
  };
}

export const ThemeContext = createContext<Theme>(createTheme());
export const useTheme = (): Theme => useContext(ThemeContext);
