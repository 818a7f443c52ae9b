import { z } from 'zod';
import type { CheckPrimitive } from './types.js';
import { controlPlaneOf, manifestFlags, toNodePath } from '../engine/index.js';
import { isNotFound } from '../kube/errors.js';
import { sleep } from '../fsutil.js';

const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;

const schema = z
  .object({
    /** The Secret the check reads (as the lab's admin) and then looks for in the audit log. */
    namespace: z.string(),
    name: z.string(),
    /** The levels the event may be logged at (Metadata: who read which Secret when — never its data). */
    levels: z.array(z.enum(LEVELS)).min(1),
    /** How long to wait for the event to reach the log. */
    timeoutSeconds: z.number().positive().default(8),
  })
  .strict();
type P = z.infer<typeof schema>;

export interface AuditEvent {
  auditID?: string;
  level?: string;
  stage?: string;
  verb?: string;
  user?: { username?: string };
  impersonatedUser?: { username?: string };
  objectRef?: { resource?: string; namespace?: string; name?: string };
  requestObject?: unknown;
  responseObject?: unknown;
}

/** Audit events with this id, from a JSON-lines audit log (only the lines that mention it are parsed). */
export function eventsFor(log: string, auditID: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  let at = log.indexOf(auditID);
  while (at >= 0) {
    const start = log.lastIndexOf('\n', at) + 1;
    const endNl = log.indexOf('\n', at);
    const end = endNl < 0 ? log.length : endNl;
    try {
      const e = JSON.parse(log.slice(start, end)) as AuditEvent;
      if (e.auditID === auditID) out.push(e);
    } catch {
      /* a line still being written */
    }
    at = log.indexOf(auditID, end);
  }
  return out;
}

function whyWrong(level: string, want: readonly string[]): string {
  if (level === 'RequestResponse')
    return "so the Secret's data is copied into the audit log in plain text (responseObject): whoever reads the log, its backups or the log shipper now has the password";
  if (level === 'Request') return 'a read carries no body, but at this level every create or update of a Secret writes its data into the log';
  return `expected ${want.join(' or ')}`;
}

/**
 * Read the audit log at `nodePath` until it records the request `auditID` completed (the API server
 * writes its events a moment after answering), or `timeoutSeconds` pass: that request's events, and
 * whether there was a log file at all.
 */
export async function waitForAuditEvents(
  readNodeFile: (path: string) => Promise<string | undefined>,
  nodePath: string,
  auditID: string,
  timeoutSeconds: number,
): Promise<{ events: AuditEvent[]; sawFile: boolean }> {
  const end = Date.now() + timeoutSeconds * 1000;
  let events: AuditEvent[] = [];
  let sawFile = false;
  for (;;) {
    const log = await readNodeFile(nodePath);
    if (log !== undefined) {
      sawFile = true;
      events = eventsFor(log, auditID);
      if (events.some((e) => e.stage === 'ResponseComplete')) break;
    }
    if (Date.now() > end) break;
    await sleep(300);
  }
  return { events, sawFile };
}

/**
 * Auditing proved on the real log: read a Secret as the lab, then find that very request (by the
 * Audit-ID the API server answered with) in the file `--audit-log-path` names, on the
 * control-plane node, and check the level it was recorded at.
 */
export const auditEvent: CheckPrimitive<P> = {
  type: 'auditEvent',
  schema,
  controlPlane: true,
  async run(ctx, p) {
    const what = `Secret ${p.namespace}/${p.name}`;
    const manifest = await controlPlaneOf(ctx.engine).readManifest('kube-apiserver');
    const flags = manifestFlags(manifest);
    const policy = flags.get('--audit-policy-file');
    const logPath = flags.get('--audit-log-path');
    if (!policy) return { passed: false, message: `kube-apiserver has no --audit-policy-file, so it records nothing — reading ${what} leaves no trace` };
    if (!logPath)
      return {
        passed: false,
        message: `kube-apiserver has --audit-policy-file but no --audit-log-path, so its audit events go nowhere — reading ${what} leaves no trace`,
      };
    if (logPath === '-')
      return {
        passed: false,
        message:
          'kube-apiserver writes its audit log to its own standard output (--audit-log-path=-), not to a file on the node — give it a file in a mounted folder, e.g. /var/log/kubernetes/audit/audit.log',
      };
    const { nodePath, mount } = toNodePath(manifest, logPath);
    if (!nodePath || !mount) {
      return {
        passed: false,
        message: `--audit-log-path=${logPath} is not inside any hostPath volume mounted into the kube-apiserver static pod: the log is written inside the container, never reaches the node and is lost with every restart — mount its folder (volumes + volumeMounts)`,
      };
    }
    if (mount.readOnly)
      return {
        passed: false,
        message: `the volume holding --audit-log-path=${logPath} (mountPath ${mount.mountPath}) is mounted readOnly — the API server cannot write its audit log there`,
      };

    let auditID: string | undefined;
    try {
      const res = await ctx.cluster.core.readNamespacedSecretWithHttpInfo({ name: p.name, namespace: p.namespace });
      auditID = res.headers['audit-id'];
    } catch (e) {
      if (isNotFound(e)) return { passed: false, message: `${what} not found — deleting it is not a fix: the audit log is there to show who reads it` };
      throw e;
    }
    if (!auditID) return { passed: false, message: `the API server sent no Audit-ID header when ${what} was read, so its audit event cannot be found` };

    const { events, sawFile } = await waitForAuditEvents((f) => controlPlaneOf(ctx.engine).readNodeFile(f), nodePath, auditID, p.timeoutSeconds);
    const where = nodePath === logPath ? logPath : `${logPath} (node path ${nodePath})`;
    if (!sawFile)
      return { passed: false, message: `there is no audit log at ${where} on the control-plane node — is the API server running from this manifest?` };
    if (events.length === 0) {
      return {
        passed: false,
        message: `reading ${what} left no event in the audit log ${where} within ${p.timeoutSeconds}s — the audit policy records it at level None (or no rule matches it); log Secrets at ${p.levels.join(' or ')}`,
      };
    }
    const e = events.find((x) => x.stage === 'ResponseComplete') ?? events[0];
    const level = e.level ?? 'unknown';
    const who = e.user?.username ? ` by ${e.user.username}` : '';
    if (!p.levels.includes(level as (typeof LEVELS)[number])) {
      return { passed: false, message: `reading ${what}${who} is logged at level ${level}, ${whyWrong(level, p.levels)}` };
    }
    const leaked = e.responseObject !== undefined || e.requestObject !== undefined;
    if (leaked)
      return {
        passed: false,
        message: `reading ${what} is logged at level ${level}, but the event carries the request or response body — the Secret's data does not belong in the log`,
      };
    return { passed: true, message: `reading ${what}${who} is recorded in ${where} at level ${level} — who, what and when, without the Secret's data` };
  },
};
