import { Marked } from 'marked';
import { markedTerminal } from 'marked-terminal';
import type { Theme } from './theme.js';

/** Every escape sequence that is not a colour/style (SGR): cursor moves, OSC hyperlinks, … */
const NON_SGR = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-9;?]*[A-Za-ln-z@`{|}~]|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[@-Z\\-_]/g;
const ANY_ESC = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
const TOKEN = /\x1b\[[0-9;]*m|[\s\S]/gu;

export function stripAnsi(s: string): string {
  return s.replace(ANY_ESC, '');
}

/** Columns a code point takes: 2 for East Asian wide and emoji, 0 for combining marks. */
function charWidth(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x300) return 1;
  if ((cp >= 0x300 && cp <= 0x36f) || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff)
  )
    return 2;
  return 1;
}

interface Sgr {
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
  strike: boolean;
  fg?: string;
  bg?: string;
}
const PLAIN: Sgr = { bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false };
const RESET = '\x1b[0m';

function applySgr(st: Sgr, params: string): Sgr {
  const p = params === '' ? ['0'] : params.split(';');
  let s = { ...st };
  for (let i = 0; i < p.length; i++) {
    const n = Number(p[i]);
    if (n === 0) s = { ...PLAIN };
    else if (n === 1) s.bold = true;
    else if (n === 2) s.dim = true;
    else if (n === 22) {
      s.bold = false;
      s.dim = false;
    } else if (n === 3) s.italic = true;
    else if (n === 23) s.italic = false;
    else if (n === 4) s.underline = true;
    else if (n === 24) s.underline = false;
    else if (n === 7) s.inverse = true;
    else if (n === 27) s.inverse = false;
    else if (n === 9) s.strike = true;
    else if (n === 29) s.strike = false;
    else if ((n >= 30 && n <= 37) || (n >= 90 && n <= 97)) s.fg = String(n);
    else if (n === 39) s.fg = undefined;
    else if ((n >= 40 && n <= 47) || (n >= 100 && n <= 107)) s.bg = String(n);
    else if (n === 49) s.bg = undefined;
    else if (n === 38 || n === 48) {
      const len = p[i + 1] === '5' ? 2 : p[i + 1] === '2' ? 4 : 0;
      const v = p.slice(i, i + 1 + len).join(';');
      if (n === 38) s.fg = v;
      else s.bg = v;
      i += len;
    }
  }
  return s;
}

function sgrOpen(s: Sgr): string {
  const c: string[] = [];
  if (s.bold) c.push('1');
  if (s.dim) c.push('2');
  if (s.italic) c.push('3');
  if (s.underline) c.push('4');
  if (s.inverse) c.push('7');
  if (s.strike) c.push('9');
  if (s.fg) c.push(s.fg);
  if (s.bg) c.push(s.bg);
  return c.length ? `\x1b[${c.join(';')}m` : '';
}

const LEAD = /^\s*(?:(?:[*•-]|\d+\.)\s+|>\s*)?/;

/**
 * Word-wrap ANSI-styled text to `width` columns, one self-contained string per screen line: a
 * style open at a break is closed there and re-opened on the next line, so each line can be drawn
 * on its own (the lesson view scrolls by line). Continuation lines hang under the text of a list
 * item or an indented (code) line; a word longer than the line is cut.
 */
export function wrapAnsi(text: string, width: number): string[] {
  const out: string[] = [];
  let st: Sgr = PLAIN;
  const close = (s: Sgr) => (sgrOpen(s) ? RESET : '');
  for (const raw of text.split('\n')) {
    const lead = LEAD.exec(stripAnsi(raw))?.[0] ?? '';
    const indentW = lead.length < width / 2 ? lead.length : 0;
    const indent = ' '.repeat(indentW);
    let cur = sgrOpen(st);
    let vis = 0;
    let brk: { idx: number; vis: number; st: Sgr } | undefined;
    for (const m of raw.matchAll(TOKEN)) {
      const tok = m[0];
      if (tok.startsWith('\x1b[')) {
        cur += tok;
        st = applySgr(st, tok.slice(2, -1));
        continue;
      }
      if (tok === '\r') continue;
      const ch = tok === '\t' ? '  ' : tok;
      const w = tok === '\t' ? 2 : charWidth(tok);
      if (vis + w > width && vis > 0) {
        if (tok === ' ') {
          out.push(cur + close(st));
          cur = indent + sgrOpen(st);
          vis = indentW;
          brk = undefined;
          continue;
        }
        if (brk && brk.vis > indentW) {
          const tail = cur.slice(brk.idx + 1);
          out.push(cur.slice(0, brk.idx) + close(brk.st));
          cur = indent + sgrOpen(brk.st) + tail;
          vis = indentW + (vis - brk.vis - 1);
        } else {
          out.push(cur + close(st));
          cur = indent + sgrOpen(st);
          vis = indentW;
        }
        brk = undefined;
      }
      if (tok === ' ' && vis >= indentW) brk = { idx: cur.length, vis, st };
      cur += ch;
      vis += w;
    }
    out.push(cur + close(st));
  }
  return out;
}

/** Lesson markdown as terminal lines of at most `width` columns, styled through the theme's roles. */
export function renderMarkdown(markdown: string, width: number, theme: Theme): string[] {
  const w = Math.max(20, width);
  const a = theme.ansi;
  const marked = new Marked();
  marked.use(
    markedTerminal(
      {
        width: 100_000,
        reflowText: true,
        tab: 2,
        showSectionPrefix: false,
        emoji: false,
        heading: a.heading,
        firstHeading: a.firstHeading,
        strong: a.strong,
        em: a.em,
        codespan: a.code,
        code: a.code,
        blockquote: a.quote,
        link: a.link,
        href: a.link,
        del: a.muted,
        html: a.muted,
        hr: (s: string) => s,
        listitem: (s: string) => s,
        paragraph: (s: string) => s,
        table: (s: string) => s,
        text: (s: string) => s.replace(/\n/g, ' '),
        tableOptions: theme.noColor ? { style: { head: [], border: [] } } : { style: { head: ['cyan'], border: ['gray'] } },
      },
      { ignoreIllegals: true },
    ),
  );
  // marked-terminal prints the raw source of a tight list item's text (backticks and all): render its inline tokens.
  marked.use({
    renderer: {
      // Code blocks: cut (not word-wrapped) to the width, a continuation marked ↪ so it cannot pass for a line of YAML.
      code(token) {
        const avail = Math.max(10, w - 2);
        const out: string[] = [];
        for (const line of token.text
          .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')
          .replace(/\n$/, '')
          .split('\n')) {
          let rest = line;
          let first = true;
          do {
            const room = first ? avail : avail - 2;
            const cut = [...rest].slice(0, room).join('');
            out.push(`  ${first ? '' : a.muted('↪ ')}${a.code(cut)}`);
            rest = rest.slice(cut.length);
            first = false;
          } while (rest.length);
        }
        return `${out.join('\n')}\n\n`;
      },
      text(token) {
        if (typeof token === 'object' && 'tokens' in token && token.tokens?.length) return this.parser.parseInline(token.tokens).replace(/\n/g, ' ');
        return false;
      },
    },
  });
  let text = marked.parse(markdown.replace(/\r\n?/g, '\n'), { async: false }) as string;
  text = theme.noColor ? stripAnsi(text) : text.replace(NON_SGR, '');
  const lines = wrapAnsi(text.replace(/\n+$/, ''), w);
  // Collapse runs of blank lines the renderer leaves between sections.
  return lines.filter((l, i) => !(stripAnsi(l).trim() === '' && i > 0 && stripAnsi(lines[i - 1]).trim() === ''));
}
