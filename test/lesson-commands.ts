/**
 * Every `kube-seclab …` command line a learner is told to run: from the README and, for every
 * lesson, lesson.md, debrief.md, its objectives, hints and check titles, and the solution's
 * description. Commands are read from code (fenced blocks and `inline code`), where a reader copies
 * them from; prose such as "kube-seclab's supervisor" is not a command.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCatalogue } from '../src/core/lessons/loader.js';

export interface FoundCommand {
  /** Where it was found: file (and what in it). */
  source: string;
  /** The words after `kube-seclab`, unquoted as a shell would (`$(…)` kept as text). */
  args: string[];
  /** As written. */
  text: string;
  /** Written as `npx kube-seclab …`. */
  npx: boolean;
}

/** The code in a markdown text: fenced blocks and inline code spans. */
export function codeOf(markdown: string): string[] {
  const out: string[] = [];
  const fence = /^[ \t]*```[^\n]*\n([\s\S]*?)^[ \t]*```/gm;
  const rest = markdown.replace(fence, (_m, body: string) => {
    out.push(body);
    return '\n';
  });
  // An inline code span may wrap onto the next line (not across a blank one): it is one line of code.
  for (const [, a, b] of rest.matchAll(/``((?:(?!\n\s*\n)[^`])+)``|`((?:(?!\n\s*\n)[^`])+)`/g)) out.push((a ?? b).replace(/\s*\n\s*/g, ' '));
  return out;
}

/**
 * One shell command's words from `s` on, up to an unquoted `;`, `|`, `&`, `)`, newline or comment:
 * quotes removed, `$(…)` inside double quotes kept as written. Returns the words and where it ended.
 */
function words(s: string, from: number): { words: string[]; end: number } {
  const out: string[] = [];
  let w: string | undefined;
  let i = from;
  const push = () => {
    if (w !== undefined) out.push(w);
    w = undefined;
  };
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === "'") {
      const j = s.indexOf("'", i + 1);
      w = (w ?? '') + s.slice(i + 1, j < 0 ? s.length : j);
      i = j < 0 ? s.length : j;
    } else if (c === '"') {
      let j = i + 1;
      let depth = 0;
      let buf = '';
      for (; j < s.length; j++) {
        if (s[j] === '\\' && j + 1 < s.length) {
          buf += s[j + 1];
          j++;
          continue;
        }
        if (s.startsWith('$(', j)) {
          depth++;
          buf += '$(';
          j++;
          continue;
        }
        if (s[j] === ')' && depth) {
          depth--;
          buf += ')';
          continue;
        }
        if (s[j] === '"' && !depth) break;
        buf += s[j];
      }
      w = (w ?? '') + buf;
      i = j;
    } else if (c === '\\' && i + 1 < s.length) {
      w = (w ?? '') + s[i + 1];
      i++;
    } else if (/\s/.test(c)) {
      if (c === '\n') break;
      push();
    } else if (';|&)'.includes(c)) break;
    else if (c === '#' && w === undefined) break;
    else w = (w ?? '') + c;
  }
  push();
  return { words: out, end: i };
}

/** A line of shell without its comment (a `#` that starts a word, outside quotes). */
function uncomment(line: string): string {
  let q: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"') i++;
      continue;
    }
    if (c === '"' || c === "'") q = c;
    else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
  }
  return line;
}

/** `kube-seclab` at a command position in a piece of code: the start, after `npx`, `$(`, `;`, `&&`, `|`, `(`. */
export function commandsIn(snippet: string, source: string): FoundCommand[] {
  const out: FoundCommand[] = [];
  const code = snippet.split('\n').map(uncomment).join('\n');
  const re = /(^|[\s;&|(`])(npx\s+)?kube-seclab(?=\s|$|[;&|)"])/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(code))) {
    const start = m.index + m[1].length;
    const before = code.slice(0, start).replace(/npx\s+$/, '');
    // At a command position: the start of a line or snippet, or after an operator or `$(`.
    if (!/(^|\n|[;&|(]\s*|\$\(\s*|^\s*)$/.test(before) && !/^\s*$/.test(before)) continue;
    const after = start + m[0].length - m[1].length;
    const { words: args, end } = words(code, after);
    out.push({ source, args, text: code.slice(start, end).trim(), npx: !!m[2] });
  }
  return out;
}

/** Every `kube-seclab` command in the README and in every lesson's texts. */
export async function allCommands(root: string): Promise<FoundCommand[]> {
  const found: FoundCommand[] = [];
  const add = (text: string | undefined, source: string) => {
    if (!text) return;
    for (const code of codeOf(text)) found.push(...commandsIn(code, source));
  };
  add(await readFile(join(root, 'README.md'), 'utf8'), 'README.md');
  const catalogue = await loadCatalogue(root);
  if (catalogue.problems.length) throw new Error(`lessons not loaded: ${catalogue.problems.map((p) => `${p.file}: ${p.message}`).join('; ')}`);
  for (const l of catalogue.lessons) {
    const rel = l.dir.slice(root.length + 1);
    add(l.markdown, `${rel}/lesson.md`);
    add(l.debrief, `${rel}/debrief.md`);
    l.hints.forEach((h, i) => add(h, `${rel}/lesson.yaml hints[${i}]`));
    l.objectives.forEach((o, i) => add(o.text, `${rel}/lesson.yaml objectives[${i}]`));
    l.checks.forEach((c, i) => add(c.title, `${rel}/lesson.yaml checks[${i}].title`));
    add(l.solution.description, `${rel}/solution description`);
  }
  return found;
}

/** The first word after `kube-seclab` that is not an option (or an option's value): the subcommand, if any. */
export function subcommandOf(args: string[], valueOptions: ReadonlySet<string>): { cmd?: string; sub?: string } {
  const pos: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      if (!a.includes('=') && valueOptions.has(a.slice(2))) i++;
      continue;
    }
    if (/^-[a-z]$/.test(a)) continue;
    pos.push(a);
  }
  return { cmd: pos[0], sub: pos[1] };
}
