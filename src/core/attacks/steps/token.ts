import { z } from 'zod';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import type { AttackStepKind, AttackContext } from '../types.js';
import { runningPods, workloadInContainerSchema } from '../pods.js';
import { apiError } from '../../kube/errors.js';

const schema = z
  .object({
    /** The token a workload's running pod holds (what a shell in that pod reads from its filesystem). */
    workload: workloadInContainerSchema.optional(),
    /** Or a ServiceAccount's token, found elsewhere (a leaked kubeconfig, a CI log): `namespace/name`. */
    serviceAccount: z
      .string()
      .regex(/^[^/]+\/[^/]+$/, 'namespace/name')
      .optional(),
    /** The name later steps use it by (default `token`). */
    as: z.string().default('token'),
  })
  .strict()
  .refine((p) => !!p.workload !== !!p.serviceAccount, { message: 'needs exactly one of `workload` or `serviceAccount`' });
type P = z.infer<typeof schema>;

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The projected ServiceAccount token a container has mounted, if any: its audience and lifetime. */
function mountedToken(pod: any, container?: string): { audience?: string; expirationSeconds?: number; path: string; secret?: string } | undefined {
  const c = (pod.spec?.containers ?? []).find((x: any) => !container || x.name === container);
  if (!c) return undefined;
  for (const m of c.volumeMounts ?? []) {
    const v = (pod.spec?.volumes ?? []).find((x: any) => x.name === m.name);
    const src = v?.projected?.sources?.find((s: any) => s.serviceAccountToken)?.serviceAccountToken;
    if (src) return { audience: src.audience, expirationSeconds: src.expirationSeconds, path: `${m.mountPath}/${src.path}` };
    // a token Secret mounted by hand where the client libraries look: the pod uses that Secret's token
    if (v?.secret && m.mountPath === SA_DIR) return { path: `${SA_DIR}/token`, secret: v.secret.secretName };
    const projected = v?.projected?.sources?.find((s: any) => s.secret)?.secret?.name;
    if (projected && m.mountPath === SA_DIR) return { path: `${SA_DIR}/token`, secret: projected };
  }
  return undefined;
}

async function mint(ctx: AttackContext, namespace: string, name: string, audience?: string, expirationSeconds?: number): Promise<string> {
  await ctx.cluster.guard.ensure();
  const r = await ctx.cluster.core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: audience ? [audience] : [], expirationSeconds: Math.max(600, Math.min(expirationSeconds ?? 600, 3600)) },
    },
  });
  return r.status!.token;
}

/** The token in a Secret a pod mounts, and whose it is (the API server's TokenReview). */
async function secretToken(ctx: AttackContext, namespace: string, name: string): Promise<{ token: string; subject: string } | undefined> {
  await ctx.cluster.guard.ensure();
  const s: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace } });
  const raw = s?.data?.token;
  if (!raw) return undefined;
  const tok = Buffer.from(raw, 'base64').toString('utf8').trim();
  const r = await ctx.cluster.kc
    .makeApiClient(AuthenticationV1Api)
    .createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: tok } } });
  return { token: tok, subject: r.status?.authenticated ? (r.status.user?.username ?? 'an unknown user') : 'no one (the API server does not accept it)' };
}

/**
 * Steal a ServiceAccount token. From a workload: what its running pod really holds — the pod's own
 * ServiceAccount, only if a token is mounted in the container (automountServiceAccountToken), with
 * the audience of that mount. The lab mints an equivalent token (TokenRequest): nothing is created.
 */
export const token: AttackStepKind<P> = {
  type: 'token',
  schema,
  async run(ctx, p) {
    let namespace: string;
    let sa: string;
    let audience: string | undefined;
    let expiration: number | undefined;
    let where: string;
    if (p.workload) {
      const w = p.workload;
      const pods = await runningPods(ctx, w);
      if (!pods.pods.length) return { succeeded: false, message: pods.why ?? `${w.kind} ${w.namespace}/${w.name} has no running pod to take a token from` };
      const pod = pods.pods[0];
      namespace = w.namespace;
      sa = pod.spec?.serviceAccountName ?? 'default';
      const mounted = mountedToken(pod, w.container);
      if (!mounted)
        return {
          succeeded: false,
          message: `pod ${pod.metadata.name} has no ServiceAccount token mounted (automountServiceAccountToken is off) — there is no token to steal`,
        };
      audience = mounted.audience;
      expiration = mounted.expirationSeconds;
      where = `read ${mounted.path} in pod ${pod.metadata.name}`;
      if (mounted.secret) {
        const held = await secretToken(ctx, namespace, mounted.secret);
        if (!held)
          return { succeeded: false, message: `pod ${pod.metadata.name} mounts Secret ${namespace}/${mounted.secret} at ${SA_DIR}, and it holds no token` };
        return {
          succeeded: true,
          message: `${where} (from Secret ${namespace}/${mounted.secret}): a token for ${held.subject}`,
          evidence: [{ label: 'token', value: held.token, secret: true }],
          vars: { [p.as]: held.token, [`${p.as}.subject`]: held.subject },
        };
      }
    } else {
      [namespace, sa] = p.serviceAccount!.split('/');
      where = `found a token of ServiceAccount ${namespace}/${sa}`;
    }
    const subject = `system:serviceaccount:${namespace}:${sa}`;
    let tok: string;
    try {
      tok = await mint(ctx, namespace, sa, audience, expiration);
    } catch (e) {
      if (apiError(e).code === 404) return { succeeded: false, message: `ServiceAccount ${namespace}/${sa} does not exist — no token to steal` };
      throw e;
    }
    return {
      succeeded: true,
      message: `${where}: a token for ${subject}${audience ? ` (audience ${audience})` : ''}`,
      evidence: [{ label: 'token', value: tok, secret: true }],
      vars: { [p.as]: tok, [`${p.as}.subject`]: subject },
    };
  },
};
