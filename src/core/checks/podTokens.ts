import { z } from 'zod';
import type { CheckPrimitive, CheckContext } from './types.js';
import { notACheckPod } from './watch.js';

const schema = z
  .object({
    namespace: z.string(),
    /** The workload whose template and running pods are judged. */
    workload: z.object({ kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).default('Deployment'), name: z.string() }).strict(),
    /** The pods must run as this ServiceAccount (the template and every running pod). */
    serviceAccount: z.string().optional(),
    /**
     * The only token audiences a pod may hold (a projected serviceAccountToken without an audience is
     * one for the API server). Absent: tokens are not judged.
     */
    allowAudiences: z.array(z.string()).optional(),
    /** A token for this audience must be mounted into a container. */
    requireAudience: z.string().optional(),
    /** Such tokens live at most this long (the kubelet's default when unset: 3600 s). */
    maxExpirationSeconds: z.number().int().positive().optional(),
  })
  .strict()
  .refine((p) => p.serviceAccount || p.allowAudiences || p.requireAudience, { message: 'name serviceAccount, allowAudiences or requireAudience' });
type P = z.infer<typeof schema>;

interface Facts {
  saAutomount: Map<string, boolean | undefined>;
  tokenSecrets: Set<string>;
}

/** What one pod spec breaks. `live`: an admitted pod (its automounted token is a volume by now). */
export function tokenProblems(spec: any, live: boolean, p: P, f: Facts): string[] {
  const out: string[] = [];
  const sa = spec.serviceAccountName || spec.serviceAccount || 'default';
  if (p.serviceAccount && sa !== p.serviceAccount) out.push(`it runs as ServiceAccount ${sa}, not ${p.serviceAccount}`);
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const mountedNames = new Set(containers.flatMap((c: any) => (c.volumeMounts ?? []).map((m: any) => m.name)));
  const audiences: { aud?: string; exp?: number; volume: string; mounted: boolean }[] = [];
  for (const v of spec.volumes ?? []) {
    for (const s of v.projected?.sources ?? []) {
      if (s.serviceAccountToken)
        audiences.push({
          aud: s.serviceAccountToken.audience || undefined,
          exp: s.serviceAccountToken.expirationSeconds,
          volume: v.name,
          mounted: mountedNames.has(v.name),
        });
      if (s.secret?.name && f.tokenSecrets.has(s.secret.name)) out.push(`volume ${v.name} holds Secret ${s.secret.name}, a long-lived Kubernetes API token`);
    }
    if (v.secret?.secretName && f.tokenSecrets.has(v.secret.secretName))
      out.push(`volume ${v.name} holds Secret ${v.secret.secretName}, a long-lived Kubernetes API token`);
  }
  for (const c of containers) {
    for (const e of c.env ?? [])
      if (e.valueFrom?.secretKeyRef && f.tokenSecrets.has(e.valueFrom.secretKeyRef.name))
        out.push(`container ${c.name} reads Secret ${e.valueFrom.secretKeyRef.name} (a Kubernetes API token) into env ${e.name}`);
    for (const e of c.envFrom ?? [])
      if (e.secretRef && f.tokenSecrets.has(e.secretRef.name))
        out.push(`container ${c.name} takes its environment from Secret ${e.secretRef.name} (a Kubernetes API token)`);
  }
  if (p.allowAudiences) {
    if (!live) {
      const auto = spec.automountServiceAccountToken ?? f.saAutomount.get(sa) ?? true;
      if (auto) out.push(`its pods get a Kubernetes API token automounted (automountServiceAccountToken is not false, on the pod nor on ServiceAccount ${sa})`);
    }
    for (const a of audiences) {
      if (!a.mounted) continue;
      if (!a.aud)
        out.push(
          `volume ${a.volume} holds a token for the Kubernetes API server (a serviceAccountToken without an audience${live && /^kube-api-access-/.test(a.volume) ? ': the automounted one' : ''})`,
        );
      else if (!p.allowAudiences.includes(a.aud))
        out.push(`volume ${a.volume} holds a token for audience ${a.aud} (only ${p.allowAudiences.join(', ')} may be)`);
    }
  }
  if (p.requireAudience && !audiences.some((a) => a.mounted && a.aud === p.requireAudience))
    out.push(`no container gets a projected serviceAccountToken for audience ${p.requireAudience}`);
  if (p.maxExpirationSeconds) {
    for (const a of audiences)
      if (a.mounted && a.aud && (a.exp ?? 3600) > p.maxExpirationSeconds)
        out.push(`the token in volume ${a.volume} lives ${a.exp ?? 3600}s (at most ${p.maxExpirationSeconds}s)`);
  }
  return out;
}

async function facts(ctx: CheckContext, ns: string): Promise<Facts> {
  const [sas, secrets] = await Promise.all([
    ctx.cluster.list<any>('v1', 'ServiceAccount', ns),
    ctx.cluster.list<any>('v1', 'Secret', ns).catch(() => [] as any[]),
  ]);
  return {
    saAutomount: new Map(sas.map((s) => [s.metadata.name, s.automountServiceAccountToken])),
    tokenSecrets: new Set(secrets.filter((s) => s.type === 'kubernetes.io/service-account-token').map((s) => s.metadata.name)),
  };
}

/**
 * Which identity and which tokens a workload's pods get — its template and every running pod (an
 * admitted pod shows the automounted token as a volume; a template shows what its ServiceAccount
 * would add). Tokens by audience: one for the API server is a Kubernetes credential, one for a
 * cloud's token exchange is not.
 */
export const podTokens: CheckPrimitive<P> = {
  type: 'podTokens',
  schema,
  watches: (p) => [
    { apiVersion: 'apps/v1', kind: p.workload.kind, namespace: p.namespace },
    { apiVersion: 'v1', kind: 'Pod', namespace: p.namespace },
    { apiVersion: 'v1', kind: 'ServiceAccount', namespace: p.namespace },
  ],
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p) {
    const what = `${p.workload.kind} ${p.namespace}/${p.workload.name}`;
    const w: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: p.workload.kind, metadata: { name: p.workload.name, namespace: p.namespace } });
    if (!w) return { passed: false, message: `${what} is gone — deleting it is not a fix` };
    const f = await facts(ctx, p.namespace);
    const sel = Object.entries(w.spec?.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const pods = (sel ? await ctx.cluster.list<any>('v1', 'Pod', p.namespace, sel) : []).filter(
      (x) => !x.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(x.status?.phase) && notACheckPod(x),
    );
    const judged = [
      { where: `${what} (its pod template)`, spec: w.spec?.template?.spec ?? {}, live: false },
      ...pods.map((x) => ({ where: `pod ${p.namespace}/${x.metadata.name}`, spec: x.spec ?? {}, live: true })),
    ];
    for (const j of judged) {
      const bad = tokenProblems(j.spec, j.live, p, f);
      if (bad.length) return { passed: false, message: `${j.where}: ${bad.join('; ')}` };
    }
    const parts = [
      p.serviceAccount ? `run as ServiceAccount ${p.serviceAccount}` : '',
      p.allowAudiences ? `hold no token but for ${p.allowAudiences.join(', ')}` : '',
      p.requireAudience ? `get a token for ${p.requireAudience}${p.maxExpirationSeconds ? ` living at most ${p.maxExpirationSeconds}s` : ''}` : '',
    ].filter(Boolean);
    return { passed: true, message: `the template and the ${pods.length} running pod${pods.length === 1 ? '' : 's'} of ${what} ${parts.join(', and ')}` };
  },
};
