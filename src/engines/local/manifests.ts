import { parse, stringify } from 'yaml';
import { join, posix } from 'node:path';
import type { Component } from '../../core/engine/index.js';

export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
}

interface Volume {
  name: string;
  hostPath: string;
  mountPath: string;
  readOnly?: boolean;
  type?: string;
}

function staticPod(name: string, command: string[], volumes: Volume[], probe: { path: string; port: number }) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'kube-system', labels: { component: name, tier: 'control-plane' } },
    spec: {
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      containers: [
        {
          name,
          image: `registry.k8s.io/${name}`,
          command,
          livenessProbe: { httpGet: { host: '127.0.0.1', path: probe.path, port: probe.port, scheme: 'HTTPS' }, failureThreshold: 8, periodSeconds: 10 },
          volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: v.mountPath, ...(v.readOnly ? { readOnly: true } : {}) })),
        },
      ],
      volumes: volumes.map((v) => ({ name: v.name, hostPath: { path: v.hostPath, type: v.type ?? 'DirectoryOrCreate' } })),
    },
  };
}

const pkiVol: Volume = { name: 'k8s-certs', hostPath: '/etc/kubernetes/pki', mountPath: '/etc/kubernetes/pki', readOnly: true };

/** kubeadm-shaped manifests (the same flags and volumes as on a kind control-plane node), bound to 127.0.0.1. */
export function defaultManifests(p: Ports): Record<Component, string> {
  const etcd = staticPod(
    'etcd',
    [
      'etcd',
      '--name=kube-seclab-control-plane',
      '--data-dir=/var/lib/etcd',
      `--advertise-client-urls=https://127.0.0.1:${p.etcdClient}`,
      `--listen-client-urls=https://127.0.0.1:${p.etcdClient}`,
      `--initial-advertise-peer-urls=https://127.0.0.1:${p.etcdPeer}`,
      `--listen-peer-urls=https://127.0.0.1:${p.etcdPeer}`,
      `--initial-cluster=kube-seclab-control-plane=https://127.0.0.1:${p.etcdPeer}`,
      '--listen-metrics-urls=',
      '--cert-file=/etc/kubernetes/pki/etcd/server.crt',
      '--key-file=/etc/kubernetes/pki/etcd/server.key',
      '--client-cert-auth=true',
      '--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt',
      '--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt',
      '--peer-key-file=/etc/kubernetes/pki/etcd/peer.key',
      '--peer-client-cert-auth=true',
      '--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt',
      '--snapshot-count=10000',
      '--quota-backend-bytes=536870912',
      '--unsafe-no-fsync=true',
    ],
    [
      { name: 'etcd-data', hostPath: '/var/lib/etcd', mountPath: '/var/lib/etcd' },
      { name: 'etcd-certs', hostPath: '/etc/kubernetes/pki/etcd', mountPath: '/etc/kubernetes/pki/etcd' },
    ],
    { path: '/health', port: p.etcdClient },
  );

  const apiserver = staticPod(
    'kube-apiserver',
    [
      'kube-apiserver',
      '--advertise-address=127.0.0.1',
      '--bind-address=127.0.0.1',
      `--secure-port=${p.apiserver}`,
      '--allow-privileged=true',
      '--authorization-mode=Node,RBAC',
      '--client-ca-file=/etc/kubernetes/pki/ca.crt',
      '--enable-admission-plugins=NodeRestriction',
      '--enable-bootstrap-token-auth=true',
      '--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt',
      '--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt',
      '--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key',
      `--etcd-servers=https://127.0.0.1:${p.etcdClient}`,
      '--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt',
      '--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key',
      '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
      '--runtime-config=',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-account-key-file=/etc/kubernetes/pki/sa.pub',
      '--service-account-signing-key-file=/etc/kubernetes/pki/sa.key',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--tls-cert-file=/etc/kubernetes/pki/apiserver.crt',
      '--tls-private-key-file=/etc/kubernetes/pki/apiserver.key',
    ],
    [{ name: 'ca-certs', hostPath: '/etc/ssl/certs', mountPath: '/etc/ssl/certs', readOnly: true }, pkiVol],
    { path: '/livez', port: p.apiserver },
  );

  const kubeconfigVol = (file: string): Volume => ({
    name: 'kubeconfig',
    hostPath: `/etc/kubernetes/${file}`,
    mountPath: `/etc/kubernetes/${file}`,
    readOnly: true,
    type: 'FileOrCreate',
  });
  const kcm = staticPod(
    'kube-controller-manager',
    [
      'kube-controller-manager',
      '--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf',
      '--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf',
      '--kubeconfig=/etc/kubernetes/controller-manager.conf',
      '--bind-address=127.0.0.1',
      `--secure-port=${p.controllerManager}`,
      '--client-ca-file=/etc/kubernetes/pki/ca.crt',
      '--cluster-name=kube-seclab',
      '--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt',
      '--cluster-signing-key-file=/etc/kubernetes/pki/ca.key',
      '--controllers=*,bootstrapsigner,tokencleaner',
      '--leader-elect=false',
      '--root-ca-file=/etc/kubernetes/pki/ca.crt',
      '--service-account-private-key-file=/etc/kubernetes/pki/sa.key',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--use-service-account-credentials=true',
    ],
    [pkiVol, kubeconfigVol('controller-manager.conf')],
    { path: '/healthz', port: p.controllerManager },
  );

  const sched = staticPod(
    'kube-scheduler',
    [
      'kube-scheduler',
      '--authentication-kubeconfig=/etc/kubernetes/scheduler.conf',
      '--authorization-kubeconfig=/etc/kubernetes/scheduler.conf',
      '--kubeconfig=/etc/kubernetes/scheduler.conf',
      '--bind-address=127.0.0.1',
      `--secure-port=${p.scheduler}`,
      '--leader-elect=false',
    ],
    [kubeconfigVol('scheduler.conf')],
    { path: '/healthz', port: p.scheduler },
  );

  const out = {} as Record<Component, string>;
  const header = (c: string) =>
    `# Static pod manifest for ${c}, as kubeadm writes it on a control-plane node.\n# The kube-seclab local engine runs it as a process and restarts it when this file changes.\n`;
  out.etcd = header('etcd') + stringify(etcd);
  out['kube-apiserver'] = header('kube-apiserver') + stringify(apiserver);
  out['kube-controller-manager'] = header('kube-controller-manager') + stringify(kcm);
  out['kube-scheduler'] = header('kube-scheduler') + stringify(sched);
  return out;
}

export interface ProcessSpec {
  /** argv[0] is the component's binary name (as in the manifest), the rest mapped to host paths. */
  argv: string[];
  /** Problems worth telling the learner even if the process may still start. */
  warnings: string[];
  /** Flags the engine overrode for safety (e.g. a non-loopback bind address). */
  overrides: string[];
}

export class ManifestError extends Error {}

const LOOPBACK_FLAGS: Record<string, (v: string) => string | null> = {
  '--bind-address': (v) => (isLoopback(v) ? null : '127.0.0.1'),
  '--advertise-address': (v) => (isLoopback(v) ? null : '127.0.0.1'),
  '--listen-client-urls': (v) => loopbackUrls(v),
  '--listen-peer-urls': (v) => loopbackUrls(v),
  '--listen-metrics-urls': (v) => loopbackUrls(v),
};

/** Flags whose absence would make a component listen beyond loopback (or, for --advertise-address, fail with no default route). */
const DEFAULT_BIND: Record<string, string[]> = {
  'kube-apiserver': ['--bind-address', '--advertise-address'],
  'kube-controller-manager': ['--bind-address'],
  'kube-scheduler': ['--bind-address'],
};

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}
function loopbackUrls(v: string): string | null {
  if (!v) return null;
  let changed = false;
  const out = v.split(',').map((u) => {
    try {
      const url = new URL(u);
      if (isLoopback(url.hostname)) return u;
      changed = true;
      url.hostname = '127.0.0.1';
      return url.toString().replace(/\/$/, '');
    } catch {
      return u;
    }
  });
  return changed ? out.join(',') : null;
}

/**
 * Turns a static-pod manifest into the process the local engine runs: the container's command,
 * every absolute path resolved through the pod's hostPath volumes into the engine's node root
 * (a path outside every mounted volume does not exist for the container, just as on a kubelet),
 * and any non-loopback bind replaced by 127.0.0.1 — the lab never listens beyond this machine.
 */
export function manifestToProcess(manifestYaml: string, component: string, nodeRoot: string): ProcessSpec {
  let pod: any;
  try {
    pod = parse(manifestYaml);
  } catch (e) {
    throw new ManifestError(`${component}.yaml is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const container = pod?.spec?.containers?.[0];
  if (pod?.kind !== 'Pod' || !container) throw new ManifestError(`${component}.yaml is not a Pod with a container`);
  const command: unknown = [...(container.command ?? []), ...(container.args ?? [])];
  if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string')) {
    throw new ManifestError(`${component}.yaml: spec.containers[0].command must be a list of strings`);
  }
  const volumes = new Map<string, string>();
  for (const v of pod.spec.volumes ?? []) if (v?.hostPath?.path) volumes.set(v.name, v.hostPath.path);
  const mounts: { mountPath: string; hostPath: string }[] = [];
  for (const m of container.volumeMounts ?? []) {
    const hp = volumes.get(m.name);
    if (hp && m.mountPath) mounts.push({ mountPath: posix.normalize(m.mountPath), hostPath: hp });
  }
  mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
  const warnings: string[] = [];
  const overrides: string[] = [];

  const mapPath = (flag: string, p: string): string => {
    const n = posix.normalize(p);
    for (const m of mounts) {
      if (n === m.mountPath || n.startsWith(m.mountPath.endsWith('/') ? m.mountPath : m.mountPath + '/')) {
        return join(nodeRoot, m.hostPath, n.slice(m.mountPath.length));
      }
    }
    warnings.push(`${flag} points to ${p}, which is not inside any volume mounted into the ${component} static pod`);
    return join(nodeRoot, '.not-mounted-into-the-pod', n);
  };

  // `--flag value` (two list items) means the same as `--flag=value` to these programs' flag parsers:
  // join them for the flags that decide where a component listens, so the loopback rule sees them.
  const args: string[] = [];
  const rest = command.slice(1) as string[];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a in LOOPBACK_FLAGS && i + 1 < rest.length && !rest[i + 1].startsWith('-')) {
      args.push(`${a}=${rest[++i]}`);
      continue;
    }
    args.push(a);
  }
  // A flag left out takes the program's default, which for these is every interface (0.0.0.0).
  for (const flag of DEFAULT_BIND[component] ?? []) {
    if (!args.some((a) => a === flag || a.startsWith(`${flag}=`))) {
      args.push(`${flag}=127.0.0.1`);
      overrides.push(`${flag} is not set (its default listens on every interface): the lab runs ${flag}=127.0.0.1`);
    }
  }

  const argv: string[] = [command[0]];
  for (const raw of args) {
    const eq = raw.indexOf('=');
    if (!raw.startsWith('--') || eq < 0) {
      argv.push(raw.startsWith('/') ? mapPath('an argument', raw) : raw);
      continue;
    }
    const flag = raw.slice(0, eq);
    let value = raw.slice(eq + 1);
    const safe = LOOPBACK_FLAGS[flag]?.(value);
    if (safe) {
      overrides.push(`${flag}=${value} was run as ${flag}=${safe}: the lab never listens beyond 127.0.0.1`);
      value = safe;
    }
    if (value.includes('/') && value.split(',').some((v) => v.startsWith('/'))) {
      value = value
        .split(',')
        .map((v) => (v.startsWith('/') ? mapPath(flag, v) : v))
        .join(',');
    }
    argv.push(`${flag}=${value}`);
  }
  return { argv, warnings, overrides };
}
