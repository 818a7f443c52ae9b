import { request } from 'node:https';
import type { LabCluster } from '../kube/client.js';

export interface HttpAnswer {
  status: number;
  body: string;
  statusText: string;
  /** The request's Audit-ID, as the API server answered it (what its audit log files the request under). */
  auditID?: string;
}

/**
 * Who an API request comes from: a stolen bearer token (optionally asking to act as someone else, as
 * `kubectl --as` does — the API server decides whether the token may impersonate), nobody, or the
 * lab's admin acting as a user.
 */
export type Caller = { token: string; impersonate?: { user: string; groups: string[] } } | { anonymous: true } | { user: string; groups: string[] };

/**
 * One HTTPS request to the lab's API server, as an attacker would send it with curl: the server's
 * CA trusted, the caller's credentials and nothing else. Only the lab's own cluster (the guard).
 */
export async function apiRequest(
  cluster: LabCluster,
  caller: Caller,
  method: string,
  path: string,
  body?: unknown,
  opts: { timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  await cluster.guard.ensure();
  const c = cluster.kc.getCurrentCluster();
  if (!c) throw new Error('the lab kubeconfig has no cluster');
  const ca = c.caData ? Buffer.from(c.caData, 'base64').toString() : undefined;
  const headers: Record<string, string | string[]> = { Accept: 'application/json' };
  let cert: string | undefined;
  let key: string | undefined;
  if ('token' in caller) {
    headers.Authorization = `Bearer ${caller.token}`;
    if (caller.impersonate) {
      headers['Impersonate-User'] = caller.impersonate.user;
      if (caller.impersonate.groups.length) headers['Impersonate-Group'] = caller.impersonate.groups;
    }
  }
  if ('user' in caller) {
    // The lab's own (admin) credentials, impersonating: what the API server decides for that user.
    const u = cluster.kc.getCurrentUser();
    if (u?.token) headers.Authorization = `Bearer ${u.token}`;
    cert = u?.certData ? Buffer.from(u.certData, 'base64').toString() : undefined;
    key = u?.keyData ? Buffer.from(u.keyData, 'base64').toString() : undefined;
    headers['Impersonate-User'] = caller.user;
    if (caller.groups.length) headers['Impersonate-Group'] = caller.groups;
  }
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload) headers['Content-Type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, c.server),
      { method, ca, cert, key, rejectUnauthorized: !!ca, headers, timeout: opts.timeoutMs ?? 10_000, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => {
          const id = res.headers['audit-id'];
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
            auditID: typeof id === 'string' ? id : undefined,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${(opts.timeoutMs ?? 10_000) / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** The reason a Kubernetes Status body gives ("secrets is forbidden: User … cannot list …"), shortened. */
export function statusReason(a: HttpAnswer): string {
  try {
    const s = JSON.parse(a.body);
    if (s?.kind === 'Status' && s.message) return String(s.message).slice(0, 240);
  } catch {
    /* not JSON */
  }
  return a.statusText || a.body.slice(0, 120);
}
