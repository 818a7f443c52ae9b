import type { CheckContext } from '../types.js';
import type { Variant } from './types.js';
import type { DryRunResult } from '../../kube/client.js';
import { MANAGED_LABEL, LESSON_LABEL } from '../../kube/client.js';
import { dryRunAs } from '../../rbac/cluster.js';

export interface VariantResult {
  variant: Variant;
  namespace: string;
  /** Not tried (nothing there to change, say): why. */
  skipped?: string;
  allowed?: boolean;
  message?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A running (else any live) pod of the namespace: what an ephemeral container is added to. */
async function targetPod(ctx: CheckContext, namespace: string): Promise<any | undefined> {
  const pods = (await ctx.cluster.list<any>('v1', 'Pod', namespace)).filter(
    (p) => !p.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase),
  );
  return pods.find((p) => p.status?.phase === 'Running') ?? pods[0];
}

/** One dry run; a brand-new namespace's default ServiceAccount may lag a moment behind it. */
async function attempt(ctx: CheckContext, namespace: string, v: Variant): Promise<DryRunResult | string> {
  const t = v.try;
  if ('create' in t && v.as) {
    // As the claimant: RBAC refusing it is a rejection too (it cannot create X at all).
    const r = await dryRunAs(ctx.cluster, v.as.subject, t.create);
    return { allowed: r.admitted, message: r.message, warnings: [] };
  }
  if ('create' in t) {
    let r = await ctx.cluster.dryRunCreate(t.create);
    for (let i = 0; !r.allowed && /serviceaccount .*not found|error looking up service account/i.test(r.message) && i < 30; i++) {
      await sleep(200);
      r = await ctx.cluster.dryRunCreate(t.create);
    }
    return r;
  }
  if ('ephemeral' in t) {
    const pod = await targetPod(ctx, namespace);
    if (!pod) return `no pod in namespace ${namespace} to add it to`;
    return ctx.cluster.dryRunEphemeral(pod, t.ephemeral);
  }
  const u = t.update;
  const live = (await ctx.cluster.list<any>(u.apiVersion, u.kind, namespace)).find(u.pick);
  if (!live) return `no ${u.what} in namespace ${namespace} to change`;
  return ctx.cluster.dryRunReplace(u.change(structuredClone(live)));
}

/** Try every variant in a namespace (a few at a time). */
export async function runBattery(ctx: CheckContext, namespace: string, variants: Variant[], concurrency = 6): Promise<VariantResult[]> {
  const out: VariantResult[] = new Array(variants.length);
  let next = 0;
  const worker = async () => {
    while (next < variants.length) {
      const i = next++;
      const v = variants[i];
      const r = await attempt(ctx, namespace, v);
      out[i] = typeof r === 'string' ? { variant: v, namespace, skipped: r } : { variant: v, namespace, allowed: r.allowed, message: r.message };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, variants.length) }, worker));
  return out;
}

/** Does a rejection come from the admission layer the check asks for? */
export function rejectedBy(message: string, by: string | undefined): boolean {
  if (!by) return true;
  const known: Record<string, RegExp> = {
    PodSecurity: /violates PodSecurity/i,
    ValidatingAdmissionPolicy: /ValidatingAdmissionPolicy/i,
    webhook: /admission webhook .* denied the request/i,
  };
  const re = known[by] ?? new RegExp(by.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
  return re.test(message);
}

/**
 * The verdict over a battery's results: every variant of X rejected (by `by`), every ordinary
 * object admitted, nothing left untried. The first problem, said plainly, and how many were tried.
 */
export function judgeBattery(results: VariantResult[], opts: { by?: string; what: string }): { passed: boolean; message: string } {
  const problems: string[] = [];
  for (const r of results) {
    const where = `in namespace ${r.namespace}`;
    if (r.skipped) {
      problems.push(`${r.variant.describe} could not be tried ${where}: ${r.skipped}`);
      continue;
    }
    if (r.variant.expect === 'rejected') {
      if (r.allowed)
        problems.push(`${r.variant.describe} is admitted ${where}${r.variant.as ? ' — an admission rule makes an exception of that identity' : ''}`);
      // An identity RBAC does not let create X cannot claim an exception for it.
      else if (r.variant.as && /cannot create resource/i.test(r.message ?? '')) continue;
      else if (!rejectedBy(r.message ?? '', opts.by))
        problems.push(`${r.variant.describe} is rejected ${where}, but not by ${opts.by}: ${firstLine(r.message)}`);
    } else if (!r.allowed) {
      problems.push(`${r.variant.describe} is rejected ${where} — the rule must leave ordinary objects alone: ${firstLine(r.message)}`);
    }
  }
  const nss = [...new Set(results.map((r) => r.namespace))];
  if (problems.length) {
    const more =
      problems.length > 1
        ? ` (${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}: ${problems.slice(1, 3).join('; ')}${problems.length > 3 ? '; …' : ''})`
        : '';
    return { passed: false, message: `${problems[0]}${more}` };
  }
  const rejected = results.filter((r) => r.variant.expect === 'rejected').length;
  return {
    passed: true,
    message: `${opts.what}: all ${rejected} variants rejected${opts.by ? ` by ${opts.by}` : ''} and ordinary objects admitted, in ${nss.join(', ')}`,
  };
}

const firstLine = (s?: string) => (s ?? '').split('\n')[0].slice(0, 240);

/**
 * A namespace made for one check run and removed after it: "X cannot be admitted" must also hold
 * where nobody has labelled anything yet. Labelled as the lab's, so a cleanup finds it.
 */
export async function withScratchNamespace<T>(ctx: CheckContext, fn: (ns: string) => Promise<T>): Promise<T> {
  const name = `kube-seclab-scratch-${Math.random().toString(36).slice(2, 8)}`;
  await ctx.cluster.create({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { [MANAGED_LABEL]: 'kube-seclab', [LESSON_LABEL]: ctx.lessonId, 'kube-seclab.dev/scratch': 'true' } },
  });
  try {
    return await fn(name);
  } finally {
    await ctx.cluster.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch(() => undefined);
  }
}
