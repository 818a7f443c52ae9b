/**
 * Finds, downloads or builds the Kubernetes binaries the local engine runs.
 *
 * Sources, tried in this order unless the caller says otherwise:
 *   env      `KUBE_SECLAB_BIN_DIR`, else `KUBEBUILDER_ASSETS` (the envtest convention): a directory
 *            holding the binaries. When set it is authoritative: missing binaries there are an error.
 *   cache    `<cache>/bin/<K8S_VERSION>/` holding every required binary and a `.versions` stamp
 *            equal to VERSIONS_STAMP (what tools/build-k8s.sh and the download step write).
 *   download the official release binaries for the pinned versions, each verified by sha256 before
 *            it is made executable and renamed into the cache (see "Download sources" below).
 *   build    `bash <packageRoot>/tools/build-k8s.sh` when `go` is on PATH (Go module proxy only).
 *
 * Environment variables:
 *   KUBE_SECLAB_BIN_DIR   directory with the binaries (wins over KUBEBUILDER_ASSETS)
 *   KUBEBUILDER_ASSETS    same, envtest's convention
 *   KUBE_SECLAB_CACHE     cache root (else $XDG_CACHE_HOME/kube-seclab, else ~/.cache/kube-seclab)
 *   KUBE_SECLAB_MIRROR    one base URL under which the official layout is reproduced, host name
 *                         first (see below); replaces every official host, including for checksums
 *   KUBE_SECLAB_OFFLINE=1 never download (the step is skipped)
 *
 * Download sources (official path → with KUBE_SECLAB_MIRROR=M):
 *   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (optional):
 *     https://dl.k8s.io/release/<K8S_VERSION>/bin/<os>/<arch>/<name>          + `<name>.sha256`
 *     M/dl.k8s.io/release/<K8S_VERSION>/bin/<os>/<arch>/<name>                + `<name>.sha256`
 *     Kubernetes publishes the server binaries for Linux only (kubectl also for macOS), so on
 *     macOS this source is only tried through a mirror that provides them in that layout.
 *   etcd (and etcdctl, optional), from the release archive verified against the release's SHA256SUMS:
 *     https://github.com/etcd-io/etcd/releases/download/<ETCD_VERSION>/etcd-<v>-<os>-<arch>.tar.gz
 *     (macOS: .zip) and .../<ETCD_VERSION>/SHA256SUMS; with a mirror M/github.com/etcd-io/etcd/...
 *   kwok: https://github.com/kubernetes-sigs/kwok/releases/download/<KWOK_VERSION>/kwok-<os>-<arch>
 *     kwok's release process (hack/releases.sh: `gh release upload` of the bare binaries) publishes
 *     NO checksum file. From the official host the digest GitHub itself computes for each release
 *     asset at upload time is used instead (the `digest: "sha256:…"` field of the asset in
 *     https://api.github.com/repos/kubernetes-sigs/kwok/releases/tags/<KWOK_VERSION>); an asset
 *     without one is refused. Through a mirror, the mirror must provide a sidecar file
 *     `M/github.com/kubernetes-sigs/kwok/releases/download/<KWOK_VERSION>/kwok-<os>-<arch>.sha256`
 *     (kube-seclab's convention, same format as dl.k8s.io's: the hex digest); without it kwok is
 *     refused, never installed unverified.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { execa } from 'execa';
import { cacheBinDir, missingBinaries, isExecutableFile } from './binaries-cache.js';
import { onPath } from '../common/path.js';

export { cacheBinDir, missingBinaries };
import { x as tarExtract } from 'tar';
import { UserError, errorMessage } from '../../core/errors.js';
import { labPaths, packageRoot } from '../../core/paths.js';
import {
  ETCD_VERSION,
  K8S_VERSION,
  KWOK_VERSION,
  OPTIONAL_BINARIES,
  REQUIRED_BINARIES,
  VERSIONS_STAMP,
  type OptionalBinary,
  type RequiredBinary,
} from './versions.js';

export type BinarySource = 'env' | 'cache' | 'download' | 'build';

export type BinaryPaths = Record<RequiredBinary, string> & Partial<Record<OptionalBinary, string>>;

export interface ResolvedBinaries {
  /** The directory holding the binaries. */
  dir: string;
  /** Where they came from. */
  source: BinarySource;
  /** Absolute path of each binary (optional ones only when present). */
  paths: BinaryPaths;
}

export interface ResolveBinariesOptions {
  /** Environment to read (defaults to process.env); also passed to the build script. */
  env?: NodeJS.ProcessEnv;
  /** Human-readable progress lines (download steps, the build's stderr). */
  onProgress?: (message: string) => void;
  /** Notes worth a line of their own (how to skip a long build). */
  onInfo?: (message: string) => void;
  /**
   * 'download' (default): env, cache, download, build.
   * 'build': env, cache, build, download; the download is then only tried when Go is missing.
   */
  prefer?: 'download' | 'build';
  /** Explicit order of the sources to try (overrides `prefer`). */
  order?: readonly BinarySource[];
  /** Target OS/arch for downloads in Go's spelling (default: this machine's). */
  os?: string;
  arch?: string;
  /** Give up on a request whose response headers have not arrived by then (default 10 s). */
  connectTimeoutMs?: number;
  /** Give up on a download that has received no data for this long (default 60 s). */
  idleTimeoutMs?: number;
  /** Cancels downloads and the build. */
  signal?: AbortSignal;
}

/** A download source could not be reached or lacks a file: the next source may still work. */
export class DownloadUnavailableError extends UserError {
  constructor(message: string) {
    super(message, NEXT_STEPS);
    this.name = 'DownloadUnavailableError';
  }
}

/** A downloaded file does not match its published sha256. Never falls back silently. */
export class ChecksumMismatchError extends UserError {
  constructor(
    public readonly file: string,
    public readonly expected: string,
    public readonly actual: string,
  ) {
    super(
      `checksum mismatch for ${file}: expected sha256 ${expected}, got ${actual}; the file was discarded`,
      'the download was corrupted or tampered with: try again, and if it persists check KUBE_SECLAB_MIRROR or your network',
    );
    this.name = 'ChecksumMismatchError';
  }
}

const NEXT_STEPS =
  'set KUBE_SECLAB_MIRROR to a mirror of the release files, install Go (https://go.dev/dl) so kube-seclab can build them, ' +
  `or point KUBEBUILDER_ASSETS (or KUBE_SECLAB_BIN_DIR) at a directory holding ${REQUIRED_BINARIES.join(', ')}`;

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Public helpers

/** `<cache>/bin/<K8S_VERSION>`: where downloads and builds put the binaries. */

/** This machine's OS and architecture in Go's spelling (linux/darwin, amd64/arm64). */
export function hostPlatform(): { os: string; arch: string } {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return { os: process.platform, arch };
}

export interface ReleaseLocations {
  /** Directory URL of the Kubernetes binaries (`<name>` and `<name>.sha256` under it). */
  kubernetes: string;
  /** etcd release archive URL and its SHA256SUMS URL; the archive's file name. */
  etcdArchive: string;
  etcdArchiveName: string;
  etcdSums: string;
  /** kwok binary URL. */
  kwok: string;
  /** Where kwok's checksum comes from: a sidecar file (mirror) or GitHub's release API (official). */
  kwokChecksum: { kind: 'sidecar'; url: string } | { kind: 'github-api'; url: string; asset: string };
  /** True when KUBE_SECLAB_MIRROR is in use. */
  mirror: boolean;
}

/** The URLs the download step uses for the pinned versions. */
export function releaseLocations(env: NodeJS.ProcessEnv = process.env, os = hostPlatform().os, arch = hostPlatform().arch): ReleaseLocations {
  const mirror = env.KUBE_SECLAB_MIRROR?.trim().replace(/\/+$/, '') || undefined;
  const base = (host: string) => (mirror ? `${mirror}/${host}` : `https://${host}`);
  const etcdDir = `${base('github.com')}/etcd-io/etcd/releases/download/${ETCD_VERSION}`;
  const etcdArchiveName = `etcd-${ETCD_VERSION}-${os}-${arch}.${os === 'darwin' ? 'zip' : 'tar.gz'}`;
  const kwokAsset = `kwok-${os}-${arch}`;
  const kwokDir = `${base('github.com')}/kubernetes-sigs/kwok/releases/download/${KWOK_VERSION}`;
  return {
    kubernetes: `${base('dl.k8s.io')}/release/${K8S_VERSION}/bin/${os}/${arch}`,
    etcdArchive: `${etcdDir}/${etcdArchiveName}`,
    etcdArchiveName,
    etcdSums: `${etcdDir}/SHA256SUMS`,
    kwok: `${kwokDir}/${kwokAsset}`,
    kwokChecksum: mirror
      ? { kind: 'sidecar', url: `${kwokDir}/${kwokAsset}.sha256` }
      : {
          kind: 'github-api',
          url: `https://api.github.com/repos/kubernetes-sigs/kwok/releases/tags/${KWOK_VERSION}`,
          asset: kwokAsset,
        },
    mirror: Boolean(mirror),
  };
}

/** Required binaries that `dir` lacks (not a file or not executable). */

// ---------------------------------------------------------------------------------------------
// resolveBinaries

export async function resolveBinaries(opts: ResolveBinariesOptions = {}): Promise<ResolvedBinaries> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  let order: BinarySource[] = opts.order
    ? [...opts.order]
    : opts.prefer === 'build'
      ? ['env', 'cache', 'build', 'download']
      : ['env', 'cache', 'download', 'build'];
  if (isTruthy(env.KUBE_SECLAB_OFFLINE) && order.includes('download')) {
    order = order.filter((s) => s !== 'download');
    progress('KUBE_SECLAB_OFFLINE is set: not downloading');
  }

  let unavailable: DownloadUnavailableError | undefined;
  let buildSkipped = false;
  for (const source of order) {
    switch (source) {
      case 'env': {
        const found = await fromEnvDir(env);
        if (found) return found;
        break;
      }
      case 'cache': {
        const dir = cacheBinDir(env);
        if (await isCompleteCache(dir)) return { dir, source: 'cache', paths: await binaryPaths(dir) };
        break;
      }
      case 'download': {
        try {
          return await download(env, opts, progress);
        } catch (err) {
          if (!(err instanceof DownloadUnavailableError)) throw err;
          unavailable = err;
          progress(`download failed: ${err.message}`);
        }
        break;
      }
      case 'build': {
        if (!onPath('go', env)) {
          buildSkipped = true;
          break;
        }
        return await build(env, opts, progress);
      }
    }
  }
  if (unavailable) throw unavailable;
  throw new UserError(
    `no Kubernetes binaries (${K8S_VERSION}) found${buildSkipped ? ', and Go is not installed to build them' : ''}`,
    `${isTruthy(env.KUBE_SECLAB_OFFLINE) ? 'unset KUBE_SECLAB_OFFLINE to download them, ' : ''}${NEXT_STEPS}`,
  );
}

// ---------------------------------------------------------------------------------------------
// env and cache

async function fromEnvDir(env: NodeJS.ProcessEnv): Promise<ResolvedBinaries | undefined> {
  const variable = env.KUBE_SECLAB_BIN_DIR ? 'KUBE_SECLAB_BIN_DIR' : env.KUBEBUILDER_ASSETS ? 'KUBEBUILDER_ASSETS' : undefined;
  if (!variable) return undefined;
  const dir = env[variable]!;
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new UserError(`${variable}=${dir} is not a directory`, `point ${variable} at the directory holding the binaries, or unset it`);
  }
  const missing = await missingBinaries(dir);
  if (missing.length) {
    throw new UserError(
      `${variable}=${dir} lacks ${missing.join(', ')} (needed: ${REQUIRED_BINARIES.join(', ')})`,
      `put the missing binaries there, or unset ${variable} so kube-seclab downloads or builds them`,
    );
  }
  return { dir, source: 'env', paths: await binaryPaths(dir) };
}

async function isCompleteCache(dir: string): Promise<boolean> {
  if ((await missingBinaries(dir)).length) return false;
  return (await readStamp(dir)) === VERSIONS_STAMP;
}

async function readStamp(dir: string): Promise<string | undefined> {
  return (await readFile(join(dir, '.versions'), 'utf8').catch(() => undefined))?.trim();
}

async function binaryPaths(dir: string): Promise<BinaryPaths> {
  const paths = {} as BinaryPaths;
  for (const name of REQUIRED_BINARIES) paths[name] = join(dir, name);
  for (const name of OPTIONAL_BINARIES) if (await isExecutableFile(join(dir, name))) paths[name] = join(dir, name);
  return paths;
}

function isTruthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}

// ---------------------------------------------------------------------------------------------
// download

interface Fetcher {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

async function download(env: NodeJS.ProcessEnv, opts: ResolveBinariesOptions, progress: (m: string) => void): Promise<ResolvedBinaries> {
  const host = hostPlatform();
  const os = opts.os ?? host.os;
  const arch = opts.arch ?? host.arch;
  if (!['linux', 'darwin'].includes(os) || !['amd64', 'arm64'].includes(arch)) {
    throw new DownloadUnavailableError(`no release binaries are published for ${os}/${arch} (only linux and darwin, amd64 and arm64)`);
  }
  const loc = releaseLocations(env, os, arch);
  const f: Fetcher = {
    connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    signal: opts.signal,
  };
  const dir = cacheBinDir(env);

  // A stamp for other versions means every binary here is stale: replace them all. The stale stamp
  // stays until the new set is complete, so an interrupted refresh is redone from scratch.
  const stamp = await readStamp(dir);
  const stale = stamp !== undefined && stamp !== VERSIONS_STAMP;
  const need = async (name: string) => stale || !(await isExecutableFile(join(dir, name)));

  const kubeNeeded: string[] = [];
  for (const n of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) if (await need(n)) kubeNeeded.push(n);
  const kubectlNeeded = await need('kubectl');
  const etcdNeeded = await need('etcd');
  const kwokNeeded = await need('kwok');

  if (os === 'darwin' && !loc.mirror && kubeNeeded.length) {
    throw new DownloadUnavailableError(`Kubernetes publishes ${kubeNeeded.join(', ')} for Linux only, not for macOS`);
  }

  // Phase 1: every checksum first (small requests), so an unreachable host fails fast and before
  // anything is written.
  const kubeSums = new Map<string, string>();
  const kubeDigest = async (n: string) => {
    const url = `${loc.kubernetes}/${n}.sha256`;
    return parseDigest(await fetchText(url, `the checksum of ${n}`, f), url);
  };
  for (const n of kubeNeeded) kubeSums.set(n, await kubeDigest(n));
  if (kubectlNeeded) {
    try {
      kubeSums.set('kubectl', await kubeDigest('kubectl'));
    } catch (err) {
      if (!(err instanceof DownloadUnavailableError)) throw err;
      progress(`kubectl (optional) not downloaded: ${err.message}`);
    }
  }
  let etcdSum: string | undefined;
  if (etcdNeeded) {
    const sums = parseSumsFile(await fetchText(loc.etcdSums, `etcd ${ETCD_VERSION}'s SHA256SUMS`, f));
    etcdSum = sums.get(loc.etcdArchiveName);
    if (!etcdSum) throw new DownloadUnavailableError(`${loc.etcdSums} lists no checksum for ${loc.etcdArchiveName}`);
  }
  let kwokSum: string | undefined;
  if (kwokNeeded) kwokSum = await kwokDigest(loc, f);

  // Phase 2: the files, one at a time.
  await mkdir(dir, { recursive: true });
  for (const n of [...kubeNeeded, ...(kubeSums.has('kubectl') ? ['kubectl'] : [])]) {
    await downloadBinary(`${loc.kubernetes}/${n}`, kubeSums.get(n)!, dir, n, `${n} ${K8S_VERSION}`, f, progress);
  }
  if (etcdNeeded) await downloadEtcd(loc, etcdSum!, dir, os, arch, f, progress);
  if (kwokNeeded) await downloadBinary(loc.kwok, kwokSum!, dir, 'kwok', `kwok ${KWOK_VERSION}`, f, progress);

  const missing = await missingBinaries(dir);
  if (missing.length) throw new DownloadUnavailableError(`after downloading, ${dir} still lacks ${missing.join(', ')}`);
  await writeFileAtomic(join(dir, '.versions'), `${VERSIONS_STAMP}\n`);
  progress(`binaries ready in ${dir}`);
  return { dir, source: 'download', paths: await binaryPaths(dir) };
}

async function kwokDigest(loc: ReleaseLocations, f: Fetcher): Promise<string> {
  const c = loc.kwokChecksum;
  if (c.kind === 'sidecar') {
    return parseDigest(await fetchText(c.url, `the checksum of kwok (the mirror must provide kwok-<os>-<arch>.sha256)`, f), c.url);
  }
  // kwok publishes no checksum file; GitHub's own per-asset digest is the only published one.
  const body = await fetchText(c.url, `kwok ${KWOK_VERSION}'s release metadata`, f, {
    accept: 'application/vnd.github+json',
    'user-agent': 'kube-seclab',
  });
  let release: { assets?: { name?: string; digest?: string | null }[] };
  try {
    release = JSON.parse(body);
  } catch {
    throw new DownloadUnavailableError(`${c.url} did not return JSON`);
  }
  const asset = release.assets?.find((a) => a.name === c.asset);
  const m = /^sha256:([0-9a-f]{64})$/i.exec(asset?.digest ?? '');
  if (!m) {
    throw new DownloadUnavailableError(
      `kwok ${KWOK_VERSION} publishes no checksum for ${c.asset} and GitHub reports no digest for it; refusing to install it unverified`,
    );
  }
  return m[1].toLowerCase();
}

/** The hex digest at the start of a `.sha256` file (dl.k8s.io style: the digest alone, or `digest  name`). */
function parseDigest(text: string, url: string): string {
  const token = text.trim().split(/\s+/)[0] ?? '';
  if (!/^[0-9a-f]{64}$/i.test(token)) throw new DownloadUnavailableError(`${url} does not hold a sha256 digest`);
  return token.toLowerCase();
}

/** `sha256sum` output: `<digest>  <name>` (or `<digest> *<name>`) per line → name → digest. */
function parseSumsFile(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(?:\.\/)?(\S.*?)\s*$/.exec(line.trim());
    if (m) sums.set(m[2], m[1].toLowerCase());
  }
  return sums;
}

async function fetchText(url: string, what: string, f: Fetcher, headers?: Record<string, string>): Promise<string> {
  const { res, done } = await request(url, what, f, headers);
  try {
    return await res.text();
  } catch (err) {
    throw networkError(url, what, err, f);
  } finally {
    done();
  }
}

/** GET with a deadline on the response headers; `done()` clears the timers. */
async function request(
  url: string,
  what: string,
  f: Fetcher,
  headers?: Record<string, string>,
): Promise<{ res: Response; controller: AbortController; kick: () => void; done: () => void }> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(f.signal?.reason);
  f.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined = setTimeout(() => controller.abort(new TimeoutMarker('connect')), f.connectTimeoutMs);
  const done = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    f.signal?.removeEventListener('abort', onAbort);
  };
  const kick = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new TimeoutMarker('idle')), f.idleTimeoutMs);
  };
  let res: Response;
  try {
    res = await fetch(url, { signal: controller.signal, headers, redirect: 'follow' });
  } catch (err) {
    done();
    throw networkError(url, what, controller.signal.aborted ? controller.signal.reason : err, f);
  }
  if (!res.ok) {
    done();
    await res.body?.cancel().catch(() => {});
    throw new DownloadUnavailableError(`cannot download ${what}: ${url} answered HTTP ${res.status}`);
  }
  kick();
  return { res, controller, kick, done };
}

class TimeoutMarker {
  constructor(public readonly phase: 'connect' | 'idle') {}
}

function networkError(url: string, what: string, err: unknown, f: Fetcher): UserError {
  if (f.signal?.aborted) return new UserError(`download of ${what} cancelled`);
  const cause0 = (err as { cause?: unknown })?.cause;
  if (!(err instanceof TimeoutMarker) && cause0 instanceof TimeoutMarker) err = cause0;
  let reason: string;
  if (err instanceof TimeoutMarker) {
    reason =
      err.phase === 'connect' ? `no answer within ${Math.round(f.connectTimeoutMs / 1000)}s` : `stalled (no data for ${Math.round(f.idleTimeoutMs / 1000)}s)`;
  } else {
    const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
    const code = cause?.code;
    const host = safeHost(url);
    reason =
      code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? `cannot resolve ${host}`
        : code === 'ECONNREFUSED'
          ? `connection refused by ${host}`
          : code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT'
            ? `connection to ${host} timed out`
            : cause?.message || errorMessage(err);
  }
  return new DownloadUnavailableError(`cannot download ${what} from ${url}: ${reason}`);
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function tempName(dir: string, base: string): string {
  return join(dir, `.${base}.${randomBytes(4).toString('hex')}.partial`);
}

/**
 * Streams `url` into a private temp file in `dir`, hashing on the way. Returns the temp path; the
 * caller owns it (and removes it on any failure). Throws ChecksumMismatchError after removing it.
 */
async function fetchVerified(url: string, expected: string, dir: string, label: string, f: Fetcher, progress: (m: string) => void): Promise<string> {
  progress(`downloading ${label} from ${url}`);
  const { res, kick, done } = await request(url, label, f);
  const tmp = tempName(dir, label.split(' ')[0]);
  const hash = createHash('sha256');
  const total = Number(res.headers.get('content-length')) || 0;
  let received = 0;
  let nextReport = 0.25;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      kick();
      hash.update(chunk);
      received += chunk.length;
      if (total && received / total >= nextReport && received < total) {
        progress(`${label}: ${Math.floor((received / total) * 100)}% of ${mib(total)}`);
        while (received / total >= nextReport) nextReport += 0.25;
      }
      cb(null, chunk);
    },
  });
  try {
    if (!res.body) throw new DownloadUnavailableError(`cannot download ${label}: ${url} sent no body`);
    await pipeline(Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>), meter, createWriteStream(tmp, { mode: 0o600 }));
  } catch (err) {
    done();
    await rm(tmp, { force: true });
    if (err instanceof UserError) throw err;
    throw networkError(url, label, err, f);
  }
  done();
  const actual = hash.digest('hex');
  if (actual !== expected) {
    await rm(tmp, { force: true });
    throw new ChecksumMismatchError(urlFileName(url), expected, actual);
  }
  progress(`${label}: ${mib(received)} verified (sha256 ${actual.slice(0, 12)}…)`);
  return tmp;
}

async function downloadBinary(
  url: string,
  expected: string,
  dir: string,
  name: string,
  label: string,
  f: Fetcher,
  progress: (m: string) => void,
): Promise<void> {
  const tmp = await fetchVerified(url, expected, dir, label, f, progress);
  try {
    await chmod(tmp, 0o755);
    await rename(tmp, join(dir, name));
  } finally {
    await rm(tmp, { force: true });
  }
}

async function downloadEtcd(
  loc: ReleaseLocations,
  expected: string,
  dir: string,
  os: string,
  arch: string,
  f: Fetcher,
  progress: (m: string) => void,
): Promise<void> {
  const archive = await fetchVerified(loc.etcdArchive, expected, dir, `etcd ${ETCD_VERSION}`, f, progress);
  const work = await mkdtemp(join(dir, '.etcd-extract-'));
  try {
    const prefix = `etcd-${ETCD_VERSION}-${os}-${arch}`;
    const wanted = new Map([
      [`${prefix}/etcd`, 'etcd'],
      [`${prefix}/etcdctl`, 'etcdctl'],
    ]);
    const extracted = loc.etcdArchiveName.endsWith('.zip') ? await extractFromZip(archive, wanted, work) : await extractFromTarGz(archive, wanted, work);
    if (!extracted.includes('etcd')) {
      throw new DownloadUnavailableError(`${loc.etcdArchiveName} holds no ${prefix}/etcd`);
    }
    for (const name of extracted) {
      await chmod(join(work, name), 0o755);
      await rename(join(work, name), join(dir, name));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(archive, { force: true });
  }
}

/** Extracts the regular files named in `wanted` (archive path → file name) into `dest`. */
async function extractFromTarGz(archive: string, wanted: Map<string, string>, dest: string): Promise<string[]> {
  const found: string[] = [];
  const normal = (p: string) => p.replace(/^\.\//, '');
  await tarExtract({
    file: archive,
    cwd: dest,
    preserveOwner: false,
    filter: (path, entry) => {
      const type = 'type' in entry ? entry.type : entry.isFile() ? 'File' : 'Other';
      const ok = (type === 'File' || type === 'OldFile' || type === 'ContiguousFile') && wanted.has(normal(path));
      if (ok) found.push(wanted.get(normal(path))!);
      return ok;
    },
    // Drop the directory level: `etcd-vX-os-arch/etcd` → `etcd`.
    strip: 1,
  });
  return found;
}

/**
 * Minimal reader for the etcd macOS .zip (stored or deflated entries, no ZIP64): the archive has
 * already been verified against SHA256SUMS, sizes are checked after inflating.
 */
async function extractFromZip(archive: string, wanted: Map<string, string>, dest: string): Promise<string[]> {
  const buf = await readFile(archive);
  const bad = (why: string) => new DownloadUnavailableError(`cannot read ${archive}: ${why}`);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('not a zip archive');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const found: string[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw bad('corrupt central directory');
    const method = buf.readUInt16LE(p + 10);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen).replace(/^\.\//, '');
    p += 46 + nameLen + extraLen + commentLen;
    const target = wanted.get(name);
    if (!target) continue;
    if (buf.readUInt32LE(localOffset) !== 0x04034b50) throw bad(`corrupt entry ${name}`);
    const start = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    const raw = buf.subarray(start, start + compressedSize);
    const data = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : undefined;
    if (!data) throw bad(`entry ${name} uses unsupported compression method ${method}`);
    if (data.length !== size) throw bad(`entry ${name} has the wrong size`);
    await writeFile(join(dest, target), data, { mode: 0o600 });
    found.push(target);
  }
  return found;
}

async function writeFileAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.partial`;
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(content);
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

function urlFileName(url: string): string {
  try {
    return new URL(url).pathname.split('/').pop() || url;
  } catch {
    return url;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

// ---------------------------------------------------------------------------------------------
// build

/** A build's measured figures on this machine (tools/build-k8s.sh writes them), or the documented cold build. */
export const DOCUMENTED_BUILD_S = 480;
interface BuildTimes {
  version?: string;
  total: number;
  steps: Record<string, number>;
}
async function lastBuildTimes(cache: string): Promise<BuildTimes | undefined> {
  try {
    const t = JSON.parse(await readFile(join(cache, 'build-times-control-plane.json'), 'utf8')) as BuildTimes;
    return typeof t.total === 'number' && t.steps && typeof t.steps === 'object' ? t : undefined;
  } catch {
    return undefined;
  }
}

const clock = (s: number) => (s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);

/**
 * One line of a build's progress: the component, n of m, elapsed, and what to expect — from the last
 * build on this machine, else the documented figure.
 */
export function buildProgressLine(o: { step?: { n: number; of: number; name: string }; elapsedS: number; last?: BuildTimes; quiet?: string }): string {
  const expectTotal = o.last?.total ?? DOCUMENTED_BUILD_S;
  const basis = o.last ? 'the last build here took' : 'a first build takes about';
  const head = o.step ? `building ${o.step.name} (${o.step.n} of ${o.step.of})` : 'preparing the build';
  const stepExpect = o.step && o.last?.steps[o.step.name] !== undefined ? `, this step ~${clock(o.last.steps[o.step.name])}` : '';
  return `${head} · ${clock(o.elapsedS)} elapsed · ${basis} ${clock(expectTotal)}${stepExpect}${o.quiet ? ` · ${o.quiet}` : ''}`;
}

async function build(env: NodeJS.ProcessEnv, opts: ResolveBinariesOptions, progress: (m: string) => void): Promise<ResolvedBinaries> {
  const cache = labPaths(env).cache;
  const script = join(packageRoot, 'tools', 'build-k8s.sh');
  const last = await lastBuildTimes(cache);
  opts.onInfo?.(
    `No Kubernetes binaries yet: building them with Go from the module proxy (${last ? `the last build here took ${clock(last.total)}` : `about ${clock(DOCUMENTED_BUILD_S)} on 2 cores`}). ` +
      'To skip it: point KUBE_SECLAB_BIN_DIR at a folder that holds them, set KUBE_SECLAB_MIRROR to a classroom mirror, or allow the official downloads (unset KUBE_SECLAB_OFFLINE).',
  );
  const sub = execa('bash', [script], {
    env: { ...env, KUBE_SECLAB_CACHE: cache },
    extendEnv: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: true, stderr: false },
    reject: false,
    cancelSignal: opts.signal,
  });
  const t0 = Date.now();
  let step: { n: number; of: number; name: string } | undefined;
  let quiet: string | undefined;
  const show = () => progress(buildProgressLine({ step, elapsedS: (Date.now() - t0) / 1000, last, quiet }));
  show();
  // Go prints nothing for minutes while it compiles: the elapsed time moves on anyway (every 5 s, no faster).
  const ticker = setInterval(show, 5000);
  const tail: string[] = [];
  const lines = createInterface({ input: sub.stderr! });
  lines.on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    const m = /^kube-seclab: step (\d+)\/(\d+): (.+)$/.exec(line);
    if (m) {
      step = { n: Number(m[1]), of: Number(m[2]), name: m[3] };
      quiet = undefined;
      show();
    } else if (/\(skipping build\)$/.test(line)) progress(line.replace(/^kube-seclab: /, ''));
    else if (/^go: downloading /.test(line)) quiet = line.replace(/^go: /, '').slice(0, 60);
  });
  const result = await sub.finally(() => clearInterval(ticker));
  lines.close();
  if (result.isCanceled) throw new UserError('build of the Kubernetes binaries cancelled');
  if (result.exitCode !== 0) {
    const last = tail.filter((l) => l.trim()).pop() ?? result.shortMessage;
    throw new UserError(
      `building the Kubernetes binaries failed (exit ${result.exitCode ?? result.signal}): ${last}`,
      `see the build output above; or ${NEXT_STEPS.replace(', install Go (https://go.dev/dl) so kube-seclab can build them', '')}`,
    );
  }
  const out = String(result.stdout ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
  if (!out) throw new UserError(`${script} printed no output directory`);
  const missing = await missingBinaries(out);
  if (missing.length) throw new UserError(`the build finished but ${out} lacks ${missing.join(', ')}`, `run bash ${script} by hand to see why`);
  return { dir: out, source: 'build', paths: await binaryPaths(out) };
}
