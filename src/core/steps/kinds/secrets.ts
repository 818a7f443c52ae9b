import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyObjects } from '../../scenarios/objects.js';
import { UserError } from '../../errors.js';
import { sleep } from '../../fsutil.js';
import type { StepKind } from '../types.js';
import { shellQuote } from '../../shell.js';

/** Shell lines that set key `t.key` of Secret `t` to the value in shell variable NEW (creating the Secret when missing, keeping its other keys). */
function setKeyFromNew(t: SecretKey): string {
  const n = `-n ${shellQuote(t.namespace)}`;
  const name = shellQuote(t.name);
  return (
    `{ kubectl ${n} get secret ${name} >/dev/null 2>&1 || kubectl ${n} create secret generic ${name}; } && ` +
    `kubectl ${n} patch secret ${name} -p "{\\"stringData\\":{\\"${t.key}\\":\\"$NEW\\"}}"`
  );
}

const secretKey = z.object({ namespace: z.string(), name: z.string(), key: z.string() }).strict();
type SecretKey = z.infer<typeof secretKey>;

/**
 * A new random credential (what `openssl rand -base64 24` gives a person), written to every
 * target Secret key — a rotation done without any password in the lesson's files. The Secrets are
 * created when missing, their other keys kept.
 */
export const generateSecret: StepKind<{ bytes: number; targets: SecretKey[] }> = {
  type: 'generateSecret',
  schema: z.object({ bytes: z.number().int().min(12).max(64).default(24), targets: z.array(secretKey).min(1) }).strict(),
  async run(ctx, p) {
    const value = randomBytes(p.bytes).toString('base64');
    for (const t of p.targets) {
      const cur = await ctx.cluster.read<KubernetesObject & { data?: Record<string, string> }>({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: t.name, namespace: t.namespace },
      });
      const data = { ...(cur?.data ?? {}), [t.key]: Buffer.from(value).toString('base64') };
      if (cur) await ctx.cluster.replace({ ...cur, data } as KubernetesObject);
      else
        await applyObjects(
          ctx,
          [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: t.name, namespace: t.namespace }, type: 'Opaque', data } as KubernetesObject],
          ctx.lessonId,
        );
    }
  },
  scope: (p) => ({ namespaces: p.targets.map((t) => t.namespace) }),
  byHand: (p) => ({ run: [`NEW=$(openssl rand -base64 ${p.bytes})`, ...p.targets.map(setKeyFromNew)].join(' && ') }),
};

/** Move (or copy, `keep: true`) a Secret to another namespace, its data and type as they are — what `kubectl get -o json | … | kubectl apply` does. */
export const moveSecret: StepKind<{ from: { namespace: string; name: string }; to: { namespace: string }; keep: boolean }> = {
  type: 'moveSecret',
  schema: z
    .object({
      from: z.object({ namespace: z.string(), name: z.string() }).strict(),
      to: z.object({ namespace: z.string() }).strict(),
      keep: z.boolean().default(false),
    })
    .strict(),
  async run(ctx, { from, to, keep }) {
    const cur = await ctx.cluster.read<KubernetesObject & { data?: Record<string, string>; type?: string }>({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: from.name, namespace: from.namespace },
    });
    if (!cur) throw new UserError(`Secret ${from.namespace}/${from.name} is not there to move`);
    await applyObjects(
      ctx,
      [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: from.name, namespace: to.namespace }, type: cur.type, data: cur.data } as KubernetesObject],
      ctx.lessonId,
    );
    if (!keep) await ctx.cluster.delete({ apiVersion: 'v1', kind: 'Secret', metadata: { name: from.name, namespace: from.namespace } });
  },
  scope: (p) => ({ namespaces: [p.from.namespace, p.to.namespace] }),
  byHand: ({ from, to, keep }) => {
    const get = `kubectl -n ${shellQuote(from.namespace)} get secret ${shellQuote(from.name)} -o jsonpath=`;
    const obj = `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"${from.name}","namespace":"${to.namespace}"},"type":"%s","data":%s}`;
    return {
      run:
        `TYPE=$(${get}'{.type}') && DATA=$(${get}'{.data}') && printf ${shellQuote(obj)} "$TYPE" "$DATA" | kubectl apply -f -` +
        (keep ? '' : ` && kubectl -n ${shellQuote(from.namespace)} delete secret ${shellQuote(from.name)}`),
    };
  },
};

/**
 * A new random credential written into Secrets (each `into` key gets the same value), what
 * `NEW=$(openssl rand -hex N)` and `kubectl patch secret` do: a fix that rotates a leaked value
 * without carrying the new one in its files. `prefix` + `bytes` random bytes in hex.
 */
export const rotateSecret: StepKind<{ bytes: number; prefix: string; into: SecretKey[] }> = {
  type: 'rotateSecret',
  schema: z.object({ bytes: z.number().int().min(8).max(64).default(16), prefix: z.string().default(''), into: z.array(secretKey).min(1) }).strict(),
  async run(ctx, p) {
    const value = p.prefix + randomBytes(p.bytes).toString('hex');
    for (const t of p.into) {
      const cur = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: t.name, namespace: t.namespace } });
      if (cur)
        await ctx.cluster.mergePatch({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: t.name, namespace: t.namespace },
          data: { [t.key]: Buffer.from(value).toString('base64') },
        } as KubernetesObject);
      else
        await applyObjects(
          ctx,
          [
            {
              apiVersion: 'v1',
              kind: 'Secret',
              metadata: { name: t.name, namespace: t.namespace },
              type: 'Opaque',
              data: { [t.key]: Buffer.from(value).toString('base64') },
            } as KubernetesObject,
          ],
          ctx.lessonId,
        );
    }
    // The API keeps times in whole seconds: what is restarted next starts in a later second than the change.
    await sleep(1000 - (Date.now() % 1000) + 20);
  },
  scope: (p) => ({ objects: p.into.map((t) => ({ kind: 'Secret', metadata: { name: t.name, namespace: t.namespace } })) }),
  byHand: (p) => ({ run: [`NEW=${shellQuote(p.prefix)}$(openssl rand -hex ${p.bytes})`, ...p.into.map(setKeyFromNew)].join(' && ') }),
};
