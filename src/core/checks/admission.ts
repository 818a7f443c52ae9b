import { z } from 'zod';
import type { KubernetesObject } from '@kubernetes/client-node';
import { admissionBait, admissionClaimants, baitedVariants, claimedVariants } from './batteries/exceptions.js';
import { dryRunAs } from '../rbac/cluster.js';
import type { CheckPrimitive } from './types.js';
import { loadObjects, describe } from './files.js';

const schema = z
  .object({
    /** A YAML file in the lesson folder, or the object inline. */
    file: z.string().optional(),
    manifest: z.record(z.string(), z.unknown()).optional(),
    namespace: z.string().optional(),
    expect: z.enum(['allowed', 'rejected']),
    /** When rejected: who must have rejected it (PodSecurity, ValidatingAdmissionPolicy, or a policy name). */
    by: z.string().optional(),
  })
  .strict()
  .refine((p) => !!p.file !== !!p.manifest, { message: 'needs exactly one of `file` or `manifest`' });
type P = z.infer<typeof schema>;

const BY: Record<string, RegExp> = {
  PodSecurity: /violates PodSecurity/i,
  ValidatingAdmissionPolicy: /ValidatingAdmissionPolicy/i,
};

/** Admission as the API server decides it: a server-side dry-run create of a manifest. */
export const admission: CheckPrimitive<P> = {
  type: 'admission',
  schema,
  watches: (p) => [
    { apiVersion: 'v1', kind: 'Namespace' },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy' },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding' },
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration' },
    ...(p.namespace ? [{ apiVersion: 'v1', kind: 'Pod', namespace: p.namespace }] : []),
  ],
  scope: (p) => {
    const ns = p.namespace ?? (p.manifest?.metadata as { namespace?: string } | undefined)?.namespace;
    return ns ? { namespaces: [ns] } : 'dry-runs an object without a namespace';
  },
  async run(ctx, p) {
    // The file's object is lesson data like the check's own fields: renamed for a shared cluster.
    const [obj] = (await loadObjects(ctx.lessonDir, p)).map((o) => ctx.cluster.rename.value(o));
    if (p.namespace) obj.metadata = { ...obj.metadata, namespace: p.namespace };
    const name = describe(obj);
    const res = await ctx.cluster.dryRunCreate(obj);
    if (p.expect === 'allowed') {
      return res.allowed ? { passed: true, message: `${name} is admitted` } : { passed: false, message: `${name} is rejected: ${res.message}` };
    }
    if (res.allowed) return { passed: false, message: `${name} is still admitted (a dry run created it without objection)` };
    if (p.by) {
      const re = BY[p.by] ?? new RegExp(p.by.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
      if (!re.test(res.message)) return { passed: false, message: `${name} is rejected, but not by ${p.by}: ${res.message}` };
    }
    // An exception a rule makes by label ("not for legacy jobs") is one the attacker claims: the same object, wearing it.
    const x = { id: 'x', describe: name, expect: 'rejected' as const, try: { create: obj } };
    const [baited] = baitedVariants([x], await admissionBait(ctx));
    if (baited) {
      const again = await ctx.cluster.dryRunCreate((baited.try as { create: KubernetesObject }).create);
      if (again.allowed) return { passed: false, message: `${baited.describe} is admitted (a dry run created it without objection)` };
    }
    // An exception by identity too: the same object created as the pod-creating controllers and whoever the rules name.
    for (const v of claimedVariants([x], await admissionClaimants(ctx))) {
      const again = await dryRunAs(ctx.cluster, v.as!.subject, obj);
      if (again.admitted) return { passed: false, message: `${v.describe} is admitted — an admission rule makes an exception of that identity` };
    }
    return { passed: true, message: `${name} is rejected: ${res.message}` };
  },
};
