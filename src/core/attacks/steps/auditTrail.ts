import { z } from 'zod';
import type { AttackStepKind } from '../types.js';
import { controlPlaneOf, manifestFlags, toNodePath } from '../../engine/index.js';
import { waitForAuditEvents, type AuditEvent } from '../../checks/auditEvent.js';
import { UserError } from '../../errors.js';

const schema = z
  .object({
    /** The loot an earlier `api` step kept with `auditIdAs`: the Audit-ID of the request to cover up. */
    auditId: z.string(),
    /** What that request did, for the transcript ("reading Secret hr/payroll-db"). */
    what: z.string().min(1),
    /** How long the API server gets to write the event. */
    timeoutSeconds: z.number().positive().max(30).default(8),
  })
  .strict();
type P = z.infer<typeof schema>;

const who = (e: AuditEvent) =>
  [e.user?.username, e.impersonatedUser?.username ? `acting as ${e.impersonatedUser.username}` : undefined].filter(Boolean).join(' ') || 'someone';

/**
 * Did an earlier request of the attack leave a trace? Look for it, by the Audit-ID the API server
 * answered with, where the node keeps the audit log: the file kube-apiserver's `--audit-log-path`
 * names, through its static pod's hostPath volumes (as the auditEvent check finds it). The attacker
 * wins when no record of it is kept on the node: no audit policy, no log file, a log written only
 * inside the API server's container, or a policy that records the request at level None. What it
 * cannot see (events sent to a webhook, or to the API server's standard output) it does not judge.
 */
export const auditTrail: AttackStepKind<P> = {
  type: 'auditTrail',
  schema,
  controlPlane: true,
  timeoutMs: (p) => (p.timeoutSeconds + 12) * 1000,
  async run(ctx, p) {
    const id = ctx.vars.get(p.auditId);
    if (!id) throw new UserError(`attack step looks for the request "${p.auditId}", whose Audit-ID no earlier step kept (\`auditIdAs\` on an api step)`);
    const manifest = await controlPlaneOf(ctx.engine).readManifest('kube-apiserver');
    const flags = manifestFlags(manifest);
    const policy = flags.get('--audit-policy-file');
    const logPath = flags.get('--audit-log-path');
    const webhook = flags.get('--audit-webhook-config-file');
    const none = (why: string) => ({ succeeded: true, message: `no record of ${p.what} on the node: ${why}` });
    if (!policy) return none('kube-apiserver runs without an audit policy (--audit-policy-file), so it records no request at all');
    if (webhook)
      throw new UserError(`kube-apiserver also sends its audit events to a webhook (--audit-webhook-config-file=${webhook}), which this attack cannot read`);
    if (!logPath) return none('kube-apiserver has an audit policy but no --audit-log-path, so its events are written nowhere');
    if (logPath === '-')
      throw new UserError('kube-apiserver writes its audit events to its standard output (--audit-log-path=-), which this attack cannot read');
    const { nodePath } = toNodePath(manifest, logPath);
    if (!nodePath)
      return none(
        `--audit-log-path=${logPath} is in no hostPath volume of the kube-apiserver static pod: the log stays inside the API server's container, out of everyone's reach, and its next restart erases it`,
      );
    const where = nodePath === logPath ? logPath : `${logPath} (node path ${nodePath})`;
    const { events, sawFile } = await waitForAuditEvents((f) => controlPlaneOf(ctx.engine).readNodeFile(f), nodePath, id, p.timeoutSeconds);
    if (!sawFile) return none(`there is no audit log at ${where} on the control-plane node`);
    if (!events.length)
      return none(
        `the audit log ${where} holds no event for it after ${p.timeoutSeconds} s — the audit policy records it at level None, or no rule matches it`,
      );
    const e = events.find((x) => x.stage === 'ResponseComplete') ?? events[0];
    const body = e.responseObject !== undefined || e.requestObject !== undefined;
    return {
      succeeded: false,
      message: `${p.what} is in the audit log ${where}: ${who(e)}, ${e.verb ?? '?'} ${[e.objectRef?.resource, e.objectRef?.namespace, e.objectRef?.name].filter(Boolean).join(' ')}, level ${e.level ?? '?'}${body ? ' (with the request or response body: the log holds a copy of the data too)' : ''}`,
    };
  },
};
