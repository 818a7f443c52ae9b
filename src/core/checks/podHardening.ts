import { z } from 'zod';
import type { CheckContext, CheckOutcome, CheckPrimitive } from './types.js';
import { containersOf, podSpecsIn, podSpecWatches, type PodSpecSource } from './podSpecs.js';

const schema = z
  .object({
    namespace: z.string(),
    /** Every container (init and ephemeral ones too) has a read-only root filesystem. */
    readOnlyRootFilesystem: z.boolean().optional(),
    /** No pod holds a ServiceAccount token (none mounted in a live pod; none a template would get, by its own setting or its ServiceAccount's). */
    noServiceAccountToken: z.boolean().optional(),
    /** Every container and init container has these limits (its own, or a LimitRange default of the namespace). */
    limits: z.array(z.enum(['cpu', 'memory'])).optional(),
    /** No pod on the node's network (hostNetwork) and no container with a hostPort: nothing listens on a node port. */
    noHostPorts: z.boolean().optional(),
    /** Every image (init, regular and ephemeral containers) comes from this registry prefix (with its final slash) and is pinned by digest. */
    images: z
      .object({ registry: z.string().endsWith('/'), pinned: z.boolean().default(true) })
      .strict()
      .optional(),
    /** Every pod asks for this RuntimeClass. */
    runtimeClassName: z.string().optional(),
    /** Live pods only, or templates only (default: both). */
    only: z.enum(['pods', 'templates']).optional(),
  })
  .strict()
  .refine((p) => p.readOnlyRootFilesystem || p.noServiceAccountToken || p.limits?.length || p.runtimeClassName || p.noHostPorts || p.images, {
    message: 'name at least one requirement',
  });
type P = z.infer<typeof schema>;

interface Facts {
  /** ServiceAccount name → its automountServiceAccountToken (undefined: not set). */
  saAutomount: Map<string, boolean | undefined>;
  /** Limits a LimitRange gives containers that set none. */
  defaultLimits: Set<string>;
}

const tokenVolumes = (spec: any): string[] =>
  (spec.volumes ?? []).filter((v: any) => (v.projected?.sources ?? []).some((s: any) => s.serviceAccountToken)).map((v: any) => v.name);

/** What one pod spec breaks (empty: nothing). */
export function hardeningProblems(s: PodSpecSource, p: P, f: Facts): string[] {
  const out: string[] = [];
  const spec = s.spec ?? {};
  if (p.runtimeClassName && spec.runtimeClassName !== p.runtimeClassName) {
    out.push(
      spec.runtimeClassName
        ? `it asks for RuntimeClass ${spec.runtimeClassName}, not ${p.runtimeClassName}`
        : `it has no runtimeClassName: ${p.runtimeClassName} — it runs on the node's default runtime`,
    );
  }
  if (p.images) {
    const bad = containersOf(spec).find(
      ({ c }) => !String(c.image).startsWith(p.images!.registry) || (p.images!.pinned && !/@sha256:[0-9a-f]{64}$/.test(String(c.image))),
    );
    if (bad)
      out.push(
        `${bad.where} ${bad.c.name} runs ${bad.c.image}: ${String(bad.c.image).startsWith(p.images.registry) ? 'not pinned by digest' : `not from ${p.images.registry}`}`,
      );
  }
  if (p.noHostPorts) {
    if (spec.hostNetwork) out.push("it runs on the node's network (hostNetwork): every port it listens on is open on the node");
    const hp = containersOf(spec).find(({ c }) => (c.ports ?? []).some((x: any) => x.hostPort));
    if (hp) out.push(`${hp.where} ${hp.c.name} has hostPort ${(hp.c.ports as any[]).find((x) => x.hostPort).hostPort}: that port is open on the node`);
  }
  if (p.readOnlyRootFilesystem) {
    const rw = containersOf(spec).filter(({ c }) => c.securityContext?.readOnlyRootFilesystem !== true);
    if (rw.length)
      out.push(
        `${rw[0].where} ${rw[0].c.name} has no securityContext.readOnlyRootFilesystem: true — a shell in it can rewrite its programs and drop tools next to them`,
      );
  }
  if (p.noServiceAccountToken) {
    const mounted = tokenVolumes(spec);
    if (s.live) {
      const users = containersOf(spec).filter(({ c }) => (c.volumeMounts ?? []).some((m: any) => mounted.includes(m.name)));
      if (users.length)
        out.push(
          `a ServiceAccount token is mounted in ${users[0].where} ${users[0].c.name} (volume ${mounted[0]}) — whoever runs code there can call the API server as ${spec.serviceAccountName ?? 'default'}`,
        );
    } else {
      const sa = spec.serviceAccountName ?? spec.serviceAccount ?? 'default';
      const auto = spec.automountServiceAccountToken ?? f.saAutomount.get(sa) ?? true;
      if (mounted.length) out.push(`it mounts a ServiceAccount token itself (projected volume ${mounted[0]})`);
      else if (auto)
        out.push(
          `its pods get the token of ServiceAccount ${sa} mounted — set automountServiceAccountToken: false (in the pod spec, or on a ServiceAccount of its own)`,
        );
    }
  }
  if (p.limits?.length) {
    for (const { where, c } of containersOf(spec).filter((x) => x.where !== 'ephemeral container')) {
      const missing = p.limits.filter((r) => c.resources?.limits?.[r] === undefined && (s.live || !f.defaultLimits.has(r)));
      if (missing.length) {
        out.push(`${where} ${c.name} has no ${missing.join(' and ')} limit — one runaway process can starve the node`);
        break;
      }
    }
  }
  return out;
}

async function facts(ctx: CheckContext, ns: string, p: P): Promise<Facts> {
  const saAutomount = new Map<string, boolean | undefined>();
  const defaultLimits = new Set<string>();
  if (p.noServiceAccountToken)
    for (const sa of await ctx.cluster.list<any>('v1', 'ServiceAccount', ns)) saAutomount.set(sa.metadata.name, sa.automountServiceAccountToken);
  if (p.limits?.length) {
    for (const lr of await ctx.cluster.list<any>('v1', 'LimitRange', ns)) {
      for (const l of lr.spec?.limits ?? []) if (l.type === 'Container') for (const r of Object.keys(l.default ?? {})) defaultLimits.add(r);
    }
  }
  return { saAutomount, defaultLimits };
}

/**
 * Hardening beyond the Pod Security Standards, over EVERY pod spec of a namespace (live pods, with
 * their ephemeral containers, and every workload's template): read-only root filesystems, no
 * ServiceAccount token, resource limits, a RuntimeClass. Live pods show what really runs (a
 * LimitRange's defaults, a token mounted); templates show what the next pods will be.
 */
export const podHardening: CheckPrimitive<P> = {
  type: 'podHardening',
  schema,
  watches: (p) => [
    ...podSpecWatches(p.namespace),
    { apiVersion: 'v1', kind: 'ServiceAccount', namespace: p.namespace },
    { apiVersion: 'v1', kind: 'LimitRange', namespace: p.namespace },
  ],
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p): Promise<CheckOutcome> {
    const sources = await podSpecsIn(ctx, p.namespace, { pods: p.only !== 'templates', templates: p.only !== 'pods' });
    if (!sources.length) return { passed: false, message: `namespace ${p.namespace} has no pod and no workload — deleting the workload is not a fix` };
    const f = await facts(ctx, p.namespace, p);
    const bad = sources
      .map((s) => ({ s, why: hardeningProblems(s, p, f) }))
      .filter((x) => x.why.length)
      .sort((a, b) => Number(b.s.live) - Number(a.s.live));
    if (bad.length) {
      const more =
        bad.length > 1
          ? ` (and ${bad.length - 1} more: ${bad
              .slice(1, 4)
              .map((b) => b.s.what)
              .join(', ')})`
          : '';
      return { passed: false, message: `${bad[0].s.what}: ${bad[0].why.join('; ')}${more}` };
    }
    const asked = [
      p.readOnlyRootFilesystem && 'read-only root filesystems',
      p.noServiceAccountToken && 'no ServiceAccount token',
      p.limits?.length && `${p.limits.join(' and ')} limits`,
      p.runtimeClassName && `RuntimeClass ${p.runtimeClassName}`,
      p.noHostPorts && 'no hostNetwork or hostPort',
      p.images && `only images from ${p.images.registry}${p.images.pinned ? ' pinned by digest' : ''}`,
    ]
      .filter(Boolean)
      .join(', ');
    const pods = sources.filter((s) => s.live).length;
    return {
      passed: true,
      message: `every pod spec in namespace ${p.namespace} (${pods} pod${pods === 1 ? '' : 's'}, ${sources.length - pods} template${sources.length - pods === 1 ? '' : 's'}) has ${asked}`,
    };
  },
};
