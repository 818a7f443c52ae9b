import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { z } from 'zod';
import type { Engine } from './engine/index.js';
import { UserError } from './errors.js';
import { readJson, writeFileAtomic } from './fsutil.js';
import { workspaceFile } from './workspace.js';

/** Where the lab's workload images live (never published: built locally, loaded into the node). */
export const LAB_REGISTRY = 'registry.kube-seclab.local';

const buildSchema = z.object({
  /** The app: the workspace folder's name, and the image's repository under the lab's registry. */
  app: z.string(),
  /** The workspace folder it was built from (relative to the workspace). */
  path: z.string(),
  /** The image by digest: what a Deployment should reference. */
  image: z.string(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** A hash of every file of the build context at build time (see sourceHash). */
  sourceHash: z.string(),
  engine: z.string(),
  builtAt: z.string(),
  /** The npm packages the build context carried (node_modules/**\/package.json), for scans and SBOMs. */
  packages: z.array(z.object({ name: z.string(), version: z.string(), path: z.string() })).default([]),
});
export type BuildRecord = z.infer<typeof buildSchema>;
const buildsFileSchema = z.object({ version: z.literal(1), builds: z.array(buildSchema) });

/** The lab's build history sits next to its workspace folder, in the lab's data folder. */
export function buildsFile(workspace: string): string {
  return join(dirname(workspace), 'builds.json');
}

/** Every build the lab made (newest last); a damaged file reads as none, never as an error. */
export async function readBuilds(workspace: string): Promise<BuildRecord[]> {
  const raw = await readJson<unknown>(buildsFile(workspace)).catch(() => undefined);
  const parsed = buildsFileSchema.safeParse(raw);
  return parsed.success ? parsed.data.builds : [];
}

async function recordBuild(workspace: string, rec: BuildRecord): Promise<void> {
  // Keep a short history per app: enough to tell "an older build" from "not built here".
  const keep = (await readBuilds(workspace)).filter((b) => b.digest !== rec.digest || b.engine !== rec.engine);
  const mine = keep.filter((b) => b.app === rec.app).slice(-19);
  const others = keep.filter((b) => b.app !== rec.app);
  await writeFileAtomic(buildsFile(workspace), JSON.stringify({ version: 1, builds: [...others, ...mine, rec] }, null, 2));
}

/** The files of a build context, sorted, relative with forward slashes (`.git` left out). */
async function contextFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .filter((f) => !f.split('/').includes('.git'))
    .sort();
}

/** A hash of every file (path and bytes) of a build context: the same sources, the same hash. */
export async function sourceHash(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const f of await contextFiles(dir))
    h.update(f)
      .update('\0')
      .update(await readFile(join(dir, f)))
      .update('\0');
  return h.digest('hex');
}

/** The npm packages in a build context's node_modules (nested ones too). */
export async function nodePackages(dir: string): Promise<BuildRecord['packages']> {
  const out: BuildRecord['packages'] = [];
  for (const f of await contextFiles(dir)) {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/@][^/]*)\/package\.json$/.exec(f);
    if (!m) continue;
    try {
      const pkg = JSON.parse(await readFile(join(dir, f), 'utf8')) as { name?: string; version?: string };
      if (pkg.name && pkg.version) out.push({ name: pkg.name, version: pkg.version, path: f.slice(0, -'/package.json'.length) });
    } catch {
      /* not a package manifest */
    }
  }
  return out;
}

/** An app folder in the workspace: a name that is also a valid image repository, and a Dockerfile. */
export async function appFolder(workspace: string, path: string | undefined): Promise<{ app: string; path: string; dir: string }> {
  if (!path) {
    const apps = existsSync(workspace)
      ? (await readdir(workspace, { withFileTypes: true }))
          .filter((e) => e.isDirectory() && existsSync(join(workspace, e.name, 'Dockerfile')))
          .map((e) => e.name)
      : [];
    if (apps.length !== 1) {
      throw new UserError(
        apps.length ? `the workspace holds several apps (${apps.join(', ')}): say which` : `no app to build in the workspace (${workspace})`,
        apps.length ? `\`kube-seclab build ${apps[0]}\`` : "start a lesson that hands you an app's sources (`kube-seclab list`, layer app)",
      );
    }
    path = apps[0];
  }
  const dir = workspaceFile({ workspace }, path.replace(/\/+$/, ''));
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory())
    throw new UserError(
      `no folder ${path} in the workspace (${workspace})`,
      '`kube-seclab status` shows the workspace; a lesson reset hands its sources out again',
    );
  if (!existsSync(join(dir, 'Dockerfile'))) throw new UserError(`${dir} has no Dockerfile`, 'build the folder the lesson handed you (it has a Dockerfile)');
  const app = basename(dir);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(app))
    throw new UserError(`${app} is not a usable image name`, 'the app folder name must be lower-case letters, digits and dashes');
  return { app, path: relative(workspace, dir).split(sep).join('/'), dir };
}

/**
 * Build an app from the learner's workspace as an image of the lab's registry, and put it where the
 * cluster runs it: on kind, `docker build` + loaded into the node (the digest is the node's); on
 * engines whose pods are simulated, nothing is built and the digest is the sources' hash — the same
 * sources, the same digest, so the checks still tell which sources a Deployment runs.
 */
export async function buildApp(o: { engine: Engine; workspace: string; path?: string; update?: (s: string) => void }): Promise<BuildRecord> {
  const { app, path, dir } = await appFolder(o.workspace, o.path);
  const hash = await sourceHash(dir);
  const packages = await nodePackages(dir);
  const digest = o.engine.node
    ? (await o.engine.node.buildImage({ name: app, context: dir, sourceHash: hash, update: o.update ?? (() => {}) })).digest
    : `sha256:${hash}`;
  const rec: BuildRecord = {
    app,
    path,
    digest,
    image: `${LAB_REGISTRY}/${app}@${digest}`,
    sourceHash: hash,
    engine: o.engine.name,
    builtAt: new Date().toISOString(),
    packages,
  };
  await recordBuild(o.workspace, rec);
  return rec;
}

/** The lab's build that an image reference names (`…/<app>@sha256:<digest>`), on this engine. */
export function buildOf(builds: BuildRecord[], image: string, engine: string): BuildRecord | undefined {
  const m = new RegExp(`^${LAB_REGISTRY.replace(/\./g, '\\.')}/([a-z0-9][a-z0-9-]*)@(sha256:[0-9a-f]{64})$`).exec(image);
  if (!m) return undefined;
  return builds.filter((b) => b.app === m[1] && b.digest === m[2] && b.engine === engine).pop();
}
