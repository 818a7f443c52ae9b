import { z } from 'zod';
import { VersionApi } from '@kubernetes/client-node';
import type { CheckContext, CheckOutcome, CheckPrimitive } from './types.js';
import { podSecurityBattery } from './batteries/podSecurity.js';
import { judgeBattery, runBattery } from './batteries/run.js';

const schema = z
  .object({
    namespace: z.string(),
    level: z.enum(['baseline', 'restricted']),
    /**
     * PodSecurity: the namespace's own Pod Security labels must do it. Default: any admission
     * control that rejects every variant (a ValidatingAdmissionPolicy that implements the level is
     * as good) — and where Pod Security labels are used, they must enforce (not only warn or audit)
     * at the level, on the current version of the standard.
     */
    by: z.enum(['PodSecurity']).optional(),
  })
  .strict();
type P = z.infer<typeof schema>;

const RANK: Record<string, number> = { privileged: 0, baseline: 1, restricted: 2 };
const PREFIX = 'pod-security.kubernetes.io/';

/** The API server's minor version (36 for v1.36.x). */
async function serverMinor(ctx: CheckContext): Promise<number | undefined> {
  try {
    const v = await ctx.cluster.kc.makeApiClient(VersionApi).getCode();
    return Number(String(v.minor).replace(/\D.*$/, ''));
  } catch {
    return undefined;
  }
}

/** What is wrong with a namespace's Pod Security labels for a level (undefined: nothing). */
export function labelProblem(labels: Record<string, string>, level: string, minor: number | undefined, required: boolean): string | undefined {
  const enforce = labels[`${PREFIX}enforce`];
  const version = labels[`${PREFIX}enforce-version`];
  const reporting = ['warn', 'audit'].filter((m) => labels[`${PREFIX}${m}`]);
  if (!enforce) {
    if (!required) return undefined;
    return reporting.length
      ? `it only has ${reporting.map((m) => `${m}=${labels[`${PREFIX}${m}`]}`).join(' and ')}: those report a violating pod and let it in — set pod-security.kubernetes.io/enforce=${level}`
      : `it has no pod-security.kubernetes.io/enforce label — set enforce=${level}`;
  }
  if (!(enforce in RANK)) return `its enforce label is "${enforce}", not a Pod Security level (privileged, baseline, restricted)`;
  if (RANK[enforce] < RANK[level]) return `it enforces "${enforce}", below ${level}${enforce === 'privileged' ? ' (privileged allows everything)' : ''}`;
  if (version && version !== 'latest') {
    const m = /^v1\.(\d+)$/.exec(version);
    if (!m) return `its enforce-version "${version}" is not a version (latest or v1.<minor>)`;
    if (minor !== undefined && Number(m[1]) < minor)
      return `its enforce-version is pinned to ${version}: rules of the standard added since (the AppArmor and SELinux fields, for one) are not enforced — use latest (or leave the label out)`;
  }
  return undefined;
}

/**
 * A namespace admits no pod below a Pod Security level: its labels enforce the level on the
 * current version of the standard (where it uses them), and every variant of a violating pod —
 * privileged, host namespaces, hostPath, capabilities, seccomp, AppArmor, SELinux, sysctls, root,
 * in containers, init containers and ephemeral containers — is rejected by a server-side dry run.
 */
export const podSecurityEnforced: CheckPrimitive<P> = {
  type: 'podSecurityEnforced',
  schema,
  watches: (p) => [
    { apiVersion: 'v1', kind: 'Namespace' },
    { apiVersion: 'v1', kind: 'Pod', namespace: p.namespace },
  ],
  timeoutMs: () => 30_000,
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p): Promise<CheckOutcome> {
    const ns: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: p.namespace } });
    if (!ns) return { passed: false, message: `namespace ${p.namespace} is gone` };
    const why = labelProblem(ns.metadata?.labels ?? {}, p.level, await serverMinor(ctx), p.by === 'PodSecurity');
    if (why) return { passed: false, message: `namespace ${p.namespace}: ${why}` };
    const results = await runBattery(ctx, p.namespace, podSecurityBattery(p.namespace, { level: p.level }));
    return judgeBattery(results, { by: p.by, what: `namespace ${p.namespace} admits no pod below ${p.level}` });
  },
};
