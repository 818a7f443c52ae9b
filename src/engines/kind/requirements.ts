import { readFileSync } from 'node:fs';
import { arch, freemem, totalmem } from 'node:os';
import type { HostRequirement, RequirementContext, RequirementResult } from '../../core/engine/index.js';
import { onPath, toolVersion } from '../common/path.js';
import { findKind, parseKindVersion, versionAtLeast, KIND_MIN_VERSION, KIND_VERSION } from './tools.js';

function readNumber(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** What a kind cluster needs of the host (kind's known issues: architecture, inotify limits, memory). */
export function kindHostChecks(
  o: { arch?: string; watches?: number; instances?: number; freeBytes?: number; totalBytes?: number } = {},
): (RequirementResult & { name: string })[] {
  const a = o.arch ?? arch();
  const watches = o.watches ?? readNumber('/proc/sys/fs/inotify/max_user_watches');
  const instances = o.instances ?? readNumber('/proc/sys/fs/inotify/max_user_instances');
  const free = o.freeBytes ?? freemem();
  const total = o.totalBytes ?? totalmem();
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const items: (RequirementResult & { name: string })[] = [];
  items.push({
    name: 'cpu architecture',
    ok: a === 'x64' || a === 'arm64',
    detail: a,
    fix: 'kind node images exist for amd64 and arm64 only; use --engine local',
    optional: true,
  });
  if (watches !== undefined || instances !== undefined) {
    const ok = (watches ?? Infinity) >= 524288 && (instances ?? Infinity) >= 512;
    items.push({
      name: 'inotify limits',
      ok,
      optional: true,
      detail: `max_user_watches=${watches ?? '?'} max_user_instances=${instances ?? '?'}`,
      fix: 'kind needs more (pods fail with "too many open files"): sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512',
    });
  }
  items.push({
    name: 'memory',
    ok: free >= 2 * 2 ** 30,
    optional: true,
    detail: `${gib(free)} free of ${gib(total)}`,
    fix: 'a kind cluster needs about 2 GiB: close other programs or give Docker Desktop more memory',
  });
  return items;
}

/**
 * What the kind engine needs of this machine: Docker (a daemon that answers, when checked deep),
 * the kind CLI (recent enough to enforce NetworkPolicy), and — where kind is in use or Docker is
 * installed — a host kind runs well on.
 */
export function kindRequirements(ctx: RequirementContext): HostRequirement[] {
  const optional = ctx.inUse !== 'kind';
  const reqs: HostRequirement[] = [
    {
      name: 'docker',
      check: async (o = {}) => {
        const path = onPath('docker', ctx.env);
        const server = path && o.deep ? await toolVersion('docker', ['version', '--format', '{{.Server.Version}}']) : undefined;
        const ok = o.deep ? !!server : !!path;
        return {
          ok,
          optional,
          detail: o.deep ? (server ? `server ${server}` : 'no Docker daemon reachable') : (path ?? 'not found on PATH'),
          fix: 'the kind engine needs Docker; the local engine does not',
        };
      },
    },
    {
      name: 'kind',
      check: async (o = {}) => {
        const kind = findKind(ctx.env, ctx.cacheDir);
        if (!kind)
          return {
            ok: false,
            optional,
            detail: 'not found',
            fix: optional
              ? `needed only for the kind engine: install kind ${KIND_VERSION}`
              : `install kind ${KIND_VERSION}, or run \`kube-seclab --engine local\``,
          };
        if (!o.deep) return { ok: true, detail: kind };
        const text = await toolVersion(kind, ['version']);
        const version = text ? parseKindVersion(text) : undefined;
        return {
          ok: !!version && versionAtLeast(version, KIND_MIN_VERSION),
          optional,
          detail: text ?? `${kind} does not run`,
          fix: `kind ${KIND_MIN_VERSION} or newer enforces NetworkPolicy: upgrade to ${KIND_VERSION}`,
        };
      },
    },
  ];
  if (ctx.inUse === 'kind' || onPath('docker', ctx.env))
    for (const h of kindHostChecks()) {
      const { name, ...result } = h;
      reqs.push({ name, check: async () => result });
    }
  return reqs;
}
