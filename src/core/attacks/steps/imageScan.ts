import { z } from 'zod';
import type { AttackStepKind, Evidence } from '../types.js';
import { runningPods, workloadRefSchema } from '../pods.js';
import { buildOf, readBuilds } from '../../builds.js';
import { atOrAbove, scanBuild, severitySchema } from '../../scan.js';
import { UserError } from '../../errors.js';

const schema = z
  .object({
    /** What the attacker reaches: the pods behind a Service (every replica, an old copy behind it too)… */
    service: z.object({ namespace: z.string(), name: z.string() }).strict().optional(),
    /** …or one workload's running pods. */
    workload: workloadRefSchema.optional(),
    /** A package with a known vulnerability at or above this severity is what the attacker looks for. */
    severity: severitySchema.default('high'),
    /** Only this package (the one the exploit targets). */
    package: z.string().optional(),
  })
  .strict()
  .refine((p) => !!p.service !== !!p.workload, { message: 'needs exactly one of `service` or `workload`' });
type P = z.infer<typeof schema>;

const live = (p: any) => !p.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase);

/** The pods a Service sends traffic to (its selector, live ones), or why none. */
async function podsBehind(ctx: Parameters<AttackStepKind['run']>[0], ns: string, name: string): Promise<{ pods: any[]; why?: string }> {
  const svc: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns } });
  if (!svc) return { pods: [], why: `Service ${ns}/${name} is gone` };
  const sel = Object.entries<string>(svc.spec?.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (!sel) return { pods: [], why: `Service ${ns}/${name} selects no pods` };
  const pods = (await ctx.cluster.list<any>('v1', 'Pod', ns, sel)).filter(live);
  return pods.length ? { pods } : { pods: [], why: `no pod behind Service ${ns}/${name}` };
}

/**
 * Fingerprint what the app runs: the npm packages of the image every pod behind its Service (or of
 * a workload) runs — what anyone who pulls the image reads in node_modules/<pkg>/package.json — looked
 * up in the lab's advisory snapshot. The lab knows an image's packages from its build record (on
 * kind the image is real, on local only the record exists). Success = a known-vulnerable package runs.
 */
export const imageScan: AttackStepKind<P> = {
  type: 'imageScan',
  schema,
  async run(ctx, p) {
    const { pods, why } = p.service ? await podsBehind(ctx, p.service.namespace, p.service.name) : await runningPods(ctx, p.workload!);
    if (!pods.length) return { succeeded: false, message: why ?? 'no pod to look at' };
    const builds = await readBuilds(ctx.workspace);
    const images = [...new Set(pods.flatMap((x) => (x.spec?.containers ?? []).map((c: any) => String(c.image))))];
    const evidence: Evidence[] = [];
    const clean: string[] = [];
    const unknown: string[] = [];
    for (const image of images) {
      const b = buildOf(builds, image, ctx.engine.name);
      if (!b) {
        unknown.push(image);
        continue;
      }
      const short = `${b.app}@${b.digest.slice(7, 19)}…`;
      const bad = (await scanBuild(b)).findings.filter((f) => atOrAbove(f.advisory.severity, p.severity) && (!p.package || f.name === p.package));
      if (!bad.length) {
        clean.push(`${short} (${b.packages.length} package${b.packages.length === 1 ? '' : 's'})`);
        continue;
      }
      for (const f of bad.slice(0, 3)) {
        evidence.push({
          label: short,
          value: `${f.name} ${f.version} (${f.path}) — ${f.advisory.severity} ${f.advisory.id}${f.advisory.aliases.length ? ` / ${f.advisory.aliases[0]}` : ''}: ${f.advisory.summary}`,
        });
      }
    }
    const where = p.service
      ? `the pods behind Service ${p.service.namespace}/${p.service.name}`
      : `${p.workload!.kind} ${p.workload!.namespace}/${p.workload!.name}`;
    const what = p.package ? `${p.package} with a known ${p.severity}-or-worse vulnerability` : `a package with a known ${p.severity}-or-worse vulnerability`;
    if (evidence.length) return { succeeded: true, message: `${where} run ${what}: the public exploit for it applies`, evidence };
    // An image the lab did not build is one it cannot look into: that proves nothing either way.
    if (unknown.length)
      throw new UserError(
        `${where} run ${unknown.length > 1 ? 'images' : 'an image'} the lab did not build (${unknown.slice(0, 2).join(', ')}): their packages are unknown here — build and deploy with \`kube-seclab build --deploy\``,
      );
    return { succeeded: false, message: `${where} run ${clean.join(', ')}: no ${what}` };
  },
};
