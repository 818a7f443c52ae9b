import { z } from 'zod';
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { Parser, t as tarList, type ReadEntry } from 'tar';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { CheckContext, CheckOutcome, CheckPrimitive } from './types.js';
import { runningBuild } from './deployedBuild.js';
import { appFolder, LAB_REGISTRY, type BuildRecord } from '../builds.js';

// ---------------------------------------------------------------------------------------------
// What must not be in the image: literal values (a key known to have leaked) and the value a
// Secret holds now (the key that replaced it must not be baked in either).
// ---------------------------------------------------------------------------------------------

export const secretSpecSchema = z.union([
  z.object({ value: z.string().min(8), describe: z.string() }).strict(),
  z.object({ secretKeyRef: z.object({ namespace: z.string(), name: z.string(), key: z.string() }).strict(), describe: z.string() }).strict(),
]);
export type SecretSpec = z.infer<typeof secretSpecSchema>;
export interface Needle {
  describe: string;
  value: Buffer;
}

/** Values shorter than this are not searched for (they would match by accident); a rotation check asks for long keys. */
export const MIN_NEEDLE = 8;

/** The values to look for: literals as given, a Secret's key decoded (trimmed; absent or too short → left out). */
export async function resolveSecrets(ctx: CheckContext, specs: SecretSpec[]): Promise<Needle[]> {
  const out: Needle[] = [];
  for (const s of specs) {
    if ('value' in s) {
      out.push({ describe: s.describe, value: Buffer.from(s.value) });
      continue;
    }
    const r = s.secretKeyRef;
    const sec: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: r.name, namespace: r.namespace } });
    const b64 = sec?.data?.[r.key];
    const v = typeof b64 === 'string' ? Buffer.from(b64, 'base64').toString('utf8').trim() : '';
    if (v.length >= MIN_NEEDLE && !out.some((n) => n.value.toString() === v)) out.push({ describe: s.describe, value: Buffer.from(v) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// tar, as `docker save` writes it (the archive) and as image layers are (each layer a tar): read
// with node-tar (ustar, GNU long names, pax headers).
// ---------------------------------------------------------------------------------------------

/** One entry of a tar: its path as the image's filesystem sees it, node-tar's type, its bytes (regular files). */
export interface TarFile {
  path: string;
  type: string;
  data: Buffer;
}

/** A layer path as the image's filesystem sees it: no leading ./ or /. */
export const normPath = (p: string) => p.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');

const REGULAR = new Set(['File', 'OldFile', 'ContiguousFile']);

/** Every entry of a tar held in memory, in order (a regular file's bytes with it). */
export function tarFiles(tar: Buffer): Promise<TarFile[]> {
  return new Promise((resolve, reject) => {
    const out: TarFile[] = [];
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const chunks: Buffer[] = [];
        const file: TarFile = { path: normPath(entry.path), type: entry.type, data: Buffer.alloc(0) };
        out.push(file);
        if (!REGULAR.has(entry.type)) {
          entry.resume();
          return;
        }
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => {
          file.data = Buffer.concat(chunks);
        });
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve(out));
    parser.end(tar);
  });
}

/** The regular files of a tar on disk, by path (a `docker save` archive: manifest, config, layers). */
async function archiveFiles(file: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  await tarList({
    file,
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      if (!REGULAR.has(entry.type)) {
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => files.set(normPath(entry.path), Buffer.concat(chunks)));
    },
  });
  return files;
}

/** A layer's bytes as a tar (docker save writes them plain; OCI layouts may gzip them). */
export function layerTar(b: Buffer): Buffer {
  if (b[0] === 0x1f && b[1] === 0x8b) return gunzipSync(b);
  if (b.readUInt32LE(0) === 0xfd2fb528) throw new Error('a zstd-compressed layer (not supported by this check)');
  return b;
}

export interface LayerFile {
  layer: number;
  path: string;
}
export interface Finding {
  /** 1-based layer number (0: the image's config, not a layer), of `layers` layers; the instruction that made it. */
  layer: number;
  layers: number;
  createdBy: string;
  path: string;
  secret: string;
  /** A later layer hides the file: the final filesystem no longer shows it, the layer still holds it. */
  hiddenBy?: { layer: number; createdBy: string; how: 'deleted' | 'replaced' };
}

/** What a layer removes: whiteouts (`.wh.<name>`) and opaque directories (`.wh..wh..opq`), per AUFS/OCI convention. */
export function whiteouts(paths: string[]): { deleted: string[]; opaque: string[] } {
  const deleted: string[] = [];
  const opaque: string[] = [];
  for (const p of paths) {
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '' : p.slice(0, slash);
    const base = p.slice(slash + 1);
    if (base === '.wh..wh..opq') opaque.push(dir);
    else if (base.startsWith('.wh.')) deleted.push(dir ? `${dir}/${base.slice(4)}` : base.slice(4));
  }
  return { deleted, opaque };
}

const under = (path: string, dir: string) => dir === '' || path === dir || path.startsWith(`${dir}/`);

/**
 * Scan every layer of an image, lowest first, for the secrets: each regular file whose bytes hold
 * one is a finding — also when a later layer deletes it (a whiteout) or overwrites it, because the
 * earlier layer still ships it and anyone with the image can unpack that layer.
 */
export async function scanLayers(layers: { createdBy: string; tar: Buffer }[], needles: Needle[]): Promise<Finding[]> {
  const files: { entries: TarFile[] }[] = [];
  for (const l of layers) files.push({ entries: await tarFiles(l.tar) });
  const removed = files.map((f) => whiteouts(f.entries.map((e) => e.path)));
  const findings: Finding[] = [];
  files.forEach((f, i) => {
    for (const e of f.entries) {
      if (!REGULAR.has(e.type) || e.data.length === 0) continue;
      const data = e.data;
      for (const n of needles) {
        if (!data.includes(n.value)) continue;
        const finding: Finding = { layer: i + 1, layers: layers.length, createdBy: layers[i].createdBy, path: e.path, secret: n.describe };
        for (let j = i + 1; j < layers.length; j++) {
          const r = removed[j];
          if (r.deleted.some((d) => under(e.path, d)) || r.opaque.some((d) => d !== e.path && under(e.path, d))) {
            finding.hiddenBy = { layer: j + 1, createdBy: layers[j].createdBy, how: 'deleted' };
            break;
          }
          if (files[j].entries.some((x) => x.path === e.path)) {
            finding.hiddenBy = { layer: j + 1, createdBy: layers[j].createdBy, how: 'replaced' };
            break;
          }
        }
        findings.push(finding);
      }
    }
  });
  return findings;
}

/** A Dockerfile instruction as the image history records it, shortened for a message. */
export function instruction(createdBy: string): string {
  // The classic builder records `COPY dir:<hash> in <dest>`: name what was copied, not the hash.
  const legacy = /^\/bin\/sh -c #\(nop\)\s*(COPY|ADD) (dir|file|multi):[0-9a-f]+ in (\S+)/.exec(createdBy);
  if (legacy) return `${legacy[1]} ${{ dir: 'a folder of the build context', file: 'a file', multi: 'files' }[legacy[2]]} to ${legacy[3]}`;
  const s = createdBy
    .replace(/\s+# buildkit$/, '')
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
    .replace(/^\/bin\/sh -c /, 'RUN ')
    .replace(/^\|\d+ [^ ]*=\S*(?: [^ ]*=\S*)* \/bin\/sh -c /, 'RUN ')
    .trim();
  return s.length > 70 ? `${s.slice(0, 67)}…` : s;
}

/**
 * The instruction that made each layer, in layer order (history entries marked empty_layer made
 * none). Aligned from the top: a base image imported without history leaves its own layers unnamed,
 * never the app's.
 */
export function layerHistory(config: { history?: { created_by?: string; empty_layer?: boolean }[] }, layers: number): string[] {
  const made = (config.history ?? []).filter((h) => !h.empty_layer).map((h) => h.created_by ?? '');
  const skip = layers - made.length;
  return Array.from({ length: layers }, (_, i) => made[i - skip] ?? '');
}

export function describeFinding(f: Finding): string {
  if (f.layer === 0)
    return `the image's config holds ${f.secret} (an ENV or ARG value or a RUN command line: \`docker history --no-trunc\` shows it to everyone who pulls the image)`;
  const where = `layer ${f.layer} of ${f.layers}${f.createdBy ? ` (${instruction(f.createdBy)})` : ''}`;
  const hidden = f.hiddenBy
    ? ` — ${f.hiddenBy.how} by layer ${f.hiddenBy.layer}${f.hiddenBy.createdBy ? ` (${instruction(f.hiddenBy.createdBy)})` : ''}, so the container does not show it, but the earlier layer still ships it to everyone who pulls the image`
    : '';
  return `${where} holds /${f.path} with ${f.secret}${hidden}`;
}

/** A `docker save` archive on disk, read (Docker's classic layout and the OCI one: manifest.json names config and layers). */
export async function readImageArchive(file: string): Promise<{ configBytes: Buffer; layers: { createdBy: string; tar: Buffer }[] }> {
  const files = await archiveFiles(file);
  const get = (name: string) => {
    const b = files.get(normPath(name));
    if (!b) throw new Error(`the image archive has no ${name}`);
    return b;
  };
  const manifest = JSON.parse(get('manifest.json').toString()) as { Config: string; Layers: string[] }[];
  const m = manifest[0];
  const configBytes = get(m.Config);
  const config = JSON.parse(configBytes.toString());
  const history = layerHistory(config, m.Layers.length);
  return { configBytes, layers: m.Layers.map((l, i) => ({ createdBy: history[i], tar: layerTar(get(l)) })) };
}

/** Scan a `docker save` archive on disk for the secrets (the image's config and every layer). */
export async function scanImageArchive(file: string, needles: Needle[]): Promise<Finding[]> {
  const { configBytes, layers } = await readImageArchive(file);
  // ENV and ARG values and every RUN command line are kept in the image's config (`docker history`, `docker inspect`).
  const inConfig: Finding[] = needles
    .filter((n) => configBytes.includes(n.value))
    .map((n) => ({ layer: 0, layers: layers.length, createdBy: '', path: '', secret: n.describe }));
  return [...inConfig, ...(await scanLayers(layers, needles))];
}

// ---------------------------------------------------------------------------------------------
// The running image, from Docker.
// ---------------------------------------------------------------------------------------------

export async function docker(args: string[], timeoutMs = 60_000): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const r = await execa('docker', args, { reject: false, timeout: timeoutMs, env: { DOCKER_CLI_HINTS: 'false' } });
  return { ok: r.exitCode === 0 && !r.timedOut, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/**
 * Docker's id of the image a build record names. Where the engine can ask the node (kind), the
 * node's own image id for the running digest (the config digest: the same in Docker and on the
 * node); else the build's own tag, else the image labelled with the same sources' hash.
 */
export async function dockerImageOf(ctx: CheckContext, b: BuildRecord): Promise<string | undefined> {
  const id = await ctx.engine.node?.nodeImageId(`${LAB_REGISTRY}/${b.app}@${b.digest}`).catch(() => undefined);
  if (id && (await docker(['image', 'inspect', '--format', '{{.Id}}', id])).ok) return id;
  // `kube-seclab build` tags each build by its sources (`:src-<hash>`) and labels it with the same hash.
  const tagged = await docker(['image', 'inspect', '--format', '{{.Id}}', `${LAB_REGISTRY}/${b.app}:src-${b.sourceHash.slice(0, 16)}`]);
  if (tagged.ok && tagged.stdout.trim()) return tagged.stdout.trim();
  const l = await docker(['image', 'ls', '-a', '-q', '--no-trunc', '--filter', `label=dev.kube-seclab.source=${b.sourceHash.slice(0, 16)}`]);
  return l.ok
    ? l.stdout
        .split('\n')
        .map((s) => s.trim())
        .find(Boolean)
    : undefined;
}

/** Scans are by image id (content-addressed: the same id, the same layers) and by what was searched for. */
const cache = new Map<string, Finding[]>();

const schema = z
  .object({
    /** The Deployment that runs the app. */
    namespace: z.string(),
    name: z.string(),
    container: z.string().optional(),
    /** The app's folder in the workspace (what `kube-seclab build` built). */
    path: z.string(),
    /** What must be in no layer. */
    secrets: z.array(secretSpecSchema).min(1),
  })
  .strict();
type P = z.infer<typeof schema>;

/**
 * No layer of the image a Deployment runs holds a secret: the image (`docker save` of the lab's
 * build that the pods run) is unpacked layer by layer and every file is searched, files that later
 * layers delete included — what anyone who can pull the image can do. Needs the kind engine
 * (on the local engine nothing is built); `buildContext` is its counterpart there.
 */
export const imageLayers: CheckPrimitive<P> = {
  type: 'imageLayers',
  schema,
  requires: () => 'kind',
  timeoutMs: () => 180_000,
  watches: (p) => [
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: p.namespace },
    { apiVersion: 'v1', kind: 'Pod', namespace: p.namespace },
    ...p.secrets.flatMap((s) => ('secretKeyRef' in s ? [{ apiVersion: 'v1', kind: 'Secret', namespace: s.secretKeyRef.namespace }] : [])),
  ],
  async run(ctx, p): Promise<CheckOutcome> {
    const { app } = await appFolder(ctx.workspace, p.path).catch(() => ({ app: p.path.split('/').pop()! }));
    const r = await runningBuild(ctx, p, app);
    if ('failure' in r) return { passed: false, message: r.failure };
    const id = await dockerImageOf(ctx, r.build);
    if (!id)
      return {
        passed: false,
        message: `the image Deployment ${p.namespace}/${p.name} runs (${r.build.digest.slice(0, 19)}…) is no longer in Docker here, so its layers cannot be read — build it again (\`kube-seclab build ${p.path}\`) and deploy the new digest`,
      };
    const needles = await resolveSecrets(ctx, p.secrets);
    const key = `${id}\0${needles.map((n) => `${n.describe}\0${n.value.toString('hex')}`).join('\0')}`;
    let findings = cache.get(key);
    if (!findings) {
      const dir = await mkdtemp(join(tmpdir(), 'kube-seclab-layers-'));
      try {
        const file = join(dir, 'image.tar');
        const s = await docker(['save', '-o', file, id], 150_000);
        if (!s.ok)
          return { passed: false, message: `docker save of the image Deployment ${p.namespace}/${p.name} runs failed: ${s.stderr.trim().split('\n').pop()}` };
        findings = await scanImageArchive(file, needles);
        cache.set(key, findings);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    const img = `${app}@${r.build.digest.slice(0, 19)}…`;
    if (findings.length) {
      const more = findings.length > 1 ? ` (and ${findings.length - 1} more place${findings.length > 2 ? 's' : ''})` : '';
      return {
        passed: false,
        message: `the image Deployment ${p.namespace}/${p.name} runs (${img}): ${describeFinding(findings[0])}${more}. Anyone who can pull the image can unpack that layer (\`docker save\`) — keep the file out of the build (.dockerignore), rebuild, and rotate the key`,
      };
    }
    return {
      passed: true,
      message: `no layer of the image Deployment ${p.namespace}/${p.name} runs (${img}) holds ${needles.map((n) => n.describe).join(' or ')}`,
    };
  },
};
