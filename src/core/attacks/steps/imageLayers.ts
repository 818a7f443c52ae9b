import { z } from 'zod';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { minimatch } from 'minimatch';
import type { AttackStepKind, Evidence } from '../types.js';
import { runningBuild } from '../../checks/deployedBuild.js';
import { describeFinding, docker, dockerImageOf, readImageArchive, scanLayers, tarFiles, type Finding } from '../../checks/imageLayers.js';
import { appFolder } from '../../builds.js';

/** Files bigger than this are not searched (binaries; a key sits in a small text file). */
const MAX_FILE = 1024 * 1024;

const schema = z
  .object({
    /** The Deployment whose running image the attacker pulls. */
    workload: z.object({ namespace: z.string(), name: z.string(), container: z.string().optional() }).strict(),
    /** The app's folder in the workspace (what `kube-seclab build` built: the image's name). */
    path: z.string(),
    /** What the attacker greps for: a regular expression (its first group is the value, else the whole match). */
    find: z.array(z.object({ pattern: z.string(), label: z.string() }).strict()).min(1),
    /** Only files at these paths of the image (globs, e.g. `app/**` — the app's own files, not the base image's). */
    paths: z.array(z.string()).default(['**']),
    /** The name later steps use the first value found by (default `loot`). */
    as: z.string().default('loot'),
  })
  .strict()
  .superRefine((p, ctx) => {
    p.find.forEach((f, i) => {
      try {
        new RegExp(f.pattern);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['find', i, 'pattern'], message: `not a regular expression: ${(e as Error).message}` });
      }
    });
  });
type P = z.infer<typeof schema>;

export interface LayerHit {
  label: string;
  value: string;
  finding: Finding;
}

/**
 * Grep every layer of an image (and its config: ENV, ARG, RUN lines) for patterns, as someone who
 * unpacked `docker save` would — files a later layer deletes included. Each distinct value found,
 * with the lowest layer that holds it and what hides it above.
 */
export async function searchLayers(
  layers: { createdBy: string; tar: Buffer }[],
  config: Buffer,
  find: { pattern: string; label: string }[],
  paths: string[] = ['**'],
): Promise<LayerHit[]> {
  const res = find.map((f) => ({ label: f.label, re: new RegExp(f.pattern, 'g') }));
  const values = new Map<string, string>();
  const grep = (text: string) => {
    for (const { label, re } of res) {
      for (const m of text.matchAll(re)) {
        const v = (m[1] ?? m[0]).trim();
        if (v.length >= 4 && !values.has(v)) values.set(v, label);
      }
    }
  };
  grep(config.toString('latin1'));
  for (const l of layers) {
    for (const e of await tarFiles(l.tar)) {
      if (!e.data.length || e.data.length > MAX_FILE || !paths.some((g) => minimatch(e.path, g, { dot: true }))) continue;
      grep(e.data.toString('latin1'));
    }
  }
  if (!values.size) return [];
  const needles = [...values].map(([v, label]) => ({ describe: label, value: Buffer.from(v, 'latin1') }));
  const inConfig: Finding[] = needles
    .filter((n) => config.includes(n.value))
    .map((n) => ({ layer: 0, layers: layers.length, createdBy: '', path: '', secret: n.describe }));
  const found = [...inConfig, ...(await scanLayers(layers, needles))];
  const hits: LayerHit[] = [];
  for (const n of needles) {
    const f = found.find((x) => x.secret === n.describe && (x.layer === 0 ? config : layers[x.layer - 1].tar).includes(n.value));
    if (f) hits.push({ label: n.describe, value: n.value.toString('latin1'), finding: f });
  }
  return hits;
}

/** By image id (content-addressed) and what was searched for: an image's layers never change. */
const cache = new Map<string, LayerHit[]>();

/**
 * Pull the image a Deployment runs and unpack it layer by layer looking for credentials: what
 * anyone who can pull it (a shared registry, a leaked tarball) can do. The lab reads the very image
 * the node runs, from Docker (`docker save`), so it needs the kind engine (on local nothing is built).
 */
export const imageLayers: AttackStepKind<P> = {
  type: 'imageLayers',
  schema,
  requires: () => 'kind',
  timeoutMs: () => 180_000,
  async run(ctx, p) {
    const { app } = await appFolder(ctx.workspace, p.path).catch(() => ({ app: p.path.split('/').pop()! }));
    const r = await runningBuild(ctx, p.workload, app);
    if ('failure' in r) return { succeeded: false, message: `no image to pull: ${r.failure}` };
    const id = await dockerImageOf(ctx, r.build);
    const img = `${app}@${r.build.digest.slice(0, 19)}…`;
    if (!id)
      throw new Error(`the image Deployment ${p.workload.namespace}/${p.workload.name} runs (${img}) is not in Docker here, so its layers cannot be read`);
    const key = `${id}\0${JSON.stringify([p.find, p.paths])}`;
    let hits = cache.get(key);
    if (!hits) {
      const dir = await mkdtemp(join(tmpdir(), 'kube-seclab-attack-layers-'));
      try {
        const file = join(dir, 'image.tar');
        const s = await docker(['save', '-o', file, id], 150_000);
        if (!s.ok) throw new Error(`docker save of ${img} failed: ${s.stderr.trim().split('\n').pop()}`);
        const { configBytes, layers } = await readImageArchive(file);
        hits = await searchLayers(layers, configBytes, p.find, p.paths);
        cache.set(key, hits);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    if (!hits.length)
      return { succeeded: false, message: `unpacked every layer of ${img} (docker save): nothing matches ${p.find.map((f) => f.label).join(' or ')}` };
    const evidence: Evidence[] = [];
    for (const h of hits.slice(0, 3)) {
      evidence.push({ label: h.label, value: h.value, secret: true });
      evidence.push({ label: 'found in', value: describeFinding(h.finding) });
    }
    return {
      succeeded: true,
      message: `unpacked every layer of ${img} (docker save): ${hits.length} value${hits.length > 1 ? 's' : ''} of ${[...new Set(hits.map((h) => h.label))].join(', ')}`,
      evidence,
      vars: { [p.as]: hits[0].value },
    };
  },
};
