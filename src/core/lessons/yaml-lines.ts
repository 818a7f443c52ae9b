import type { Document, LineCounter } from 'yaml';

/** A problem in a file the lab reads (a lesson, an attack, a workshop): "file:line: field: message". */
export interface LoadProblem {
  file: string;
  line?: number;
  field?: string;
  message: string;
}

/** The line of the deepest node of `path` that exists in a parsed YAML document. */
export function lineOf(doc: Document, lc: LineCounter, path: (string | number)[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node: any = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (node && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

/** A zod issue path as a field name: `checks[0].rbac.verb`. */
export function fieldPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}

/** "file:line: field: message" — what a lesson author sees for a broken lesson. */
export function formatProblem(p: LoadProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ''}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}
