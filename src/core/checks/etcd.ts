import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import type { CheckPrimitive } from './types.js';
import { MARKER_NAMESPACE } from '../guard/guard.js';
import { controlPlaneOf } from '../engine/index.js';

const schema = z
  .object({
    resource: z.string().default('secrets'),
    namespace: z.string(),
    /** An existing object whose stored bytes must be encrypted. */
    name: z.string().optional(),
    /** Also (or only) write a fresh Secret and look at how it lands in etcd. */
    fresh: z.boolean().optional(),
    /** Providers that count (default: any real one — aescbc, aesgcm, secretbox, kms). */
    providers: z.array(z.string()).optional(),
  })
  .strict()
  .refine((p) => p.name || p.fresh, { message: 'needs `name` or `fresh: true`' });
type P = z.infer<typeof schema>;

const PREFIX = 'k8s:enc:';

function verdict(raw: Buffer | undefined, what: string, providers?: string[]): { passed: boolean; message: string } {
  if (!raw) return { passed: false, message: `${what} is not in etcd` };
  const head = raw.subarray(0, 64).toString('latin1');
  if (!head.startsWith(PREFIX)) {
    const plain = head.startsWith('k8s\0') ? 'protobuf in plaintext' : 'plaintext';
    return { passed: false, message: `${what} is stored in etcd as ${plain} (no ${PREFIX} prefix)` };
  }
  const provider = head.slice(PREFIX.length).split(':')[0];
  if (provider === 'identity') return { passed: false, message: `${what} is stored with the identity provider (not encrypted)` };
  if (providers && !providers.includes(provider))
    return { passed: false, message: `${what} is encrypted with ${provider}, expected ${providers.join(' or ')}` };
  const key = head.slice(PREFIX.length).split(':')[2] ?? '';
  return { passed: true, message: `${what} is encrypted in etcd (${provider}${key ? `, key ${key}` : ''})` };
}

/** Encryption at rest, proved on the raw bytes etcd holds (read through the engine, not the API). */
export const etcdEncrypted: CheckPrimitive<P> = {
  type: 'etcdEncrypted',
  schema,
  controlPlane: true,
  watches: (p) => [{ apiVersion: 'v1', kind: 'Secret', namespace: p.namespace }],
  async run(ctx, p) {
    if (p.name) {
      const raw = await controlPlaneOf(ctx.engine).etcdGet(`/registry/${p.resource}/${p.namespace}/${p.name}`);
      const v = verdict(raw, `Secret ${p.namespace}/${p.name}`, p.providers);
      if (!v.passed) return raw ? v : { passed: false, message: `Secret ${p.namespace}/${p.name} not found in etcd — deleting it is not a fix` };
      if (!p.fresh) return v;
    }
    // The probe goes to the lab's own namespace: encryption is configured per resource, not per
    // namespace, and a probe in the lesson's namespace would wake watch mode up again and again.
    const name = `kube-seclab-probe-${randomBytes(3).toString('hex')}`;
    const ns = MARKER_NAMESPACE;
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'kube-seclab' } },
      stringData: { probe: 'kube-seclab' },
    };
    await ctx.cluster.create(secret);
    try {
      const raw = await controlPlaneOf(ctx.engine).etcdGet(`/registry/secrets/${ns}/${name}`);
      const v = verdict(raw, 'a new Secret', p.providers);
      return p.name && v.passed ? { passed: true, message: `Secret ${p.namespace}/${p.name} and new Secrets are encrypted in etcd` } : v;
    } finally {
      await ctx.cluster.delete(secret).catch(() => {});
    }
  },
};
