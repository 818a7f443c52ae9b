import { z } from 'zod';
import type { CheckContext, CheckOutcome, CheckPrimitive } from './types.js';
import type { Variant } from './batteries/types.js';
import { exposureBattery } from './batteries/exposure.js';
import { imageBattery } from './batteries/images.js';
import { podSecurityBattery } from './batteries/podSecurity.js';
import { admissionBait, admissionClaimants, baitedVariants, claimedVariants } from './batteries/exceptions.js';
import { judgeBattery, runBattery, withScratchNamespace, type VariantResult } from './batteries/run.js';

const imageFrom = z.object({ namespace: z.string(), name: z.string(), container: z.string().optional() }).strict();

const schema = z
  .object({
    /**
     * Which X cannot be admitted (the battery of its variants, src/core/checks/batteries):
     * node-exposure — node ports, external IPs, host ports, host network;
     * images — untrusted images anywhere in a pod (by tag, other/look-alike registries, short names;
     *   containers, init, ephemeral, in-place updates); signed-images — the same, plus unsigned digests;
     * pod-security-baseline / pod-security-restricted — pods below the level, ephemeral containers too.
     */
    battery: z.enum(['node-exposure', 'images', 'signed-images', 'pod-security-baseline', 'pod-security-restricted']),
    /** Existing namespaces the rule must cover. */
    namespaces: z.array(z.string()).min(1),
    /** Also a namespace the check creates (and removes): the rule must cover namespaces nobody labelled yet. */
    newNamespace: z.boolean().default(false),
    /** Namespaces the rule must leave alone: the variants marked for it must be admitted there. */
    outside: z.array(z.string()).default([]),
    /** Who must reject: PodSecurity, ValidatingAdmissionPolicy, webhook, or text of the denial (default: any admission). */
    by: z.string().optional(),
    /** images batteries: the image the rule must admit (the workload's own, by digest) — given, or read from a Deployment. */
    image: z.string().optional(),
    imageFrom: imageFrom.optional(),
    /** images batteries: pod fields the namespace also asks for (runtime class, security context). */
    podSpec: z.record(z.string(), z.unknown()).optional(),
    /** Variants that mean nothing here, by id, each with the reason. */
    skip: z.record(z.string(), z.string().min(10)).default({}),
  })
  .strict()
  .refine((p) => !p.battery.endsWith('images') || !!p.image !== !!p.imageFrom, { message: 'an images battery needs exactly one of `image` or `imageFrom`' });
type P = z.infer<typeof schema>;

async function trustedImage(ctx: CheckContext, p: P): Promise<string | { failure: string }> {
  if (p.image) return p.image;
  const f = p.imageFrom!;
  const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: f.name, namespace: f.namespace } });
  if (!d) return { failure: `Deployment ${f.namespace}/${f.name} is gone — deleting the workload is not a fix` };
  const cs: any[] = d.spec?.template?.spec?.containers ?? [];
  const c = f.container ? cs.find((x) => x.name === f.container) : cs[0];
  if (!c?.image?.includes('@sha256:'))
    return {
      failure: `Deployment ${f.namespace}/${f.name} runs ${c?.image ?? 'no image'}, not an image pinned by digest — the rule cannot admit it, so its next pods would be refused`,
    };
  return c.image;
}

export function batteryFor(battery: P['battery'], namespace: string, image?: string, podSpec?: Record<string, unknown>): Variant[] {
  switch (battery) {
    case 'node-exposure':
      return exposureBattery(namespace);
    case 'images':
      return imageBattery(namespace, { image: image!, podSpec });
    case 'signed-images':
      return imageBattery(namespace, { image: image!, signed: true, podSpec });
    case 'pod-security-baseline':
      return podSecurityBattery(namespace, { level: 'baseline' });
    case 'pod-security-restricted':
      return podSecurityBattery(namespace, { level: 'restricted' });
  }
}

/** Variants that need something already there (a pod to debug, a Service to change) are not tried in a brand-new namespace. */
const needsExisting = (v: Variant) => !('create' in v.try);

const TITLES: Record<P['battery'], string> = {
  'node-exposure': 'nothing opens a node port or an external address',
  images: 'no untrusted image gets into a pod',
  'signed-images': 'no unsigned image gets into a pod',
  'pod-security-baseline': 'no pod below Baseline is admitted',
  'pod-security-restricted': 'no pod below Restricted is admitted',
};

/**
 * "X cannot be admitted", proven over every variant of X the lab knows (one shared battery per
 * topic), by server-side dry runs through the API server's admission chain — in every namespace
 * the rule must cover, in a namespace created for the purpose, and, for variants a rule must leave
 * alone elsewhere, in the namespaces it must not touch.
 */
export const admissionVariants: CheckPrimitive<P> = {
  type: 'admissionVariants',
  schema,
  watches: (p) => [
    { apiVersion: 'v1', kind: 'Namespace' },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy' },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding' },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration' },
    ...p.namespaces.map((namespace) => ({ apiVersion: 'v1', kind: 'Pod', namespace })),
    ...(p.battery === 'node-exposure' ? p.namespaces.map((namespace) => ({ apiVersion: 'v1', kind: 'Service', namespace })) : []),
    ...(p.imageFrom ? [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: p.imageFrom.namespace }] : []),
  ],
  timeoutMs: () => 45_000,
  scope: (p) =>
    p.newNamespace
      ? 'creates a namespace of its own'
      : { namespaces: [...new Set([...p.namespaces, ...p.outside, ...(p.imageFrom ? [p.imageFrom.namespace] : [])])] },
  async run(ctx, p): Promise<CheckOutcome> {
    let image: string | undefined;
    if (p.battery.endsWith('images')) {
      const t = await trustedImage(ctx, p);
      if (typeof t !== 'string') return { passed: false, message: t.failure };
      image = t;
    }
    const pick = (ns: string) => batteryFor(p.battery, ns, image, p.podSpec).filter((v) => !(v.id in p.skip));
    // An exception a rule makes by label is one an attacker claims by labelling their object: X again, wearing it.
    // So is an exception by identity: X again, created as the controllers that create anyone's pods and as whoever the rules name.
    const [bait, claimants] = await Promise.all([admissionBait(ctx), admissionClaimants(ctx)]);
    const withBait = (vs: Variant[]) => [...vs, ...baitedVariants(vs, bait), ...claimedVariants(vs, claimants)];
    const runs: Promise<VariantResult[]>[] = p.namespaces.map((ns) => runBattery(ctx, ns, withBait(pick(ns))));
    for (const ns of p.outside) {
      runs.push(
        runBattery(
          ctx,
          ns,
          pick(ns)
            .filter((v) => v.outside)
            .map((v) => ({ ...v, describe: `${v.describe} (outside the rule's namespaces)`, expect: 'allowed' as const })),
        ),
      );
    }
    if (p.newNamespace) runs.push(withScratchNamespace(ctx, (ns) => runBattery(ctx, ns, withBait(pick(ns).filter((v) => !needsExisting(v))))));
    const results = (await Promise.all(runs)).flat();
    return judgeBattery(results, { by: p.by, what: TITLES[p.battery] });
  },
};
