import { readFile } from 'node:fs/promises';
import { parseDocument, LineCounter, isMap, type Document } from 'yaml';
import { z } from 'zod';
import { UserError } from './errors.js';
import { fieldPath, formatProblem, lineOf, type LoadProblem } from './lessons/loader.js';
import type { Workshop, WorkshopRule } from './workshop-rules.js';

export * from './workshop-rules.js';

/**
 * A workshop file: what an instructor hands a class. It limits the lab to some lessons, in the
 * instructor's order, with an optional (soft) time box per lesson, and says whether hints and
 * reference solutions may be used — for the whole workshop, optionally per lesson.
 *
 *   title: Kubernetes security, morning session
 *   hints: true            # default true
 *   solutions: false       # default true
 *   lessons:
 *     - rbac-least-privilege                 # just the id
 *     - id: pod-security-standards
 *       minutes: 20                          # time box (soft: "over time" is shown, nothing blocks)
 *       hints: false                         # this lesson's own rule
 */

const lessonId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a lesson id: lower-case letters, digits and dashes');

const lessonEntrySchema = z.preprocess(
  (v) => (typeof v === 'string' ? { id: v } : v),
  z
    .object({
      id: lessonId,
      minutes: z.number().int('whole minutes').positive('more than 0 minutes').optional(),
      hints: z.boolean().optional(),
      solutions: z.boolean().optional(),
    })
    .strict(),
);

export const workshopSchema = z
  .object({
    title: z.string().min(1, 'a title for the class to see'),
    description: z.string().optional(),
    hints: z.boolean().default(true),
    solutions: z.boolean().default(true),
    lessons: z.array(lessonEntrySchema).min(1, 'at least one lesson'),
  })
  .strict();

/** A workshop file that cannot be used: every problem found, the first in the message. */
export class WorkshopError extends UserError {
  constructor(readonly problems: LoadProblem[]) {
    const more = problems.length > 1 ? ` (${problems.length - 1} more problem${problems.length > 2 ? 's' : ''} after this one)` : '';
    super(
      `workshop file ${formatProblem(problems[0])}`,
      `fix the workshop file${more}, or run without --workshop / KUBE_SECLAB_WORKSHOP; \`kube-seclab list\` shows the lesson ids`,
    );
    this.name = 'WorkshopError';
  }
}

function closest(id: string, known: readonly string[]): string[] {
  const words = id.split('-').filter((w) => w.length > 2);
  return known.filter((k) => k.includes(id) || id.includes(k) || words.some((w) => k.includes(w))).slice(0, 3);
}

/**
 * Parse and validate a workshop file's text; `knownIds` are the lessons of the catalogue.
 * Throws a WorkshopError naming file:line and field.
 */
export function parseWorkshop(text: string, file: string, knownIds: readonly string[]): Workshop {
  const lc = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new WorkshopError([{ file, line: e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line, message: `invalid YAML: ${e.message.split('\n')[0]}` }]);
  }
  if (!isMap(doc.contents)) throw new WorkshopError([{ file, line: 1, message: 'must be a YAML mapping (title:, lessons:, …)' }]);
  const problems: LoadProblem[] = [];
  const add = (path: PropertyKey[], message: string) =>
    problems.push({ file, line: lineOf(doc, lc, path as (string | number)[]), field: fieldPath(path) || undefined, message });
  const raw = doc.toJS();
  const parsed = workshopSchema.safeParse(raw);
  // Lesson ids are checked against the catalogue even when other fields are wrong: every problem at once.
  const seen = new Set<string>();
  (Array.isArray(raw?.lessons) ? (raw.lessons as unknown[]) : []).forEach((entry, i) => {
    const id = typeof entry === 'string' ? entry : (entry as { id?: unknown })?.id;
    if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(id)) return;
    const path = typeof entry === 'string' ? ['lessons', i] : ['lessons', i, 'id'];
    if (!knownIds.includes(id)) {
      const near = closest(id, knownIds);
      add(path, `no lesson "${id}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`);
    } else if (seen.has(id)) {
      add(path, `lesson ${id} is listed twice`);
    }
    seen.add(id);
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const known = issue.path.length === 0 ? Object.keys(workshopSchema.shape) : ['id', 'minutes', 'hints', 'solutions'];
        for (const k of issue.keys) add([...issue.path, k], `unknown field (known: ${known.join(', ')})`);
      } else {
        add(issue.path, issue.message);
      }
    }
  }
  if (!parsed.success || problems.length) throw new WorkshopError(problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  const w = parsed.data;

  const where = (path: (string | number)[]) => `${file}${lineOf(doc, lc, path) ? `:${lineOf(doc, lc, path)}` : ''}`;
  const rule = (kind: 'hints' | 'solutions', i: number): WorkshopRule => {
    const own = w.lessons[i][kind];
    if (own !== undefined) return { allowed: own, where: where(['lessons', i, kind]), field: fieldPath(['lessons', i, kind]) };
    return { allowed: w[kind], where: doc.has(kind) ? where([kind]) : file, field: kind };
  };
  return {
    file,
    title: w.title,
    description: w.description,
    lessons: w.lessons.map((l, i) => ({ id: l.id, minutes: l.minutes, hints: rule('hints', i), solutions: rule('solutions', i) })),
  };
}

/** Read and validate a workshop file. */
export async function loadWorkshop(file: string, knownIds: readonly string[]): Promise<Workshop> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `workshop file ${file}: ${code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a folder' : (e as Error).message}`,
      'give the path of a workshop YAML file (see examples/workshop.yaml)',
    );
  }
  return parseWorkshop(text, file, knownIds);
}

/** Validate a workshop file against the lessons of the package (before the TUI opens). */
export async function validateWorkshopFile(file: string, root?: string): Promise<Workshop> {
  const { loadCatalogue } = await import('./lessons/loader.js');
  const { packageRoot } = await import('./paths.js');
  const catalogue = await loadCatalogue(root ?? packageRoot);
  return loadWorkshop(
    file,
    catalogue.lessons.map((l) => l.id),
  );
}
