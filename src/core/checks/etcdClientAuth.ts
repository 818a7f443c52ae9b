import { z } from 'zod';
import { request } from 'node:https';
import type { CheckPrimitive } from './types.js';
import { ClusterUnreachableError, UserError } from '../errors.js';
import { controlPlaneOf } from '../engine/index.js';

const schema = z
  .object({
    /** What a client that trusts etcd's CA but shows no client certificate must get. */
    expect: z.enum(['refused', 'answered']).default('refused'),
    /** Node paths of etcd's CA and of a client certificate etcd trusts (the kubeadm layout by default). */
    caFile: z.string().startsWith('/').default('/etc/kubernetes/pki/etcd/ca.crt'),
    clientCertFile: z.string().startsWith('/').default('/etc/kubernetes/pki/etcd/healthcheck-client.crt'),
    clientKeyFile: z.string().startsWith('/').default('/etc/kubernetes/pki/etcd/healthcheck-client.key'),
  })
  .strict();
type P = z.infer<typeof schema>;

type Attempt =
  | { kind: 'answered'; status: number; body: string }
  | { kind: 'refused'; why: string }
  | { kind: 'no-tls'; why: string }
  | { kind: 'unreachable'; why: string };

/** TLS errors that mean "the server wants a client certificate you did not show". */
const CERT_REQUIRED = /CERTIFICATE_REQUIRED|BAD_CERTIFICATE|HANDSHAKE_FAILURE|certificate required|bad certificate|handshake failure/i;
const NOT_TLS = /WRONG_VERSION_NUMBER|wrong version number|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST/i;

function attempt(url: string, tls: { ca: string; cert?: string; key?: string }): Promise<Attempt> {
  return new Promise((resolve) => {
    const req = request(url, { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: true, timeout: 3000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ kind: 'answered', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 200) }));
      res.on('error', (e) => resolve(classify(e)));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out after 3 s'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => resolve(classify(e)));
    req.end();
  });
}

function classify(e: Error & { code?: string }): Attempt {
  const text = `${e.code ?? ''} ${e.message}`;
  if (CERT_REQUIRED.test(text)) {
    const alert = /(?:tlsv13|sslv3|tlsv1) alert ([a-z ]+)/i.exec(e.message)?.[1];
    return { kind: 'refused', why: alert ? `TLS alert: ${alert}` : e.message };
  }
  if (NOT_TLS.test(text)) return { kind: 'no-tls', why: e.message };
  // With TLS 1.3 the client finishes its side of the handshake before the server judges its
  // (missing) certificate, so a refusal can also surface as the connection being reset.
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return { kind: 'refused', why: 'the connection was closed during the TLS handshake' };
  return { kind: 'unreachable', why: `${e.code ? `${e.code}: ` : ''}${e.message}` };
}

/**
 * Whether etcd insists on client certificates: connect to its client URL trusting its CA but with
 * no client certificate, and see whether it answers GET /version. A second connection, with a
 * client certificate etcd trusts, proves etcd is up — so "refused" really means "refused".
 */
export const etcdClientAuth: CheckPrimitive<P> = {
  type: 'etcdClientAuth',
  schema,
  controlPlane: true,
  async run(ctx, p) {
    const url = (await ctx.engine.status()).endpoints.etcd;
    if (!url) throw new UserError(`the ${ctx.engine.name} engine does not expose etcd's client URL, so this check cannot connect to it`);
    const ca = await controlPlaneOf(ctx.engine).readNodeFile(p.caFile);
    if (!ca) throw new UserError(`etcd's CA ${p.caFile} is not on the control-plane node`);
    const target = new URL('/version', url).toString();

    const anon = await attempt(target, { ca });
    if (anon.kind === 'unreachable') throw new ClusterUnreachableError(`etcd at ${url}: ${anon.why}`);
    if (anon.kind === 'no-tls') {
      return {
        passed: false,
        message: `etcd at ${url} does not speak TLS (${anon.why}) — anyone who reaches the port reads and writes the whole cluster state in the clear`,
      };
    }
    if (anon.kind === 'answered') {
      const ok = p.expect === 'answered';
      return {
        passed: ok,
        message: ok
          ? `etcd at ${url} answers a client without a certificate (HTTP ${anon.status})`
          : `etcd at ${url} answered GET /version (HTTP ${anon.status}) for a client with no certificate — anyone who reaches the port can read and write every key (--client-cert-auth and --trusted-ca-file are what make etcd ask for one)`,
      };
    }
    // Refused: make sure etcd is up and answers a client that does show a trusted certificate.
    const [cert, key] = await Promise.all([
      controlPlaneOf(ctx.engine).readNodeFile(p.clientCertFile),
      controlPlaneOf(ctx.engine).readNodeFile(p.clientKeyFile),
    ]);
    if (cert && key) {
      const withCert = await attempt(target, { ca, cert, key });
      if (withCert.kind !== 'answered')
        throw new ClusterUnreachableError(
          `etcd at ${url} refuses even a trusted client certificate (${withCert.why}) — is etcd running? \`kube-seclab status\` shows it`,
        );
    }
    const ok = p.expect === 'refused';
    return {
      passed: ok,
      message: ok
        ? `etcd at ${url} refuses a client without a certificate (${anon.why}) and answers one with a trusted certificate`
        : `etcd at ${url} refuses a client without a certificate (${anon.why})`,
    };
  },
};
