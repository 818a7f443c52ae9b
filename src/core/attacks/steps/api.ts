import { z } from 'zod';
import type { AttackStepKind, Evidence } from '../types.js';
import { apiRequest, statusReason, type Caller } from '../request.js';
import { select, evaluate, conditionSchema } from '../../checks/path.js';
import { ClusterUnreachableError, UserError } from '../../errors.js';

const showSchema = z
  .object({
    /** A path into the JSON answer (the lab's path language: `items[*].metadata.name`, `data["api-key"]`). */
    path: z.string(),
    label: z.string(),
    /** A credential: shown redacted. */
    secret: z.boolean().optional(),
    /** The value is base64 (a Secret's data): decoded before it is shown. */
    base64: z.boolean().optional(),
    /** Show how many values the path reaches, and the first few. */
    count: z.boolean().optional(),
  })
  .strict();

const schema = z
  .object({
    /**
     * Who sends it: a token an earlier step stole (its name), `anonymous`, a user (and groups) the lab
     * impersonates, or `{identityOf: <token>}` — the identity behind a stolen token, as a service that
     * trusts this cluster's tokens (a cloud's token exchange) sees it whatever the token's audience: the
     * lab impersonates that ServiceAccount, so the cluster decides for it.
     */
    as: z.union([z.string(), z.object({ user: z.string(), groups: z.array(z.string()).default([]) }).strict(), z.object({ identityOf: z.string() }).strict()]),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    path: z.string().startsWith('/'),
    body: z.record(z.string(), z.unknown()).optional(),
    /** With a stolen token: ask to act as this user (and groups), as `kubectl --as/--as-group` does. */
    impersonate: z
      .object({ user: z.string(), groups: z.array(z.string()).default([]) })
      .strict()
      .optional(),
    /** Writes are always sent as server-side dry runs: authorization and admission decide, nothing is stored. */
    dryRun: z.boolean().optional(),
    /**
     * What means the attacker got what they wanted: the statuses (default: any 2xx) and, when an answer
     * is allowed but need not hold the loot (a ConfigMap that may or may not carry a password, an access
     * review that may say no), conditions on the answer (the lab's path language, as in checks).
     */
    succeeds: z
      .object({
        status: z.array(z.number().int()).min(1).optional(),
        where: z.array(conditionSchema).min(1).optional(),
      })
      .strict()
      .optional(),
    show: z.array(showSchema).default([]),
    /** Keep the request's Audit-ID (the API server's answer header) as loot of this name: a later `auditTrail` step looks for it. */
    auditIdAs: z.string().optional(),
  })
  .strict()
  .refine((p) => p.method === 'GET' || p.dryRun === true, { message: 'a write must be a dry run (`dryRun: true`): attacks change nothing' })
  .refine((p) => !p.impersonate || (typeof p.as === 'string' && p.as !== 'anonymous'), {
    message: '`impersonate` needs a stolen token in `as` (the API server decides whether that token may impersonate)',
  });
type P = z.infer<typeof schema>;

/** The groups the API server gives a ServiceAccount's token (a user's are not known from the name: none). */
export function identityGroups(subject: string): string[] {
  const m = /^system:serviceaccount:([^:]+):[^:]+$/.exec(subject);
  return m ? ['system:serviceaccounts', `system:serviceaccounts:${m[1]}`, 'system:authenticated'] : ['system:authenticated'];
}

const short = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** A request to the API server as the attacker: with a stolen token, with no credentials, or as a user. */
export const api: AttackStepKind<P> = {
  type: 'api',
  schema,
  async run(ctx, p) {
    let caller: Caller;
    let who = '';
    if (typeof p.as !== 'string' && 'identityOf' in p.as) {
      const subject = ctx.vars.get(`${p.as.identityOf}.subject`);
      if (!subject) throw new UserError(`attack step uses the identity of token "${p.as.identityOf}", which no earlier step took`);
      caller = { user: subject, groups: identityGroups(subject) };
      who = ` as ${subject}`;
    } else if (typeof p.as !== 'string') caller = { user: p.as.user, groups: p.as.groups };
    else if (p.as === 'anonymous') caller = { anonymous: true };
    else {
      const t = ctx.vars.get(p.as);
      if (!t) throw new UserError(`attack step uses token "${p.as}", which no earlier step took`);
      caller = { token: t, impersonate: p.impersonate };
    }
    const path = p.dryRun ? `${p.path}${p.path.includes('?') ? '&' : '?'}dryRun=All` : p.path;
    const a = await apiRequest(ctx.cluster, caller, p.method, path, p.body);
    const ok = p.succeeds?.status ? p.succeeds.status.includes(a.status) : a.status >= 200 && a.status < 300;
    const as = p.impersonate ? ` as ${[p.impersonate.user, ...p.impersonate.groups].join(', ')}` : who;
    const line = `${p.method} ${p.path}${p.dryRun ? ' (dry run)' : ''}${as} → ${a.status}${a.statusText ? ` ${a.statusText}` : ''}`;
    // The server failing or too busy to answer is no defence: the attack says nothing then.
    if (!ok && (a.status >= 500 || a.status === 429)) {
      const why = `${line}: ${statusReason(a)}`;
      throw a.status >= 502 && a.status <= 504 ? new ClusterUnreachableError(why) : new UserError(`the API server could not answer: ${why}`);
    }
    if (!ok) return { succeeded: false, message: `${line}: ${statusReason(a)}` };
    const evidence: Evidence[] = [];
    let json: unknown;
    try {
      json = JSON.parse(a.body);
    } catch {
      json = undefined;
    }
    // Answered, but without what the attacker was after (the ConfigMap holds no password, the review says no).
    for (const c of p.succeeds?.where ?? []) {
      const why = json === undefined ? 'the answer is not JSON' : evaluate(json, c);
      if (why) return { succeeded: false, message: `${line}, but ${why}` };
    }
    for (const s of p.show) {
      const values =
        json === undefined ? [] : select(json, s.path).map((v) => (s.base64 && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : short(v)));
      if (s.count)
        evidence.push({
          label: s.label,
          value: `${values.length}${values.length ? ` (${values.slice(0, 5).join(', ')}${values.length > 5 ? ', …' : ''})` : ''}`,
        });
      else for (const v of values.slice(0, 3)) evidence.push({ label: s.label, value: v, secret: s.secret });
    }
    return { succeeded: true, message: line, evidence, vars: p.auditIdAs && a.auditID ? { [p.auditIdAs]: a.auditID } : undefined };
  },
};
