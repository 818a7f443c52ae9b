import { posix } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';

/** The static-pod components of a control plane (/etc/kubernetes/manifests), in start order. */
export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type Component = (typeof COMPONENTS)[number];
export function isComponent(s: string): s is Component {
  return (COMPONENTS as readonly string[]).includes(s);
}

/**
 * Boolean flags of the control-plane programs the lessons touch. `--flag value` gives a flag its value
 * for every other flag (pflag and Go's flag package both read it so), but a boolean flag never takes
 * the next item: `--profiling false` leaves profiling on and `false` a stray argument (on which the
 * component refuses to start).
 */
const BOOLEAN_FLAGS = new Set([
  '--anonymous-auth',
  '--profiling',
  '--contention-profiling',
  '--allow-privileged',
  '--enable-bootstrap-token-auth',
  '--enable-aggregator-routing',
  '--enable-priority-and-fairness',
  '--enable-garbage-collector',
  '--service-account-lookup',
  '--audit-log-compress',
  '--use-service-account-credentials',
  '--leader-elect',
  '--client-cert-auth',
  '--peer-client-cert-auth',
  '--auto-tls',
  '--peer-auto-tls',
  '--enable-pprof',
  '--strict-reconfig-check',
  '--force-new-cluster',
  '--debug',
]);

/**
 * Read the flags from a static-pod manifest (for checks, attacks and lessons) as the component's own
 * flag parser does: `--flag=value` and `--flag value` (two list items) alike, a boolean flag alone
 * as `true`, etcd's single-dash `-flag` as `--flag`, and the last of a repeated flag winning.
 */
export function manifestFlags(manifestYaml: string): Map<string, string> {
  const pod: any = parse(manifestYaml);
  const c = pod?.spec?.containers?.[0] ?? {};
  const items: unknown[] = [...(c.command ?? []), ...(c.args ?? [])];
  const out = new Map<string, string>();
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item !== 'string' || !/^--?[A-Za-z]/.test(item)) continue;
    let raw = item;
    if (!raw.startsWith('--')) raw = `-${raw}`;
    const eq = raw.indexOf('=');
    if (eq >= 0) {
      out.set(raw.slice(0, eq), raw.slice(eq + 1));
      continue;
    }
    const next = items[i + 1];
    if (takesNext(raw, next)) {
      out.set(raw, next as string);
      i++;
    } else out.set(raw, 'true');
  }
  return out;
}

/**
 * Whether the list item after a bare `--flag` is that flag's value (`--flag value`, two items).
 */
export function takesNext(flag: string, next: unknown): boolean {
  // pflag and Go's flag package take the next item whatever it is; a flag-looking one is read here as
  // the next flag, so a boolean flag missing from the list above cannot hide the flag after it.
  return !BOOLEAN_FLAGS.has(flag) && typeof next === 'string' && (next === '-' || !next.startsWith('-'));
}

/** A boolean flag's value as Go's strconv.ParseBool reads it (`1`, `t`, `TRUE`, `True`…); undefined if it is not one. */
export function flagBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  return undefined;
}

export interface HostPathMount {
  mountPath: string;
  hostPath: string;
  readOnly: boolean;
}

/**
 * The node path behind a path inside a static pod's container, through its hostPath volumes (the
 * longest mountPath that holds it wins, as for a kubelet). No nodePath: the path is in no mounted
 * volume, so the component sees its own container's file system there, not the node's.
 */
export function toNodePath(manifestYaml: string, path: string): { nodePath?: string; mount?: HostPathMount } {
  const pod: any = parse(manifestYaml);
  const c = pod?.spec?.containers?.[0] ?? {};
  const volumes = new Map<string, string>();
  for (const v of pod?.spec?.volumes ?? []) if (v?.hostPath?.path) volumes.set(v.name, v.hostPath.path);
  const mounts: HostPathMount[] = [];
  for (const m of c.volumeMounts ?? []) {
    const hp = volumes.get(m?.name);
    if (hp && m.mountPath) mounts.push({ mountPath: posix.normalize(m.mountPath), hostPath: hp, readOnly: !!m.readOnly });
  }
  mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
  const n = posix.normalize(path);
  for (const m of mounts) {
    const prefix = m.mountPath.endsWith('/') ? m.mountPath : `${m.mountPath}/`;
    if (n === m.mountPath || n.startsWith(prefix)) return { nodePath: posix.join(m.hostPath, n.slice(m.mountPath.length)), mount: m };
  }
  return {};
}

/** Same pod? (A kubelet restarts a static pod only when the pod it decodes from the file changes: comments and layout do not count.) */
export function samePodManifest(a: string, b: string): boolean {
  try {
    return isDeepStrictEqual(parse(a), parse(b));
  } catch {
    return false;
  }
}
