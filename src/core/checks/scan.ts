import { z } from 'zod';
import type { CheckOutcome, CheckPrimitive } from './types.js';
import { runningBuild } from './deployedBuild.js';
import { atOrAbove, describeFinding, scanBuild, severitySchema } from '../scan.js';
import { buildOf, readBuilds } from '../builds.js';
import { containersOf, podSpecsIn, podSpecWatches } from './podSpecs.js';

const schema = z
  .object({
    namespace: z.string(),
    /** The Deployment whose running image is scanned. */
    name: z.string(),
    container: z.string().optional(),
    /** The app's folder in the workspace (its name is the image's; used in messages). */
    path: z.string().optional(),
    /** Fail on any finding at or above this severity (default: any finding). */
    severity: severitySchema.default('low'),
    /** Packages the app requires: they must still be in the image (removing a dependency breaks the app). */
    packages: z.array(z.string()).default([]),
  })
  .strict();
type P = z.infer<typeof schema>;

/**
 * The image a Deployment runs (the lab's build of it: runningBuild) carries no npm package with a
 * known vulnerability at or above a severity, by the lab's advisory snapshot — and still carries
 * the packages the app needs.
 */
export const scan: CheckPrimitive<P> = {
  type: 'scan',
  schema,
  watches: (p) => podSpecWatches(p.namespace),
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p): Promise<CheckOutcome> {
    const app = p.path?.split('/').pop();
    const r = await runningBuild(ctx, p, app);
    if ('failure' in r) return { passed: false, message: r.failure };
    const report = await scanBuild(r.build);
    const what = `the image Deployment ${p.namespace}/${p.name} runs (${r.build.app}@${r.build.digest.slice(0, 19)}…)`;
    const missing = p.packages.filter((n) => !report.packages.some((x) => x.name === n));
    if (missing.length) {
      return {
        passed: false,
        message: `${what} has no ${missing.join(', ')} any more — the app requires ${missing.length > 1 ? 'them' : 'it'}, so it cannot start (on kind: CrashLoopBackOff). Upgrade a vulnerable dependency, don't delete it`,
      };
    }
    const bad = report.findings.filter((f) => atOrAbove(f.advisory.severity, p.severity));
    if (bad.length) {
      const fix = bad[0].advisory.fixed
        ? `upgrade ${bad[0].name} to ${bad[0].advisory.fixed} or later in ${p.path ?? 'the app folder'}'s node_modules (package.json alone changes nothing in the image), build and deploy the new digest`
        : 'remove or replace it, build and deploy the new digest';
      return {
        passed: false,
        message: `${what} carries ${bad.length} known-vulnerable package${bad.length > 1 ? 's' : ''}: ${describeFinding(bad[0])}${bad.length > 1 ? ` (+${bad.length - 1} more: \`kube-seclab scan --deploy ${p.namespace}/${p.name}\`)` : ''} — ${fix}`,
      };
    }
    // Every other build of the lab that runs (or waits to run) in the namespace: an old copy next to the fix
    // (a second Deployment, a pod made by hand, both behind the same Service) is as exploitable.
    const builds = await readBuilds(ctx.workspace);
    const seen = new Set([r.build.digest]);
    for (const s of await podSpecsIn(ctx, p.namespace)) {
      for (const { where, c } of containersOf(s.spec)) {
        const b = buildOf(builds, String(c.image), ctx.engine.name);
        if (!b || seen.has(b.digest)) continue;
        seen.add(b.digest);
        const other = (await scanBuild(b)).findings.filter((f) => atOrAbove(f.advisory.severity, p.severity));
        if (other.length)
          return {
            passed: false,
            message: `${s.what}, ${where} ${c.name}, runs another build (${b.app}@${b.digest.slice(0, 19)}…) that carries ${other.length} known-vulnerable package${other.length > 1 ? 's' : ''}: ${describeFinding(other[0])} — whatever still runs it is as exploitable as before: remove it or deploy the patched build there too`,
          };
      }
    }
    const below = report.findings.length ? ` (${report.findings.length} below ${p.severity})` : '';
    return {
      passed: true,
      message: `${what}: ${report.packages.length} npm package${report.packages.length === 1 ? '' : 's'}, no known vulnerability at or above ${p.severity}${below} (advisories of ${report.advisories.updated})`,
    };
  },
};
