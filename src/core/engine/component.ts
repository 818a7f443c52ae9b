import { parse } from 'yaml';

/** The static-pod components of a control plane (/etc/kubernetes/manifests), in start order. */
export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type Component = (typeof COMPONENTS)[number];
export function isComponent(s: string): s is Component {
  return (COMPONENTS as readonly string[]).includes(s);
}

/** Read a flag's value(s) from a static-pod manifest (for checks and lessons). */
export function manifestFlags(manifestYaml: string): Map<string, string> {
  const pod: any = parse(manifestYaml);
  const c = pod?.spec?.containers?.[0] ?? {};
  const out = new Map<string, string>();
  for (const raw of [...(c.command ?? []), ...(c.args ?? [])]) {
    if (typeof raw !== 'string' || !raw.startsWith('--')) continue;
    const eq = raw.indexOf('=');
    if (eq < 0) out.set(raw, 'true');
    else out.set(raw.slice(0, eq), raw.slice(eq + 1));
  }
  return out;
}
