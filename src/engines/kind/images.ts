import { readFile } from 'node:fs/promises';
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

/**
 * Build each image with `docker build` (layers cached by Docker, so a rebuild of an unchanged
 * image takes a moment) and load them into the kind cluster's node with `kind load docker-image`.
 */
export async function buildAndLoadImages(o: {
  images: LabImage[]; kind: string; clusterName: string; update: (s: string) => void; signal?: AbortSignal;
}): Promise<void> {
  let n = 0;
  for (const img of o.images) {
    o.signal?.throwIfAborted();
    o.update(`build ${img.name} (${++n}/${o.images.length})`);
    const r = await run('docker', ['build', '-q', '--build-arg', `APP=${img.name}`, '-t', img.ref, img.context], { timeoutMs: 600_000, env: { DOCKER_CLI_HINTS: 'false' } });
    if (!r.ok) {
      const why = (r.stderr || r.stdout).trim().split('\n').filter(Boolean).pop() ?? 'docker build failed';
      throw new UserError(`could not build the lab image ${img.ref}: ${why}`, 'the first build pulls its base image (node:20-bookworm-slim): check Docker can reach its registry, then `kube-seclab up` again');
    }
  }
  o.update(`load ${o.images.length} images into the node`);
  const r = await run(o.kind, ['load', 'docker-image', '--name', o.clusterName, ...o.images.map((i) => i.ref)], { timeoutMs: 900_000 });
  if (!r.ok) throw new UserError(`kind could not load the lab images: ${(r.stderr || r.stdout).trim().split('\n').pop()}`, '`kube-seclab status`; free disk space for Docker is the usual suspect');
}
