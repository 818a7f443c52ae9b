import { z } from 'zod';
import type { CheckPrimitive } from './types.js';

const ref = z.object({ namespace: z.string(), secret: z.string(), key: z.string() }).strict();

const schema = z
  .object({
    /** What it is, for messages: "the database password". */
    name: z.string(),
    /** The value that leaked (the scenario planted it in plain sight). */
    leaked: z.string().min(1),
    /** Where the backing service keeps the one value it accepts (the lab's stand-in for the database's user table). */
    accepted: ref,
    /** Where the app gets the value it logs in with. */
    given: ref,
    /** The new value's minimum length (default 16). */
    minLength: z.number().int().min(1).default(16),
  })
  .strict();
type P = z.infer<typeof schema>;

const show = (r: P['given']) => `Secret ${r.namespace}/${r.secret} key ${r.key}`;

/**
 * A leaked credential is rotated: the backing service now accepts only a new value — not the leaked
 * one, nor one that contains it or is contained in it, and long enough — and the app is given
 * exactly that value, so it still logs in while the leaked one is refused.
 */
export const credentialRotated: CheckPrimitive<P> = {
  type: 'credentialRotated',
  schema,
  watches: (p) => [
    { apiVersion: 'v1', kind: 'Secret', namespace: p.accepted.namespace },
    { apiVersion: 'v1', kind: 'Secret', namespace: p.given.namespace },
  ],
  scope: (p) => ({ namespaces: [...new Set([p.accepted.namespace, p.given.namespace])] }),
  async run(ctx, p) {
    const read = async (r: P['given']) => {
      const s: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: r.secret, namespace: r.namespace } });
      return s?.data?.[r.key] !== undefined ? Buffer.from(s.data[r.key], 'base64').toString('utf8') : undefined;
    };
    const [accepted, given] = await Promise.all([read(p.accepted), read(p.given)]);
    if (accepted === undefined || accepted === '')
      return { passed: false, message: `the backing service accepts no ${p.name} (${show(p.accepted)} is missing) — nothing could log in` };
    const a = accepted.trim();
    if (a === p.leaked || a.includes(p.leaked) || p.leaked.includes(a)) {
      return {
        passed: false,
        message: `the backing service still accepts the leaked ${p.name} (${show(p.accepted)}${a === p.leaked ? '' : ' is built from it'}) — anyone who copied it can still log in: rotate it to a new random value`,
      };
    }
    if (a.length < p.minLength)
      return {
        passed: false,
        message: `the new ${p.name} in ${show(p.accepted)} has ${a.length} characters — use a random value of at least ${p.minLength} (e.g. \`openssl rand -base64 24\`)`,
      };
    if (given === undefined) return { passed: false, message: `the app is given no ${p.name} (${show(p.given)} is missing) — it can no longer log in` };
    if (given.trim() !== a)
      return {
        passed: false,
        message: `the app's ${p.name} (${show(p.given)}) is not the one the backing service now accepts (${show(p.accepted)}) — it could no longer log in`,
      };
    return {
      passed: true,
      message: `the ${p.name} was rotated: the backing service accepts only a new value (${a.length} characters, not the leaked one), and the app is given exactly that`,
    };
  },
};
