import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import { run } from './tools.js';

const catalogueSchema = z.object({
  registry: z.string().min(1),
  tag: z.string().min(1),
  images: z.array(z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/), context: z.string().min(1) }).strict()).min(1),
}).strict();

export interface LabImage { name: string; ref: string; context: string }

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
  for (const f of (await readdir(img.context, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort()) {
    h.update(f.slice(img.context.length)).update(await readFile(f));
  }
  return h.digest('hex').slice(0, 16);
}

const SOURCE_LABEL = 'dev.kube-seclab.source';

/** Docker's image id and source label per reference (absent images left out). */
async function dockerImages(refs: string[]): Promise<Map<string, { id: string; source?: string }>> {
  const out = new Map<string, { id: string; source?: string }>();
  if (!refs.length) return out;
  const r = await run('docker', ['image', 'inspect', '--format', `{{json .RepoTags}} {{.Id}} {{index .Config.Labels "${SOURCE_LABEL}"}}`, ...refs], { timeoutMs: 60_000 });
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [tags, id, source] = line.split(' ');
    for (const t of JSON.parse(tags) as string[]) out.set(t, { id, source: source && source !== '<no value>' ? source : undefined });
  }
  return out;
}

/**
 * Make the node run the current images: build those whose sources changed (`docker build`, layers
 * cached by Docker) and load every image the node does not hold at the same id with
 * `kind load docker-image`. `nodeIds` maps the node's image references to their ids.
 */
export async function syncImages(o: {
  images: LabImage[]; kind: string; clusterName: string; nodeIds: Map<string, string>; update: (s: string) => void; signal?: AbortSignal;
}): Promise<{ built: number; loaded: number }> {
  const hashes = new Map(await Promise.all(o.images.map(async (i) => [i.ref, await contextHash(i)] as const)));
  const have = await dockerImages(o.images.map((i) => i.ref));
  const stale = o.images.filter((i) => have.get(i.ref)?.source !== hashes.get(i.ref));
  let n = 0;
  for (const img of stale) {
    o.signal?.throwIfAborted();
    o.update(`build ${img.name} (${++n}/${stale.length})`);
    const r = await run('docker', ['build', '-q', '--build-arg', `APP=${img.name}`, '--label', `${SOURCE_LABEL}=${hashes.get(img.ref)}`, '-t', img.ref, img.context], { timeoutMs: 600_000, env: { DOCKER_CLI_HINTS: 'false' } });
    if (!r.ok) {
      const why = (r.stderr || r.stdout).trim().split('\n').filter(Boolean).pop() ?? 'docker build failed';
      throw new UserError(`could not build the lab image ${img.ref}: ${why}`, 'the first build pulls its base image (node:20-bookworm-slim): check Docker can reach its registry, then `kube-seclab up` again');
    }
  }
  const now = stale.length ? await dockerImages(o.images.map((i) => i.ref)) : have;
  const toLoad = o.images.filter((i) => {
    const id = now.get(i.ref)?.id;
    return !id || (o.nodeIds.get(i.ref) ?? o.nodeIds.get(`docker.io/${i.ref}`)) !== id;
  });
  if (toLoad.length) {
    o.signal?.throwIfAborted();
    o.update(`load ${toLoad.length} image(s) into the node`);
    const r = await run(o.kind, ['load', 'docker-image', '--name', o.clusterName, ...toLoad.map((i) => i.ref)], { timeoutMs: 900_000 });
    if (!r.ok) throw new UserError(`kind could not load the lab images: ${(r.stderr || r.stdout).trim().split('\n').pop()}`, '`kube-seclab status`; free disk space for Docker is the usual suspect');
  }
  return { built: stale.length, loaded: toLoad.length };
}
