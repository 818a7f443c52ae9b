import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments, type Document } from 'yaml';
import type { KubernetesObject } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../kube/client.js';
import { renderText, type LabNames } from '../lessons/placeholders.js';
import type { Fix } from '../lessons/loader.js';
import type { NamespaceRenamer } from '../scope/rename.js';
import { shellQuote } from '../shell.js';
import { STEPS_FILE } from '../steps/files.js';
import { fixFiles, stepsFor } from '../steps/run.js';
import type { ByHand, ByHandContext } from '../steps/types.js';
import { labelled } from './objects.js';

/**
 * The command that applies manifests as the lab applies a scenario and its fixes: server-side
 * apply as the lab's own field manager. A client-side `kubectl apply` merges into the objects the
 * lab applied server-side (they carry no last-applied annotation): a field the fix leaves out —
 * a password in `env`, a `privileged: true` — stays. Applied as the lab's manager, whatever the
 * lab set and the fix leaves out is removed, so the result is the fix as written;
 * `--force-conflicts` takes over fields another manager set (your own `kubectl edit`, say).
 */
export function applyCommand(path: string): string {
  return `kubectl apply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f ${shellQuote(path)}`;
}

/** A lesson's reference solution as shown to the learner, with how to carry it out in this lab. */
export interface ShownSolution {
  description?: string;
  /** Its files as shown (manifests as this lab's cluster takes them), paths relative to the catalogue. */
  files: { path: string; text: string }[];
  /** Where the lab saved the shown files (the commands below name them there). */
  dir: string;
  /** What to run or do, in order: first the apply command for its manifests (if it has any), then each of its steps by hand. */
  steps: ByHand[];
}

/**
 * A manifest file as this lab's cluster takes it: namespaces as named there (`P-N` on a shared
 * cluster, wherever the lab renames them) and the two labels the lab puts on what it applies (they
 * tell a reset what belongs to the lesson) — set in the file's own YAML, comments kept.
 */
export function renderManifest(text: string, lessonId: string, rename: NamespaceRenamer): string {
  const docs = parseAllDocuments(text);
  for (const d of docs) {
    const was = d.toJS() as unknown;
    if (!was || typeof was !== 'object' || Array.isArray(was)) continue;
    sync(d, [], was, rename.value(labelled(was as KubernetesObject, lessonId)));
  }
  return docs.map((d) => d.toString({ lineWidth: 0, flowCollectionPadding: false })).join('');
}

/** Set in a document what differs between `was` (its value) and `want` (which only adds or changes). */
function sync(doc: Document, path: (string | number)[], was: unknown, want: unknown): void {
  const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (isMap(was) && isMap(want)) {
    for (const [k, v] of Object.entries(want)) {
      if (k in was) sync(doc, [...path, k], was[k], v);
      else doc.setIn([...path, k], v);
    }
  } else if (Array.isArray(was) && Array.isArray(want) && was.length === want.length) {
    want.forEach((v, i) => sync(doc, [...path, i], was[i], v));
  } else if (!isDeepStrictEqual(was, want)) doc.setIn(path, want);
}

/**
 * A fix folder shown for this lab: its files (what `fixFiles` lists — manifests, the steps file
 * that applies on this engine, the files its steps read) with this lab's names, saved in `out`
 * (emptied first), and what a person runs or does to carry it out — which is what `applyFix` does.
 */
export async function showSolution(
  fix: Fix,
  o: { lessonId: string; engine: string; names: LabNames; rename: NamespaceRenamer; catalogueRoot: string; out: string },
): Promise<ShownSolution> {
  const names = await fixFiles(fix.dir, o.engine);
  const { steps } = await stepsFor(fix.dir, o.engine);
  // Manifests: the folder's own (what `applyFix` applies first) and what its `apply` steps read.
  const topLevel = (n: string) => !n.includes('/') && /\.ya?ml$/.test(n) && !STEPS_FILE.test(n);
  const applied = steps.steps.filter((s) => s.type === 'apply').flatMap((s) => s.kind.files?.(s.params) ?? []);
  const isManifest = (n: string) => topLevel(n) || applied.some((a) => n === a || n.startsWith(`${a.replace(/\/+$/, '')}/`));
  await rm(o.out, { recursive: true, force: true });
  const files: ShownSolution['files'] = [];
  for (const n of names) {
    let text = renderText(await readFile(join(fix.dir, n), 'utf8'), o.names);
    if (isManifest(n)) text = renderManifest(text, o.lessonId, o.rename);
    files.push({ path: relative(o.catalogueRoot, join(fix.dir, n)), text });
    // The steps file is read, not run: saved beside the manifests, `kubectl apply -f <folder>` would take it for one.
    if (STEPS_FILE.test(n)) continue;
    await mkdir(dirname(join(o.out, n)), { recursive: true });
    await writeFile(join(o.out, n), text);
  }
  const h: ByHandContext = { names: o.names, file: (rel) => join(o.out, rel), applyCommand };
  const shown: ByHand[] = names.some(topLevel) ? [{ run: applyCommand(o.out) }] : [];
  for (const s of steps.steps) shown.push(s.kind.byHand(o.rename.value(s.params), h));
  return { description: fix.description, files, dir: o.out, steps: shown };
}
