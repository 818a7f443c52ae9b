import { z } from 'zod';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import dockerignoreModule from '@balena/dockerignore';
import { minimatch } from 'minimatch';
import type { CheckOutcome, CheckPrimitive } from './types.js';
import { appFolder } from '../builds.js';
import { resolveSecrets, secretSpecSchema, type Needle } from './imageLayers.js';

/** A path in the context as Docker cleans it: forward slashes, no leading ./ or /, no trailing /. */
const clean = (p: string) =>
  p
    .trim()
    .replace(/\\/g, '/')
    .replace(/^(\.\/|\/)+/, '')
    .replace(/\/+$/, '')
    .replace(/\/\.(?=\/|$)/g, '')
    .replace(/\/{2,}/g, '/');

/** The path and each folder above it: a rule that matches a folder matches everything in it. */
const selfAndParents = (path: string) =>
  path
    .split('/')
    .map((_, i, a) => a.slice(0, i + 1).join('/'))
    .reverse();

// A CommonJS module whose exports are the factory (its typings call that `default`).
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

/**
 * Whether .dockerignore keeps a context file out of the build: its rules in order, `!` re-includes,
 * the last rule that matches the file (or a folder above it) decides — Docker's own matcher
 * (@balena/dockerignore is a port of it).
 */
export function dockerignored(rules: string, path: string): boolean {
  return dockerignore({ ignorecase: false }).add(rules.split(/\r?\n/)).ignores(path);
}

export interface CopySource {
  line: number;
  instruction: string;
  sources: string[];
}

/**
 * The context paths a Dockerfile copies into an image: the sources of every COPY and ADD (in any
 * stage) that reads from the build context — not `--from=` another stage, not ADD of a URL.
 */
export function dockerfileSources(dockerfile: string): CopySource[] {
  const out: CopySource[] = [];
  const lines = dockerfile.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let text = lines[i];
    if (/^\s*#/.test(text)) continue;
    while (/\\\s*$/.test(text) && i + 1 < lines.length) {
      i++;
      if (/^\s*#/.test(lines[i])) continue;
      text = text.replace(/\\\s*$/, ' ') + lines[i];
    }
    const m = /^\s*(COPY|ADD)\s+(.*)$/i.exec(text);
    if (!m) continue;
    let rest = m[2].trim();
    const flags: string[] = [];
    while (rest.startsWith('--')) {
      const f = /^--\S+/.exec(rest)![0];
      flags.push(f);
      rest = rest.slice(f.length).trim();
    }
    if (flags.some((f) => /^--from=/i.test(f))) continue;
    let args: string[];
    if (rest.startsWith('[')) {
      try {
        args = JSON.parse(rest) as string[];
      } catch {
        args = rest.split(/\s+/);
      }
    } else args = rest.split(/\s+/).filter(Boolean);
    if (rest.startsWith('<<')) continue; // a heredoc: inline content, not context files
    const sources = args.slice(0, -1).filter((s) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(s) && !s.startsWith('<<'));
    if (sources.length) out.push({ line: start + 1, instruction: text.trim().replace(/\s+/g, ' '), sources });
  }
  return out;
}

/** Whether a COPY/ADD source takes a context file: the file itself, a folder above it, or a glob that matches either. */
export function sourceTakes(source: string, path: string): boolean {
  const s = clean(source);
  if (s === '' || s === '.') return true;
  // A glob as Docker matches COPY sources (Go's filepath.Match: `*` stops at /, and matches dotfiles).
  if (/[*?[]/.test(s)) return selfAndParents(path).some((p) => minimatch(p, s, { dot: true }));
  return path === s || path.startsWith(`${s}/`);
}

export interface ContextLeak {
  file: string;
  secret: string;
  copiedBy?: CopySource;
}

/**
 * Which files of a build context hold a secret and get into an image: each file Docker would send
 * (not excluded by .dockerignore) that holds one of the values and that a COPY/ADD takes — and the
 * Dockerfile itself (an ENV/ARG value ends up in the image's config).
 */
export function contextLeaks(files: { path: string; data: Buffer }[], needles: Needle[]): ContextLeak[] {
  const dockerfile = files.find((f) => f.path === 'Dockerfile')?.data.toString('utf8') ?? '';
  const ignore = files.find((f) => f.path === '.dockerignore')?.data.toString('utf8') ?? '';
  const copies = dockerfileSources(dockerfile);
  const out: ContextLeak[] = [];
  for (const f of files) {
    for (const n of needles) {
      if (!f.data.includes(n.value)) continue;
      if (f.path === 'Dockerfile') {
        out.push({ file: f.path, secret: n.describe });
        continue;
      }
      if (dockerignored(ignore, f.path)) continue;
      const copiedBy = copies.find((c) => c.sources.some((s) => sourceTakes(s, f.path)));
      if (copiedBy) out.push({ file: f.path, secret: n.describe, copiedBy });
    }
  }
  return out;
}

const schema = z
  .object({
    /** The app's folder in the workspace: the build context, with its Dockerfile and .dockerignore. */
    path: z.string(),
    /** What no file that goes into the image may hold. */
    secrets: z.array(secretSpecSchema).min(1),
  })
  .strict();
type P = z.infer<typeof schema>;

/**
 * No secret goes into the image from the build context, judged from the workspace alone (so it runs
 * on every engine): each file that holds one is either kept out by .dockerignore or copied by no
 * COPY/ADD — and the Dockerfile itself holds none. A simple reading of the Dockerfile: COPY/ADD
 * sources in any stage (a builder stage's layers sit in the build cache too), plain paths and
 * globs; no build arguments, no RUN --mount. `imageLayers` is the proof on the image itself.
 */
export const buildContext: CheckPrimitive<P> = {
  type: 'buildContext',
  schema,
  watches: (p) => p.secrets.flatMap((s) => ('secretKeyRef' in s ? [{ apiVersion: 'v1', kind: 'Secret', namespace: s.secretKeyRef.namespace }] : [])),
  async run(ctx, p): Promise<CheckOutcome> {
    const app = await appFolder(ctx.workspace, p.path).catch(() => undefined);
    if (!app)
      return { passed: false, message: `the workspace has no ${p.path} folder with a Dockerfile any more — a lesson reset hands its sources out again` };
    const needles = await resolveSecrets(ctx, p.secrets);
    const files: { path: string; data: Buffer }[] = [];
    for (const e of await readdir(app.dir, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const path = relative(app.dir, join(e.parentPath, e.name)).split(sep).join('/');
      if (path.split('/').includes('.git')) continue;
      files.push({ path, data: await readFile(join(app.dir, path)) });
    }
    const leaks = contextLeaks(files, needles);
    if (leaks.length) {
      const l = leaks[0];
      const more = leaks.length > 1 ? ` (and ${leaks.length - 1} more)` : '';
      const msg = l.copiedBy
        ? `${p.path}/${l.file} holds ${l.secret}, and the Dockerfile's \`${l.copiedBy.instruction}\` (line ${l.copiedBy.line}) copies it into an image layer — a later \`RUN rm\` cannot take it out of that layer. Keep it out of the build: list it in ${p.path}/.dockerignore (or copy only the files the app needs)${more}`
        : `${p.path}/Dockerfile itself holds ${l.secret} — an ENV or ARG value is kept in the image's config for everyone who pulls it; give the app its key at runtime from a Secret instead${more}`;
      return { passed: false, message: msg };
    }
    return { passed: true, message: `no file the Dockerfile copies from ${p.path} holds ${needles.map((n) => n.describe).join(' or ')}` };
  },
};
