import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const TEN_YEARS = 10 * 365 * 24 * 3600 * 1000;

export interface KeyPairPem {
  cert: string;
  key: string;
}
interface CA {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function toPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function newCA(cn: string): Promise<CA> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${cn}`,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + TEN_YEARS),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

interface LeafSpec {
  cn: string;
  org?: string[];
  server?: boolean;
  client?: boolean;
  dns?: string[];
  ips?: string[];
}

async function leaf(ca: CA, spec: LeafSpec): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const usages: string[] = [];
  if (spec.server) usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (spec.client) usages.push(x509.ExtendedKeyUsage.clientAuth);
  const san = [...(spec.dns ?? []).map((v) => ({ type: 'dns' as const, value: v })), ...(spec.ips ?? []).map((v) => ({ type: 'ip' as const, value: v }))];
  const name = [`CN=${spec.cn}`, ...(spec.org ?? []).map((o) => `O=${o}`)].join(', ');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: name,
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + TEN_YEARS),
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(usages, false),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ...(san.length ? [new x509.SubjectAlternativeNameExtension(san, false)] : []),
    ],
  });
  return { cert: cert.toString('pem'), key: await toPem(keys.privateKey) };
}

/** Every certificate and key of a kubeadm-style control plane, as PEM, keyed by kubeadm's file names. */
export interface ClusterPki {
  files: Record<string, string>; // path relative to /etc/kubernetes/pki → PEM
  admin: KeyPairPem;
  controllerManager: KeyPairPem;
  scheduler: KeyPairPem;
  kwok: KeyPairPem;
  caCert: string;
}

/**
 * The same layout kubeadm writes under /etc/kubernetes/pki: a cluster CA, a separate etcd CA,
 * serving certs for 127.0.0.1/localhost, client certs for the API server → etcd and → kubelet,
 * the service-account key pair, and client certs for the admin and the controllers.
 */
export async function generatePki(): Promise<ClusterPki> {
  const ca = await newCA('kubernetes');
  const etcdCa = await newCA('etcd-ca');
  const hosts = {
    dns: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ips: ['127.0.0.1', '10.96.0.1'],
  };
  const [apiserver, apiserverEtcd, apiserverKubelet, etcdServer, etcdPeer, etcdHealth, admin, kcm, sched, kwok] = await Promise.all([
    leaf(ca, { cn: 'kube-apiserver', server: true, ...hosts }),
    leaf(etcdCa, { cn: 'kube-apiserver-etcd-client', client: true }),
    leaf(ca, { cn: 'kube-apiserver-kubelet-client', org: ['kubeadm:cluster-admins'], client: true }),
    leaf(etcdCa, { cn: 'kube-seclab-control-plane', server: true, client: true, dns: ['localhost'], ips: ['127.0.0.1'] }),
    leaf(etcdCa, { cn: 'kube-seclab-control-plane', server: true, client: true, dns: ['localhost'], ips: ['127.0.0.1'] }),
    leaf(etcdCa, { cn: 'kube-etcd-healthcheck-client', client: true }),
    leaf(ca, { cn: 'kubernetes-admin', org: ['system:masters'], client: true }),
    leaf(ca, { cn: 'system:kube-controller-manager', client: true }),
    leaf(ca, { cn: 'system:kube-scheduler', client: true }),
    leaf(ca, { cn: 'kwok-controller', org: ['system:masters'], client: true }),
  ]);
  const sa = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const saPub = x509.PemConverter.encode(await webcrypto.subtle.exportKey('spki', sa.publicKey), 'PUBLIC KEY');
  const caCert = ca.cert.toString('pem');
  return {
    caCert,
    admin,
    controllerManager: kcm,
    scheduler: sched,
    kwok,
    files: {
      'ca.crt': caCert,
      'ca.key': await toPem(ca.keys.privateKey),
      'apiserver.crt': apiserver.cert,
      'apiserver.key': apiserver.key,
      'apiserver-etcd-client.crt': apiserverEtcd.cert,
      'apiserver-etcd-client.key': apiserverEtcd.key,
      'apiserver-kubelet-client.crt': apiserverKubelet.cert,
      'apiserver-kubelet-client.key': apiserverKubelet.key,
      'sa.key': await toPem(sa.privateKey),
      'sa.pub': saPub,
      'etcd/ca.crt': etcdCa.cert.toString('pem'),
      'etcd/ca.key': await toPem(etcdCa.keys.privateKey),
      'etcd/server.crt': etcdServer.cert,
      'etcd/server.key': etcdServer.key,
      'etcd/peer.crt': etcdPeer.cert,
      'etcd/peer.key': etcdPeer.key,
      'etcd/healthcheck-client.crt': etcdHealth.cert,
      'etcd/healthcheck-client.key': etcdHealth.key,
    },
  };
}

export async function writePki(pkiDir: string, pki: ClusterPki): Promise<void> {
  for (const [rel, pem] of Object.entries(pki.files)) {
    const p = join(pkiDir, rel);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, pem, { mode: rel.endsWith('.key') ? 0o600 : 0o644 });
  }
}
