import { z } from 'zod';
import type { CheckContext, CheckOutcome, CheckPrimitive } from './types.js';
import { stuckPod } from './workload.js';
import { appFolder, buildOf, readBuilds, sourceHash, LAB_REGISTRY, type BuildRecord } from '../builds.js';
import { notACheckPod } from './watch.js';

const target = z.object({
  namespace: z.string(),
  /** The Deployment. */
  name: z.string(),
  /** Its container (default: its only one). */
  container: z.string().optional(),
});

const schema = target
  .extend({
    /** The app's folder in the workspace (what `kube-seclab build` built). */
    path: z.string(),
    /** The build must be of the workspace's sources as they are now (default), not an older build. */
    current: z.boolean().default(true),
    /**
     * Every other pod and pod template of the namespace that runs the lab's image of this app must run
     * that same build too (default): an older build kept running next to the fixed one — a copy under
     * another name, a bare pod — is still running.
     */
    wholeNamespace: z.boolean().default(true),
  })
  .strict();
type P = z.infer<typeof schema>;
export type BuildTarget = z.infer<typeof target>;

/**
 * Which of the lab's builds a Deployment's container runs — by the digest in its spec, and on an
 * engine whose pods really run, by what its ready pods report — or why none (a message that names
 * the Deployment and the next step).
 */
export async function runningBuild(ctx: CheckContext, t: BuildTarget, app?: string): Promise<{ build: BuildRecord } | { failure: string }> {
  const what = `Deployment ${t.namespace}/${t.name}`;
  const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: t.name, namespace: t.namespace } });
  if (!d) return { failure: `${what} is gone — deleting the workload is not a fix` };
  const cs: { name: string; image: string }[] = d.spec?.template?.spec?.containers ?? [];
  const c = t.container ? cs.find((x) => x.name === t.container) : cs[0];
  if (!c) return { failure: `${what} has no container ${t.container}` };
  const build = buildOf(await readBuilds(ctx.workspace), c.image, ctx.engine.name);
  const hint = `\`kube-seclab build${app ? ` ${app}` : ''}\` builds your workspace's sources and prints the image by digest; set it with \`kubectl -n ${t.namespace} set image deploy/${t.name} ${c.name}=<that image>\``;
  if (!build) {
    const ours = c.image.startsWith(`${LAB_REGISTRY}/${app ?? ''}`) && c.image.includes('@sha256:');
    return { failure: `${what} runs ${c.image}, ${ours ? 'which this lab did not build' : 'not an image built from your workspace'}: ${hint}` };
  }
  if (app && build.app !== app) return { failure: `${what} runs a build of ${build.app}, not of ${app}: ${hint}` };
  const desired = d.spec?.replicas ?? 1;
  const st = d.status ?? {};
  const rolled =
    (st.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (st.updatedReplicas ?? 0) >= desired &&
    (st.readyReplicas ?? 0) >= desired &&
    (st.replicas ?? 0) <= desired;
  if (desired < 1) return { failure: `${what} is scaled to 0 — it must keep serving` };
  if (!rolled) {
    const old = (st.replicas ?? 0) - (st.updatedReplicas ?? 0);
    const state =
      (st.updatedReplicas ?? 0) < desired || (st.readyReplicas ?? 0) < desired
        ? `${Math.min(st.updatedReplicas ?? 0, st.readyReplicas ?? 0)}/${desired} replicas of its current template are ready`
        : `${old} replica${old === 1 ? '' : 's'} of an older template ${old === 1 ? 'is' : 'are'} still running`;
    const stuck = await stuckPod(ctx, t.namespace, d).catch(() => undefined);
    if (stuck) return { failure: `${what} is not rolling out: ${stuck}` };
    return {
      failure: `${what} is still rolling out (${state}) — wait for \`kubectl -n ${t.namespace} rollout status deploy/${t.name}\`, or look at \`kubectl -n ${t.namespace} get pods\` for why`,
    };
  }
  if (ctx.engine.supports('kind')) {
    // Where pods really run, they must report the very image (a digest reference can't move, but a pod can be older).
    const sel = Object.entries(d.spec.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const pods = (await ctx.cluster.core.listNamespacedPod({ namespace: t.namespace, labelSelector: sel })).items.filter(
      (p) => !p.metadata?.deletionTimestamp && notACheckPod(p),
    );
    const off = pods.flatMap((p) =>
      (p.status?.containerStatuses ?? [])
        .filter((s) => s.name === c.name && !String(s.imageID).endsWith(build.digest))
        .map((s) => `${p.metadata?.name} runs ${s.imageID || 'nothing yet'}`),
    );
    if (off.length) return { failure: `${what}: ${off[0]}, not ${build.digest.slice(0, 19)}… — wait for the rollout to finish` };
  }
  return { build };
}

const TEMPLATES: [string, string, (o: any) => any][] = [
  ['apps/v1', 'Deployment', (o) => o.spec?.template],
  ['apps/v1', 'StatefulSet', (o) => o.spec?.template],
  ['apps/v1', 'DaemonSet', (o) => o.spec?.template],
  ['batch/v1', 'Job', (o) => o.spec?.template],
  ['batch/v1', 'CronJob', (o) => o.spec?.jobTemplate?.spec?.template],
];

/** Another pod or template of the namespace that runs a build of `app` other than `digest` (any image of the app by another digest or tag), named; else undefined. */
async function otherBuilds(ctx: CheckContext, ns: string, app: string, digest: string): Promise<string | undefined> {
  const ofApp = new RegExp(`^${LAB_REGISTRY.replace(/\./g, '\\.')}/${app}[@:]`);
  const bad = (spec: any) =>
    [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].find((c: any) => ofApp.test(c.image ?? '') && !String(c.image).endsWith(`@${digest}`));
  const [pods, ...lists] = await Promise.all([ctx.cluster.list<any>('v1', 'Pod', ns), ...TEMPLATES.map(([a, k]) => ctx.cluster.list<any>(a, k, ns))]);
  for (const [i, [, kind, template]] of TEMPLATES.entries()) {
    for (const o of lists[i]) {
      const c = bad(template(o)?.spec);
      if (c) return `${kind} ${ns}/${o.metadata.name} runs ${c.image}`;
    }
  }
  for (const x of pods) {
    if (x.metadata?.deletionTimestamp || ['Succeeded', 'Failed'].includes(x.status?.phase)) continue;
    const c = bad(x.spec);
    if (c) return `pod ${ns}/${x.metadata.name} runs ${c.image}`;
  }
  return undefined;
}

/** A Deployment runs an image `kube-seclab build` made from the learner's workspace — from its current sources. */
export const deployedBuild: CheckPrimitive<P> = {
  type: 'deployedBuild',
  schema,
  watches: (p) => [
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: p.namespace },
    { apiVersion: 'v1', kind: 'Pod', namespace: p.namespace },
  ],
  async run(ctx, p): Promise<CheckOutcome> {
    const { app, dir } = await appFolder(ctx.workspace, p.path).catch(() => ({ app: p.path.split('/').pop()!, dir: undefined }));
    const r = await runningBuild(ctx, p, app);
    if ('failure' in r) return { passed: false, message: r.failure };
    const when = r.build.builtAt.replace('T', ' ').slice(0, 19);
    if (p.current) {
      if (!dir) return { passed: false, message: `the workspace has no ${p.path} folder any more — a lesson reset hands its sources out again` };
      if ((await sourceHash(dir)) !== r.build.sourceHash) {
        return {
          passed: false,
          message: `Deployment ${p.namespace}/${p.name} runs a build of ${app} from ${when} UTC, but ${dir} changed since — build it again (\`kube-seclab build ${p.path}\`) and deploy the new digest`,
        };
      }
    }
    if (p.wholeNamespace) {
      const other = await otherBuilds(ctx, p.namespace, app, r.build.digest);
      if (other) return { passed: false, message: `${other} — only the fixed build may run: delete it, or deploy the new digest there too` };
    }
    return {
      passed: true,
      message: `Deployment ${p.namespace}/${p.name} runs ${app} built from your ${p.current ? 'current ' : ''}sources (${when} UTC, ${r.build.digest.slice(0, 19)}…)${p.wholeNamespace ? `, and nothing else in ${p.namespace} runs another build of it` : ''}`,
    };
  },
};
