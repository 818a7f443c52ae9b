import type { Variant } from './types.js';

/** An image every engine knows (a dry run never pulls it). */
export const PROBE_IMAGE = 'registry.kube-seclab.local/toolbox:1.0';

const svc = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { selector: { app: 'exposure-probe' }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
});
const pod = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels: { app: 'exposure-probe' } },
  spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: PROBE_IMAGE, ports: [{ containerPort: 8080 }] }], ...spec },
});
const isClusterIp = (s: any) => (s.spec?.type ?? 'ClusterIP') === 'ClusterIP' && s.spec?.clusterIP !== 'None';

/**
 * Every way a workload opens a port on a node, or takes traffic for an address outside the
 * cluster network, through the API: Services of type NodePort and LoadBalancer (a LoadBalancer is
 * a NodePort plus a cloud balancer), a ClusterIP Service with externalIPs (kube-proxy answers for
 * those addresses on every node), an existing Service changed to any of them (UPDATE), a pod's
 * hostPort (also in a sidecar init container) and a pod on the node's network (hostNetwork: every
 * port it listens on is a node port). Workload templates are not tried: their controllers create
 * pods through the API server, and the pod variants judge those. Ephemeral containers cannot have
 * ports, and a Service of type ExternalName is a DNS alias that opens nothing: neither is a variant.
 */
export function exposureBattery(namespace: string): Variant[] {
  return [
    { id: 'service-nodeport', describe: 'a NodePort Service', expect: 'rejected', try: { create: svc(namespace, 'exposure-nodeport', { type: 'NodePort' }) } },
    {
      id: 'service-loadbalancer',
      describe: 'a LoadBalancer Service',
      expect: 'rejected',
      try: { create: svc(namespace, 'exposure-loadbalancer', { type: 'LoadBalancer' }) },
    },
    {
      id: 'service-externalips',
      describe: 'a ClusterIP Service with externalIPs',
      expect: 'rejected',
      try: { create: svc(namespace, 'exposure-externalips', { type: 'ClusterIP', externalIPs: ['203.0.113.10'] }) },
    },
    {
      id: 'service-update-nodeport',
      describe: 'an existing ClusterIP Service changed to NodePort (UPDATE)',
      expect: 'rejected',
      try: {
        update: {
          apiVersion: 'v1',
          kind: 'Service',
          what: 'a ClusterIP Service',
          pick: isClusterIp,
          change: (s) => ({ ...s, spec: { ...s.spec, type: 'NodePort' } }),
        },
      },
    },
    {
      id: 'service-update-externalips',
      describe: 'an existing ClusterIP Service given externalIPs (UPDATE)',
      expect: 'rejected',
      try: {
        update: {
          apiVersion: 'v1',
          kind: 'Service',
          what: 'a ClusterIP Service',
          pick: isClusterIp,
          change: (s) => ({ ...s, spec: { ...s.spec, externalIPs: ['203.0.113.10'] } }),
        },
      },
    },
    {
      id: 'pod-hostport',
      describe: 'a pod with a hostPort',
      expect: 'rejected',
      try: {
        create: pod(namespace, 'exposure-hostport', { containers: [{ name: 'app', image: PROBE_IMAGE, ports: [{ containerPort: 8080, hostPort: 30080 }] }] }),
      },
    },
    {
      id: 'pod-sidecar-hostport',
      describe: 'a pod whose sidecar (an init container) has a hostPort',
      expect: 'rejected',
      try: {
        create: pod(namespace, 'exposure-sidecar-hostport', {
          initContainers: [{ name: 'sidecar', image: PROBE_IMAGE, restartPolicy: 'Always', ports: [{ containerPort: 9090, hostPort: 30090 }] }],
        }),
      },
    },
    {
      id: 'pod-hostnetwork',
      describe: "a pod on the node's network (hostNetwork)",
      expect: 'rejected',
      outside: true,
      try: { create: pod(namespace, 'exposure-hostnetwork', { hostNetwork: true }) },
    },
    {
      id: 'service-clusterip',
      describe: 'an ordinary ClusterIP Service',
      expect: 'allowed',
      try: { create: svc(namespace, 'exposure-clusterip', { type: 'ClusterIP' }) },
    },
    { id: 'pod-container-port', describe: 'an ordinary pod with a container port', expect: 'allowed', try: { create: pod(namespace, 'exposure-plain', {}) } },
  ];
}
