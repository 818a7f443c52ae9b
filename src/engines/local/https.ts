import { request } from 'node:https';

export interface TlsIdentity { ca?: string; cert?: string; key?: string }
export interface HttpResult { status: number; body: string }

/** A small HTTPS GET/POST over loopback with optional client certificate (health probes, etcd's gateway). */
export function httpsRequest(url: string, tls: TlsIdentity, opts: { method?: string; body?: string; timeoutMs?: number } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: opts.method ?? 'GET',
      ca: tls.ca, cert: tls.cert, key: tls.key,
      rejectUnauthorized: !!tls.ca,
      timeout: opts.timeoutMs ?? 2000,
      headers: opts.body ? { 'content-type': 'application/json' } : undefined,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${opts.timeoutMs ?? 2000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
