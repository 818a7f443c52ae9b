import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { onPath } from '../common/path.js';
import { UserError } from '../../core/errors.js';

/** The kind CLI kube-seclab is tested with; NetworkPolicy enforcement (kindnet) needs >= v0.24. */
export const KIND_VERSION = 'v0.32.0';
export const KIND_MIN_VERSION = 'v0.24.0';

export interface ToolResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  exitCode: number | undefined;
}

/** Run a tool, never throwing for its exit code: the caller decides what a failure means. */
export async function run(
  cmd: string,
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolResult> {
  try {
    const r = await execa(cmd, args, {
      reject: false,
      timeout: opts.timeoutMs ?? 60_000,
      input: opts.input,
      env: opts.env,
      extendEnv: true,
      stripFinalNewline: false,
      maxBuffer: 256 * 1024 * 1024,
    });
    const stdout = typeof r.stdout === 'string' ? r.stdout : String(r.stdout ?? '');
    const stderr = typeof r.stderr === 'string' ? r.stderr : String(r.stderr ?? '');
    if ((r as { code?: string }).code === 'ENOENT') return { ok: false, stdout: '', stderr: `${cmd}: not found`, exitCode: undefined };
    return {
      ok: r.exitCode === 0 && !r.timedOut,
      stdout,
      stderr: r.timedOut ? `${cmd} timed out after ${(opts.timeoutMs ?? 60_000) / 1000}s` : stderr,
      exitCode: r.exitCode,
    };
  } catch (e) {
    return { ok: false, stdout: '', stderr: (e as Error).message, exitCode: undefined };
  }
}

/** The kind CLI: KUBE_SECLAB_KIND, then PATH, then the one tools/kind/build-node-image.sh builds into the cache. */
export function findKind(env: NodeJS.ProcessEnv, cacheDir: string): string | undefined {
  if (env.KUBE_SECLAB_KIND) return existsSync(env.KUBE_SECLAB_KIND) ? env.KUBE_SECLAB_KIND : undefined;
  return onPath('kind', env) ?? [join(cacheDir, 'bin', `kind-${KIND_VERSION}`, 'kind')].find((p) => existsSync(p));
}

/** "kind v0.32.0 go1.26.0 linux/amd64" → "v0.32.0". */
export function parseKindVersion(text: string): string | undefined {
  return /\bv(\d+\.\d+\.\d+)/.exec(text)?.[0];
}

export function versionAtLeast(v: string, min: string): boolean {
  const p = (s: string) =>
    s
      .replace(/^v/, '')
      .split(/[.-]/)
      .slice(0, 3)
      .map((x) => Number.parseInt(x, 10) || 0);
  const [a, b] = [p(v), p(min)];
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

/** Whether a Docker daemon answers (quickly: this decides the default engine). */
export async function dockerReachable(timeoutMs = 3000): Promise<{ ok: boolean; detail: string }> {
  const r = await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeoutMs });
  if (r.ok && r.stdout.trim()) return { ok: true, detail: `Docker ${r.stdout.trim()}` };
  const why = r.exitCode === undefined && /not found/.test(r.stderr) ? 'the docker CLI is not installed' : (r.stderr.trim().split('\n').pop() ?? 'no answer');
  return { ok: false, detail: why };
}

/** Preflight for `up --engine kind`: the first blocking problem as a UserError with its fix. */
export async function kindPreflight(env: NodeJS.ProcessEnv, cacheDir: string): Promise<{ kind: string; version: string }> {
  const d = await dockerReachable(10_000);
  if (!d.ok) {
    throw new UserError(
      `the kind engine needs a running Docker daemon (${d.detail})`,
      'start Docker (Docker Desktop, or `sudo systemctl start docker`), or use `kube-seclab up --engine local` — no Docker needed, lessons marked "kind" are then unavailable',
    );
  }
  const kind = findKind(env, cacheDir);
  if (!kind)
    throw new UserError(
      'the kind CLI is not installed',
      `install kind ${KIND_VERSION} (https://kind.sigs.k8s.io/docs/user/quick-start/#installation, or \`go install sigs.k8s.io/kind@${KIND_VERSION}\`), or set KUBE_SECLAB_KIND to its path`,
    );
  const v = await run(kind, ['version'], { timeoutMs: 10_000 });
  const version = parseKindVersion(v.stdout) ?? 'unknown';
  if (!v.ok || version === 'unknown')
    throw new UserError(`${kind} does not run (${(v.stderr || v.stdout).trim().split('\n').pop()})`, `reinstall kind ${KIND_VERSION}`);
  if (!versionAtLeast(version, KIND_MIN_VERSION)) {
    throw new UserError(`kind ${version} is too old: NetworkPolicy lessons need kind >= ${KIND_MIN_VERSION}`, `upgrade kind to ${KIND_VERSION}`);
  }
  return { kind, version };
}
