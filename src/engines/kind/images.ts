import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import { run } from './tools.js';

const catalogueSchema = z
  .object({
    registry: z.string().min(1),
    tag: z.string().min(1),
    images: z.array(z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/), context: z.string().min(1) }).strict()).min(1),
  })
  .strict();

export interface LabImage {
  name: string;
  ref: string;
  context: string;
}

/** scenarios/images/images.yaml: the workload images the scenarios run, built from Dockerfiles in the repo. */
export async function imageCatalogue(root: string): Promise<LabImage[]> {
  const file = join(root, 'scenarios', 'images', 'images.yaml');
  const parsed = catalogueSchema.safeParse(parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new UserError(`${file}: ${i.path.join('.')}: ${i.message}`, 'fix the image list (scenarios/images/images.yaml)');
  }
  const c = parsed.data;
  return c.images.map((i) => ({ name: i.name, ref: `${c.registry}/${i.name}:${c.tag}`, context: join(root, 'scenarios', 'images', i.context) }));
}

/** A hash of an image's build context (every file) and its build argument: unchanged → no rebuild. */
export async function contextHash(img: LabImage): Promise<string> {
  const h = createHash('sha256').update(img.name);
  for (const f of (await readdir(img.context, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort()) {
    h.update(f.slice(img.context.length)).update(await readFile(f));
  }
  return h.digest('hex').slice(0, 16);
}

const SOURCE_LABEL = 'dev.kube-seclab.source';

/** Docker's image id and source label per reference (absent images left out). */
async function dockerImages(refs: string[]): Promise<Map<string, { id: string; source?: string }>> {
  const out = new Map<string, { id: string; source?: string }>();
  if (!refs.length) return out;
  const r = await run('docker', ['image', 'inspect', '--format', `{{json .RepoTags}} {{.Id}} {{index .Config.Labels "${SOURCE_LABEL}"}}`, ...refs], {
    timeoutMs: 60_000,
  });
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [tags, id, source] = line.split(' ');
    for (const t of JSON.parse(tags) as string[]) out.set(t, { id, source: source && source !== '<no value>' ? source : undefined });
  }
  return out;
}

/**
 * Make the node run the current images: build those whose sources changed (`docker build`, layers
 * cached by Docker) and `load` every image the node does not hold at the same id. `nodeIds` maps
 * the node's image references to their ids.
 */
export async function syncImages(o: {
  images: LabImage[];
  load: (refs: string[]) => Promise<void>;
  nodeIds: Map<string, string>;
  update: (s: string) => void;
  signal?: AbortSignal;
}): Promise<{ built: number; loaded: number }> {
  const { built: stale, images: now } = await buildImages(o);
  const toLoad = o.images.filter((i) => {
    const id = now.get(i.ref)?.id;
    return !id || (o.nodeIds.get(i.ref) ?? o.nodeIds.get(`docker.io/${i.ref}`)) !== id;
  });
  if (toLoad.length) {
    o.signal?.throwIfAborted();
    o.update(`load ${toLoad.length} image(s) into the node`);
    await o.load(toLoad.map((i) => i.ref));
  }
  return { built: stale, loaded: toLoad.length };
}

/** Build the images whose sources changed since Docker last built them; Docker's view of all of them after. */
export async function buildImages(o: {
  images: LabImage[];
  update: (s: string) => void;
  signal?: AbortSignal;
}): Promise<{ built: number; images: Map<string, { id: string; source?: string }> }> {
  const hashes = new Map(await Promise.all(o.images.map(async (i) => [i.ref, await contextHash(i)] as const)));
  const have = await dockerImages(o.images.map((i) => i.ref));
  const stale = o.images.filter((i) => have.get(i.ref)?.source !== hashes.get(i.ref));
  let n = 0;
  for (const img of stale) {
    o.signal?.throwIfAborted();
    o.update(`build ${img.name} (${++n}/${stale.length})`);
    const r = await run(
      'docker',
      ['build', '-q', '--build-arg', `APP=${img.name}`, '--label', `${SOURCE_LABEL}=${hashes.get(img.ref)}`, '-t', img.ref, img.context],
      { timeoutMs: 600_000, env: { DOCKER_CLI_HINTS: 'false' } },
    );
    if (!r.ok) {
      const why = (r.stderr || r.stdout).trim().split('\n').filter(Boolean).pop() ?? 'docker build failed';
      throw new UserError(
        `could not build the lab image ${img.ref}: ${why}`,
        'the first build pulls its base image (node:20-bookworm-slim): check Docker can reach its registry, then `kube-seclab up` again',
      );
    }
  }
  return { built: stale.length, images: stale.length ? await dockerImages(o.images.map((i) => i.ref)) : have };
}

/** kind v0.32's default node image (pkg/apis/config/defaults): what `up --engine kind` runs without --image. */
export const KIND_DEFAULT_NODE_IMAGE = 'kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5';
/** What the lab's workload Dockerfiles start FROM (rebuilding them offline needs it). */
export const LAB_BASE_IMAGE = 'node:20-bookworm-slim';

/**
 * Everything a classroom without internet needs in Docker, in one file: the kind node image, the
 * lab's workload images and their base image. `docker save` on the instructor's machine,
 * `docker load` on each learner's (`kube-seclab images save/load`).
 */
export async function saveImages(o: { images: LabImage[]; nodeImage: string; file: string; update: (s: string) => void }): Promise<string[]> {
  await buildImages(o);
  const refs = [o.nodeImage, LAB_BASE_IMAGE, ...o.images.map((i) => i.ref)];
  const missing: string[] = [];
  for (const ref of refs) if (!(await run('docker', ['image', 'inspect', ref], { timeoutMs: 30_000 })).ok) missing.push(ref);
  if (missing.length)
    throw new UserError(
      `not in Docker here: ${missing.join(', ')}`,
      `pull them first (\`docker pull ${missing[0]}\`), or pick a node image that is here with --image`,
    );
  o.update(`docker save ${refs.length} images`);
  const r = await run('docker', ['save', '-o', o.file, ...refs], { timeoutMs: 1_800_000 });
  if (!r.ok) throw new UserError(`docker save failed: ${r.stderr.trim().split('\n').pop()}`, 'check free disk space where the file goes');
  return refs;
}

/** `docker load` a bundle written by saveImages; the references it brought. */
export async function loadImages(file: string): Promise<string[]> {
  const r = await run('docker', ['load', '-i', file], { timeoutMs: 1_800_000 });
  if (!r.ok)
    throw new UserError(`docker load ${file} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`, 'is it a file written by `kube-seclab images save`?');
  return r.stdout
    .split('\n')
    .map((l) => /^Loaded image(?: ID)?: (.+)$/.exec(l.trim())?.[1])
    .filter((x): x is string => !!x);
}
