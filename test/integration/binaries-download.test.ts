/**
 * The download path of resolveBinaries against a loopback "classroom mirror" that serves the
 * binaries tools/build-k8s.sh built, in the official layout (KUBE_SECLAB_MIRROR=<server>):
 *   /dl.k8s.io/release/<k8s>/bin/<os>/<arch>/<name>            + <name>.sha256
 *   /github.com/etcd-io/etcd/releases/download/<etcd>/etcd-<etcd>-<os>-<arch>.tar.gz|.zip + SHA256SUMS
 *   /github.com/kubernetes-sigs/kwok/releases/download/<kwok>/kwok-<os>-<arch> + .sha256 (mirror convention)
 * Needs the real binaries in the build cache: it fails (never skips) when they are not built yet.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { crc32, deflateRawSync } from 'node:zlib';
import { execa } from 'execa';
import { c as tarCreate } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { labPaths } from '../../src/core/paths.js';
import {
  ChecksumMismatchError,
  DownloadUnavailableError,
  hostPlatform,
  resolveBinaries,
  type ResolveBinariesOptions,
} from '../../src/engines/local/binaries.js';
import { ETCD_VERSION, K8S_VERSION, KWOK_VERSION, REQUIRED_BINARIES, VERSIONS_STAMP } from '../../src/engines/local/versions.js';

const SOURCE = join(labPaths(process.env).cache, 'bin', K8S_VERSION);
const KUBE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'] as const;
const { os: HOST_OS, arch: ARCH } = hostPlatform();

interface Route {
  size: number;
  open: () => Readable;
}

let work: string;
let server: Server;
let mirror: string;
const routes = new Map<string, Route>();
const requests: string[] = [];
/** Paths whose bytes the server alters (first byte flipped, same length). */
const corrupt = new Set<string>();
/** sha256 of each source binary (and of the fake etcdctl). */
const sourceSums = new Map<string, string>();

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function fileRoute(path: string): Promise<Route> {
  const { size } = await stat(path);
  return { size, open: () => createReadStream(path) };
}
function bufferRoute(b: Buffer | string): Route {
  const buf = Buffer.from(b);
  return { size: buf.length, open: () => Readable.from([buf]) };
}

function flipFirstByte(): Transform {
  let first = true;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      if (first && chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[0] ^= 0xff;
        first = false;
      }
      cb(null, chunk);
    },
  });
}

/** A one-entry-per-file zip (deflated), the layout of etcd's macOS release archives. */
function makeZip(entries: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBuf = Buffer.from(name);
    const deflated = deflateRawSync(data, { level: 1 });
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(deflated.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(deflated.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, deflated);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + deflated.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

const kubePath = (os: string, name: string) => `/dl.k8s.io/release/${K8S_VERSION}/bin/${os}/${ARCH}/${name}`;
const etcdDir = `/github.com/etcd-io/etcd/releases/download/${ETCD_VERSION}`;
const kwokPath = (os: string) => `/github.com/kubernetes-sigs/kwok/releases/download/${KWOK_VERSION}/kwok-${os}-${ARCH}`;

/** An env with nothing from the developer's own environment but PATH (for `bash`, never `go` use). */
function labEnv(cacheRoot: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: work, PATH: process.env.PATH, KUBE_SECLAB_CACHE: cacheRoot, KUBE_SECLAB_MIRROR: mirror, ...extra };
}
/** Download only: never falls through to a (20-minute) Go build, whatever the machine has. */
const DOWNLOAD_ONLY: ResolveBinariesOptions['order'] = ['env', 'cache', 'download'];

async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.partial') || n.startsWith('.etcd-extract-'));
}

async function isExecutable(path: string): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  return Boolean(st?.isFile() && st.mode & 0o111);
}

beforeAll(async () => {
  const stamp = (await readFile(join(SOURCE, '.versions'), 'utf8').catch(() => '')).trim();
  const missing = [];
  for (const n of [...REQUIRED_BINARIES, 'kubectl']) if (!(await isExecutable(join(SOURCE, n)))) missing.push(n);
  if (stamp !== VERSIONS_STAMP || missing.length) {
    throw new Error(
      `the Kubernetes binaries are not built in ${SOURCE} (.versions=${JSON.stringify(stamp)}, want "${VERSIONS_STAMP}"` +
        `${missing.length ? `; missing ${missing.join(', ')}` : ''}): run \`bash tools/build-k8s.sh\` first (needs Go)`,
    );
  }

  work = await mkdtemp(join(tmpdir(), 'kube-seclab-binaries-'));
  for (const n of [...KUBE, 'etcd', 'kwok']) sourceSums.set(n, await sha256File(join(SOURCE, n)));

  // etcd release archives, built from the real etcd (symlinked, packed with follow) plus a stand-in etcdctl.
  const etcdctl = '#!/bin/sh\necho "etcdctl stand-in"\n';
  sourceSums.set('etcdctl', sha256(etcdctl));
  const sums: string[] = [];
  {
    const top = `etcd-${ETCD_VERSION}-linux-${ARCH}`;
    const stage = join(work, 'etcd-stage');
    await mkdir(join(stage, top, 'Documentation'), { recursive: true });
    await symlink(join(SOURCE, 'etcd'), join(stage, top, 'etcd'));
    await writeFile(join(stage, top, 'etcdctl'), etcdctl, { mode: 0o755 });
    await writeFile(join(stage, top, 'README.md'), '# etcd\n');
    const tgz = join(work, `${top}.tar.gz`);
    await tarCreate({ gzip: { level: 1 }, file: tgz, cwd: stage, follow: true, portable: true }, [top]);
    routes.set(`${etcdDir}/${top}.tar.gz`, await fileRoute(tgz));
    sums.push(`${await sha256File(tgz)}  ${top}.tar.gz`);
  }
  {
    const top = `etcd-${ETCD_VERSION}-darwin-${ARCH}`;
    const zip = makeZip([
      { name: `${top}/README.md`, data: Buffer.from('# etcd\n') },
      { name: `${top}/etcd`, data: await readFile(join(SOURCE, 'etcd')) },
      { name: `${top}/etcdctl`, data: Buffer.from(etcdctl) },
    ]);
    routes.set(`${etcdDir}/${top}.zip`, bufferRoute(zip));
    sums.push(`${sha256(zip)}  ${top}.zip`);
  }
  sums.push(`${'0'.repeat(64)}  etcd-${ETCD_VERSION}-windows-amd64.zip`);
  routes.set(`${etcdDir}/SHA256SUMS`, bufferRoute(sums.join('\n') + '\n'));

  for (const os of ['linux', 'darwin']) {
    for (const n of KUBE) {
      routes.set(kubePath(os, n), await fileRoute(join(SOURCE, n)));
      routes.set(`${kubePath(os, n)}.sha256`, bufferRoute(sourceSums.get(n)!)); // dl.k8s.io: the bare digest
    }
    routes.set(kwokPath(os), await fileRoute(join(SOURCE, 'kwok')));
    routes.set(`${kwokPath(os)}.sha256`, bufferRoute(`${sourceSums.get('kwok')}  kwok-${os}-${ARCH}\n`));
  }

  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(path);
    const route = routes.get(path);
    if (req.method !== 'GET' || !route) {
      res.writeHead(404).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': route.size });
    const body = route.open();
    (corrupt.has(path) ? body.pipe(flipFirstByte()) : body).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (work) await rm(work, { recursive: true, force: true });
});

describe('resolveBinaries: download through KUBE_SECLAB_MIRROR', () => {
  let cacheA: string;

  it('downloads every binary, verified, into an empty cache; they run and report the pinned versions', async () => {
    cacheA = join(work, 'cache-a');
    const messages: string[] = [];
    const r = await resolveBinaries({ env: labEnv(cacheA), order: DOWNLOAD_ONLY, onProgress: (m) => messages.push(m) });
    const dir = join(cacheA, 'bin', K8S_VERSION);
    expect(r.source).toBe('download');
    expect(r.dir).toBe(dir);
    for (const n of [...REQUIRED_BINARIES, 'kubectl', 'etcdctl'] as const) {
      expect(r.paths[n], n).toBe(join(dir, n));
      expect(await isExecutable(join(dir, n)), `${n} is executable`).toBe(true);
      expect(await sha256File(join(dir, n)), `${n} has the served bytes`).toBe(sourceSums.get(n));
    }
    expect((await readFile(join(dir, '.versions'), 'utf8')).trim()).toBe(VERSIONS_STAMP);
    expect(await leftovers(dir)).toEqual([]);
    expect(messages.some((m) => m.includes('downloading kube-apiserver'))).toBe(true);

    const etcd = await execa(r.paths.etcd, ['--version']);
    expect(etcd.stdout).toContain(`etcd Version: ${ETCD_VERSION.slice(1)}`);
    const apiserver = await execa(r.paths['kube-apiserver'], ['--version']);
    expect(apiserver.stdout.trim()).toBe(`Kubernetes ${K8S_VERSION}`);
  }, 120_000);

  it('a second resolve uses the cache without a single request', async () => {
    const before = requests.length;
    const r = await resolveBinaries({ env: labEnv(cacheA) }); // default order: env, cache, download, build
    expect(r.source).toBe('cache');
    expect(r.dir).toBe(join(cacheA, 'bin', K8S_VERSION));
    expect(requests.length).toBe(before);
  });

  it('downloads only what is missing', async () => {
    const dir = join(cacheA, 'bin', K8S_VERSION);
    await rm(join(dir, 'kube-scheduler'));
    const before = requests.length;
    const r = await resolveBinaries({ env: labEnv(cacheA), order: DOWNLOAD_ONLY });
    expect(r.source).toBe('download');
    expect(requests.slice(before)).toEqual([`${kubePath(HOST_OS, 'kube-scheduler')}.sha256`, kubePath(HOST_OS, 'kube-scheduler')]);
    expect(await sha256File(join(dir, 'kube-scheduler'))).toBe(sourceSums.get('kube-scheduler'));
  }, 60_000);

  it('refuses a binary whose bytes do not match its .sha256, and leaves nothing of it in the cache', async () => {
    const cache = join(work, 'cache-b');
    const target = kubePath(HOST_OS, 'kube-apiserver');
    corrupt.add(target);
    try {
      const err = await resolveBinaries({ env: labEnv(cache), order: DOWNLOAD_ONLY }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ChecksumMismatchError);
      const e = err as ChecksumMismatchError;
      expect(e.message).toMatch(new RegExp(`^checksum mismatch for kube-apiserver: expected sha256 ${sourceSums.get('kube-apiserver')}, got [0-9a-f]{64}`));
      expect(e.message).not.toContain('\n');
      expect(e.actual).not.toBe(e.expected);
    } finally {
      corrupt.delete(target);
    }
    const dir = join(cache, 'bin', K8S_VERSION);
    expect(await lstat(join(dir, 'kube-apiserver')).catch(() => undefined)).toBeUndefined();
    expect(await leftovers(dir)).toEqual([]);
    expect(await lstat(join(dir, '.versions')).catch(() => undefined)).toBeUndefined();
  }, 60_000);

  it('refuses a corrupted etcd archive: neither etcd nor etcdctl lands in the cache', async () => {
    const cache = join(work, 'cache-c');
    const dir = join(cache, 'bin', K8S_VERSION);
    await mkdir(dir, { recursive: true });
    // Everything else is already there (symlinks to the build), so only etcd is fetched.
    for (const n of [...KUBE, 'kwok']) await symlink(join(SOURCE, n), join(dir, n));
    const target = `${etcdDir}/etcd-${ETCD_VERSION}-${HOST_OS}-${ARCH}.tar.gz`;
    corrupt.add(target);
    const before = requests.length;
    try {
      await expect(resolveBinaries({ env: labEnv(cache), order: DOWNLOAD_ONLY })).rejects.toThrow(
        /^checksum mismatch for etcd-v[\d.]+-\w+-\w+\.tar\.gz: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/,
      );
    } finally {
      corrupt.delete(target);
    }
    expect(requests.slice(before)).toEqual([`${etcdDir}/SHA256SUMS`, target]);
    const names = await readdir(dir);
    expect(names).not.toContain('etcd');
    expect(names).not.toContain('etcdctl');
    expect(await leftovers(dir)).toEqual([]);
  }, 60_000);

  it('extracts etcd from the macOS .zip archive', async () => {
    const cache = join(work, 'cache-d');
    const dir = join(cache, 'bin', K8S_VERSION);
    await mkdir(dir, { recursive: true });
    for (const n of [...KUBE, 'kwok']) await symlink(join(SOURCE, n), join(dir, n));
    const before = requests.length;
    const r = await resolveBinaries({ env: labEnv(cache), order: DOWNLOAD_ONLY, os: 'darwin' });
    expect(requests.slice(before)).toEqual([`${etcdDir}/SHA256SUMS`, `${etcdDir}/etcd-${ETCD_VERSION}-darwin-${ARCH}.zip`]);
    expect(r.source).toBe('download');
    expect(await sha256File(r.paths.etcd)).toBe(sourceSums.get('etcd'));
    expect(await sha256File(r.paths.etcdctl!)).toBe(sourceSums.get('etcdctl'));
    expect(await isExecutable(r.paths.etcd)).toBe(true);
    expect(await leftovers(dir)).toEqual([]);
  }, 60_000);

  it('an unreachable mirror fails fast with a one-line error that says what to do next', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const started = Date.now();
    // Default order, and no Go on PATH: download fails, build is impossible → the download error.
    const err = await resolveBinaries({
      env: labEnv(join(work, 'cache-e'), { KUBE_SECLAB_MIRROR: `http://127.0.0.1:${port}`, PATH: '/nonexistent' }),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(DownloadUnavailableError);
    const e = err as UserError;
    expect(e.message).toMatch(/connection refused by 127\.0\.0\.1/);
    expect(e.message).not.toContain('\n');
    expect(e.hint).toMatch(/KUBE_SECLAB_MIRROR/);
    expect(e.hint).toMatch(/install Go/);
    expect(e.hint).toMatch(/KUBEBUILDER_ASSETS/);
  });

  it('a mirror that accepts connections but never answers times out after connectTimeoutMs', async () => {
    const silent = createServer(() => {}); // never responds
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const started = Date.now();
      await expect(
        resolveBinaries({
          env: labEnv(join(work, 'cache-h'), { KUBE_SECLAB_MIRROR: `http://127.0.0.1:${port}` }),
          order: DOWNLOAD_ONLY,
          connectTimeoutMs: 1_000,
        }),
      ).rejects.toThrow(/no answer within 1s/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('KUBE_SECLAB_OFFLINE=1 skips the download step entirely', async () => {
    const before = requests.length;
    const err = await resolveBinaries({
      env: labEnv(join(work, 'cache-f'), { KUBE_SECLAB_OFFLINE: '1', PATH: '/nonexistent' }),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(requests.length).toBe(before);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/no Kubernetes binaries .* Go is not installed/);
    expect((err as UserError).hint).toMatch(/KUBEBUILDER_ASSETS/);
  });

  it('KUBEBUILDER_ASSETS / KUBE_SECLAB_BIN_DIR: used as they are, or an error naming what they lack', async () => {
    const r = await resolveBinaries({ env: labEnv(join(work, 'cache-g'), { KUBEBUILDER_ASSETS: SOURCE }) });
    expect(r).toMatchObject({ source: 'env', dir: SOURCE });
    expect(r.paths.kubectl).toBe(join(SOURCE, 'kubectl'));

    const partial = join(work, 'partial-assets');
    await mkdir(partial, { recursive: true });
    for (const n of ['etcd', 'kube-apiserver', 'kubectl']) await symlink(join(SOURCE, n), join(partial, n)); // envtest's set
    const before = requests.length;
    await expect(resolveBinaries({ env: labEnv(join(work, 'cache-g'), { KUBEBUILDER_ASSETS: SOURCE, KUBE_SECLAB_BIN_DIR: partial }) })).rejects.toThrow(
      `KUBE_SECLAB_BIN_DIR=${partial} lacks kube-controller-manager, kube-scheduler, kwok`,
    );
    expect(requests.length).toBe(before);
  });

  it('build source: runs tools/build-k8s.sh (which finds the set complete) and uses the directory it prints', async () => {
    // A stand-in `go` only satisfies the "is Go installed" check; the script never calls it when
    // every binary is present, so nothing is compiled here.
    const fakeBin = join(work, 'fake-go-bin');
    await mkdir(fakeBin, { recursive: true });
    await writeFile(join(fakeBin, 'go'), '#!/bin/sh\necho "stand-in go must not run" >&2; exit 1\n', { mode: 0o755 });
    const messages: string[] = [];
    const before = requests.length;
    const r = await resolveBinaries({
      env: labEnv(labPaths(process.env).cache, { PATH: `${fakeBin}:${process.env.PATH}` }),
      order: ['build'],
      onProgress: (m) => messages.push(m),
    });
    expect(r).toMatchObject({ source: 'build', dir: SOURCE });
    expect(messages.some((m) => m.includes('skipping build'))).toBe(true);
    expect(requests.length).toBe(before);
  }, 60_000);
});
