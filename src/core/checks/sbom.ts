import { z } from 'zod';
import type { CheckOutcome, CheckPrimitive } from './types.js';
import { runningBuild } from './deployedBuild.js';
import { inRange, loadAdvisories, parseCycloneDx, sbomMismatches, SBOM_DIGEST_ANNOTATION, SBOM_KEY as DEFAULT_KEY } from '../scan.js';

const schema = z
  .object({
    namespace: z.string(),
    /** The Deployment whose running image the SBOM must describe. */
    name: z.string(),
    container: z.string().optional(),
    /** The app's folder in the workspace (for messages). */
    path: z.string().optional(),
    /** The ConfigMap the SBOM is published in, in the same namespace (default `<name>-sbom`). */
    configMap: z.string().optional(),
    /** Its data key (default: sbom.cdx.json, or the ConfigMap's only key). */
    key: z.string().optional(),
    annotation: z.string().default(SBOM_DIGEST_ANNOTATION),
    /** Packages the SBOM must list, each at a version no advisory of the lab's snapshot affects. */
    packages: z.array(z.string()).default([]),
  })
  .strict();
type P = z.infer<typeof schema>;

/** Which data key holds the SBOM, or why none does. */
export function sbomKey(data: Record<string, string>, key?: string): { key: string } | { error: string } {
  const keys = Object.keys(data);
  if (key) return key in data ? { key } : { error: `has no key ${key} (it has: ${keys.join(', ') || 'nothing'})` };
  if (DEFAULT_KEY in data) return { key: DEFAULT_KEY };
  if (keys.length === 1) return { key: keys[0] };
  return { error: keys.length ? `holds ${keys.join(', ')} — put the SBOM under the key ${DEFAULT_KEY}` : 'is empty' };
}

/**
 * A CycloneDX SBOM published next to a Deployment (a ConfigMap, annotated with the image digest it
 * describes) describes the image that runs: the same digest as the lab's build the Deployment runs,
 * the same packages at the same versions — and lists the named packages at fixed versions.
 */
export const sbom: CheckPrimitive<P> = {
  type: 'sbom',
  schema,
  watches: (p) => [
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: p.namespace },
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: p.namespace },
    { apiVersion: 'v1', kind: 'Pod', namespace: p.namespace },
  ],
  async run(ctx, p): Promise<CheckOutcome> {
    const app = p.path?.split('/').pop();
    const cmName = p.configMap ?? `${p.name}-sbom`;
    const cmWhat = `ConfigMap ${p.namespace}/${cmName}`;
    const r = await runningBuild(ctx, p, app);
    if ('failure' in r) return { passed: false, message: r.failure };
    const running = r.build.digest;
    const publish = `generate it for the image that runs (\`kube-seclab sbom ${p.path ?? r.build.path} --out FILE\`) and publish it: \`kubectl -n ${p.namespace} create configmap ${cmName} --from-file=${DEFAULT_KEY}=FILE\`, then \`kubectl -n ${p.namespace} annotate configmap ${cmName} ${p.annotation}=${running}\``;
    const cm: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cmName, namespace: p.namespace } });
    if (!cm)
      return { passed: false, message: `no ${cmWhat}: nobody can tell what the running image of Deployment ${p.namespace}/${p.name} contains — ${publish}` };
    const k = sbomKey(cm.data ?? {}, p.key);
    if ('error' in k) return { passed: false, message: `${cmWhat} ${k.error}` };
    const doc = parseCycloneDx(cm.data[k.key]);
    if ('error' in doc) return { passed: false, message: `${cmWhat} key ${k.key} is not a CycloneDX SBOM: ${doc.error} — ${publish}` };
    const says = cm.metadata?.annotations?.[p.annotation];
    if (!says)
      return {
        passed: false,
        message: `${cmWhat} does not say which image it describes: annotate it with ${p.annotation}=<the digest> (\`kubectl -n ${p.namespace} annotate configmap ${cmName} ${p.annotation}=${running}\` — only if the SBOM was generated from the sources of that build)`,
      };
    if (says !== running) {
      return {
        passed: false,
        message: `${cmWhat} describes ${String(says).slice(0, 19)}…, but Deployment ${p.namespace}/${p.name} runs ${running.slice(0, 19)}… — an SBOM of another image; ${publish}`,
      };
    }
    const db = await loadAdvisories();
    for (const name of p.packages) {
      const versions = doc.components.filter((c) => c.name === name).map((c) => c.version);
      if (!versions.length)
        return { passed: false, message: `${cmWhat}'s SBOM does not list ${name} — the app depends on it; an SBOM lists every package the image carries` };
      for (const v of versions) {
        const adv = db.advisories.find((a) => a.package === name && inRange(v, a.vulnerable));
        if (adv)
          return {
            passed: false,
            message: `${cmWhat}'s SBOM lists ${name} ${v}, affected by ${adv.id} (${adv.severity}${adv.fixed ? `, fixed in ${adv.fixed}` : ''}) — upgrade it, rebuild, deploy, and publish the SBOM of the new image`,
          };
      }
    }
    const diff = sbomMismatches(doc.components, r.build.packages);
    if (diff.length)
      return {
        passed: false,
        message: `${cmWhat}'s SBOM does not match the image it claims to describe: ${diff[0]}${diff.length > 1 ? ` (+${diff.length - 1} more)` : ''} — ${publish}`,
      };
    return {
      passed: true,
      message: `${cmWhat} holds a CycloneDX ${doc.specVersion} SBOM of the running image ${r.build.app}@${running.slice(0, 19)}… (${doc.components.length} component${doc.components.length === 1 ? '' : 's'}${p.packages.length ? `; ${p.packages.join(', ')} at fixed versions` : ''})`,
    };
  },
};
