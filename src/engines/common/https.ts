import { request } from 'node:https';

export interface TlsIdentity {
  ca?: string;
  cert?: string;
  key?: string;
}
export interface HttpResult {
  status: number;
  body: string;
}

/** The API server's /readyz?verbose: ready, or what is not ("readyz HTTP 500 (etcd)", a connection error). */
export async function readyz(server: string, tls: TlsIdentity, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  try {
    const res = await httpsRequest(`${server}/readyz?verbose`, tls, { timeoutMs });
    const failing = res.body
      .split('\n')
      .filter((l) => l.startsWith('[-]'))
      .map((l) => l.slice(3).split(' ')[0]);
    return { ok: res.status === 200, detail: res.status === 200 ? 'ok' : `readyz HTTP ${res.status}${failing.length ? ` (${failing.join(', ')})` : ''}` };
  } catch (e) {
    return { ok: false, detail: (e as Error).message };
  }
}

/** A small HTTPS GET/POST over loopback with optional client certificate (health probes, etcd's gateway). */
export function httpsRequest(url: string, tls: TlsIdentity, opts: { method?: string; body?: string; timeoutMs?: number } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        rejectUnauthorized: !!tls.ca,
        timeout: opts.timeoutMs ?? 2000,
        headers: opts.body ? { 'content-type': 'application/json' } : undefined,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${opts.timeoutMs ?? 2000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
