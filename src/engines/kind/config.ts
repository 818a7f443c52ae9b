import { stringify } from 'yaml';

/** A host port the node publishes. The lab always binds it to loopback. */
export interface PortMapping {
  containerPort: number;
  hostPort: number;
  protocol?: 'TCP' | 'UDP';
}

export interface KindConfigOptions {
  clusterName: string;
  /** Published node ports (none by default: nothing the lab runs is reachable from the network). */
  portMappings?: PortMapping[];
  /** A host folder holding `controlPlanePatches()`: mounted into the node for kubeadm to apply to the static pods. */
  patchesDir?: string;
}

/** Where the node sees the lab's kubeadm patches (read-only). */
export const NODE_PATCHES_DIR = '/kind/kube-seclab-patches';

/** How long the kubelet lets an old control-plane container stop before it kills it. */
export const CONTROL_PLANE_GRACE_S = 2;

/**
 * kubeadm patches (its `--patches` folder: `<component>+<patch type>.yaml`) for the four static pods:
 * a termination grace of CONTROL_PLANE_GRACE_S seconds instead of the default 30. The kubelet starts a
 * static pod's new version only once the old one is gone, and the old API server uses all of its
 * grace (measured here: 46-51 s from a manifest change to a serving API server with 30 s, 19-29 s with
 * 2 s) — the wait of every control-plane edit a lesson or a learner makes. Nothing in the process
 * needs the time: the API server keeps no state, and etcd is crash-safe (its write-ahead log).
 */
export function controlPlanePatches(): Record<string, string> {
  const patch = stringify({ spec: { terminationGracePeriodSeconds: CONTROL_PLANE_GRACE_S } });
  return Object.fromEntries(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => [`${c}+strategic.yaml`, patch]));
}

/** The annotation-free label kind puts on every node container of a cluster. */
export const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';
export const KIND_ROLE_LABEL = 'io.x-k8s.kind.role';

/**
 * The kind cluster config the lab writes. Safety first: the API server on 127.0.0.1 (a random
 * port) and every port mapping with `listenAddress: 127.0.0.1` — kind binds extraPortMappings to
 * 0.0.0.0 unless told otherwise. The kubeadm patches are what the lessons need:
 * - kubelet: `failCgroupV1: false`, so kubelet >= 1.35 still starts on hosts with cgroup v1;
 * - controller-manager and scheduler without leader election (one node; see below);
 * - the API server's and etcd's manifests stay kubeadm's, so lessons edit what learners meet on
 *   real kubeadm clusters — with `patchesDir`, kubeadm's own patches give every static pod a short
 *   termination grace (controlPlanePatches), so a restart takes seconds, not half a minute more.
 */
export function kindConfig(o: KindConfigOptions): Record<string, unknown> {
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: o.clusterName,
    networking: { apiServerAddress: '127.0.0.1', apiServerPort: 0 },
    nodes: [
      {
        role: 'control-plane',
        labels: { 'kube-seclab.dev/node': 'control-plane' },
        ...(o.portMappings?.length
          ? {
              extraPortMappings: o.portMappings.map((m) => ({
                containerPort: m.containerPort,
                hostPort: m.hostPort,
                protocol: m.protocol ?? 'TCP',
                listenAddress: '127.0.0.1',
              })),
            }
          : {}),
        kubeadmConfigPatches: [
          stringify({ kind: 'KubeletConfiguration', failCgroupV1: false }),
          // One control-plane node: no leader election. Otherwise every API-server restart a lesson
          // makes costs the controller-manager and the scheduler their lease, they exit, and the
          // kubelet's crash back-off keeps them down for minutes (the local engine runs them so too).
          stringify({
            kind: 'ClusterConfiguration',
            controllerManager: {
              extraArgs: [
                { name: 'enable-hostpath-provisioner', value: 'true' },
                { name: 'leader-elect', value: 'false' },
              ],
            },
            scheduler: { extraArgs: [{ name: 'leader-elect', value: 'false' }] },
          }),
          ...(o.patchesDir ? [stringify({ kind: 'InitConfiguration', patches: { directory: NODE_PATCHES_DIR } })] : []),
        ],
        ...(o.patchesDir ? { extraMounts: [{ hostPath: o.patchesDir, containerPath: NODE_PATCHES_DIR, readOnly: true }] } : {}),
      },
    ],
  };
}

export function kindConfigYaml(o: KindConfigOptions): string {
  return `# written by kube-seclab: the API server and every port mapping listen on 127.0.0.1 only\n${stringify(kindConfig(o))}`;
}

/**
 * Every host address the node container publishes, from `docker inspect`'s
 * NetworkSettings.Ports ({"6443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "40123"}]}).
 * An empty HostIp means all interfaces (0.0.0.0).
 */
export function publishedAddresses(ports: Record<string, { HostIp?: string; HostPort?: string }[] | null> | undefined, containerPort?: number): string[] {
  const out: string[] = [];
  for (const [key, binds] of Object.entries(ports ?? {})) {
    if (containerPort !== undefined && Number(key.split('/')[0]) !== containerPort) continue;
    for (const b of binds ?? []) {
      const ip = b.HostIp || '0.0.0.0';
      out.push(ip.includes(':') ? `[${ip}]:${b.HostPort}` : `${ip}:${b.HostPort}`);
    }
  }
  return [...new Set(out)];
}
