import type { Variant } from './types.js';
import { PROBE_IMAGE } from './exposure.js';

export type PssLevel = 'baseline' | 'restricted';

/** A container and a pod that meet Restricted (the strictest level): each variant breaks one rule of it. */
const goodContainer = (name = 'app'): any => ({
  name,
  image: PROBE_IMAGE,
  securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
});
const goodSpec = (): any => ({
  automountServiceAccountToken: false,
  securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [goodContainer()],
});

type Change = (spec: any) => void;
const first = (spec: any) => spec.containers[0];

/** What Baseline forbids (every Pod Security version since v1.22 agrees, and the newer fields too). */
const BASELINE: [string, string, Change][] = [
  [
    'privileged',
    'a privileged container',
    (s) => {
      first(s).securityContext.privileged = true;
      first(s).securityContext.allowPrivilegeEscalation = true;
    },
  ],
  [
    'privileged-init',
    'a privileged init container',
    (s) => {
      s.initContainers = [
        { ...goodContainer('setup'), securityContext: { ...goodContainer().securityContext, privileged: true, allowPrivilegeEscalation: true } },
      ];
    },
  ],
  [
    'host-pid',
    "a pod in the node's process namespace (hostPID)",
    (s) => {
      s.hostPID = true;
    },
  ],
  [
    'host-network',
    "a pod on the node's network (hostNetwork)",
    (s) => {
      s.hostNetwork = true;
    },
  ],
  [
    'host-ipc',
    "a pod in the node's IPC namespace (hostIPC)",
    (s) => {
      s.hostIPC = true;
    },
  ],
  [
    'host-path',
    "a hostPath volume of the node's disk",
    (s) => {
      s.volumes = [{ name: 'node', hostPath: { path: '/' } }];
      first(s).volumeMounts = [{ name: 'node', mountPath: '/node' }];
    },
  ],
  [
    'host-port',
    'a hostPort',
    (s) => {
      first(s).ports = [{ containerPort: 8080, hostPort: 30081 }];
    },
  ],
  [
    'add-sys-admin',
    'an added capability (SYS_ADMIN)',
    (s) => {
      first(s).securityContext.capabilities = { drop: ['ALL'], add: ['SYS_ADMIN'] };
    },
  ],
  [
    'seccomp-unconfined',
    'seccomp Unconfined',
    (s) => {
      s.securityContext.seccompProfile = { type: 'Unconfined' };
      delete first(s).securityContext.seccompProfile;
    },
  ],
  [
    'apparmor-unconfined',
    'AppArmor Unconfined (the field, which old Pod Security versions do not read)',
    (s) => {
      first(s).securityContext.appArmorProfile = { type: 'Unconfined' };
    },
  ],
  [
    'selinux-type',
    'a custom SELinux type (spc_t)',
    (s) => {
      first(s).securityContext.seLinuxOptions = { type: 'spc_t' };
    },
  ],
  [
    'unsafe-sysctl',
    'an unsafe sysctl (kernel.msgmax)',
    (s) => {
      s.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '65536' }];
    },
  ],
];

/** What Restricted forbids on top of Baseline. */
const RESTRICTED: [string, string, Change][] = [
  [
    'run-as-root',
    'a container that may run as root (no runAsNonRoot)',
    (s) => {
      delete s.securityContext.runAsNonRoot;
      delete first(s).securityContext.runAsNonRoot;
      delete s.securityContext.runAsUser;
    },
  ],
  [
    'run-as-uid-0',
    'runAsUser 0',
    (s) => {
      first(s).securityContext.runAsUser = 0;
    },
  ],
  [
    'privilege-escalation',
    'allowPrivilegeEscalation left on',
    (s) => {
      delete first(s).securityContext.allowPrivilegeEscalation;
    },
  ],
  [
    'capabilities-kept',
    'capabilities not dropped',
    (s) => {
      delete first(s).securityContext.capabilities;
    },
  ],
  [
    'add-net-raw',
    'an added capability (NET_RAW)',
    (s) => {
      first(s).securityContext.capabilities = { drop: ['ALL'], add: ['NET_RAW'] };
    },
  ],
  [
    'no-seccomp',
    'no seccomp profile',
    (s) => {
      delete s.securityContext.seccompProfile;
      delete first(s).securityContext.seccompProfile;
    },
  ],
  [
    'init-as-root',
    'an init container that runs as root',
    (s) => {
      s.initContainers = [{ ...goodContainer('setup'), securityContext: { ...goodContainer().securityContext, runAsNonRoot: false, runAsUser: 0 } }];
    },
  ],
  [
    'nfs-volume',
    'a volume type Restricted does not allow (nfs)',
    (s) => {
      s.volumes = [{ name: 'share', nfs: { server: '203.0.113.20', path: '/' } }];
    },
  ],
];

/**
 * Every way a pod breaks a Pod Security level — privileged (in a container or an init container),
 * host namespaces, hostPath, hostPort, capabilities, seccomp, AppArmor, SELinux, sysctls and, for
 * Restricted, root, privilege escalation, kept capabilities and volume types — each as a pod that
 * otherwise meets Restricted, plus a privileged ephemeral container added to a running pod
 * (`kubectl debug --profile=sysadmin`). A pod that meets the level must still be admitted.
 */
export function podSecurityBattery(namespace: string, p: { level: PssLevel }): Variant[] {
  const rules = p.level === 'restricted' ? [...BASELINE, ...RESTRICTED] : BASELINE;
  const pod = (name: string, spec: any) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: { app: 'pss-probe' } }, spec });
  const out: Variant[] = rules.map(([id, describe, change]) => {
    const spec = goodSpec();
    change(spec);
    return { id, describe, expect: 'rejected', try: { create: pod(`pss-${id}`, spec) } } as Variant;
  });
  out.push({
    id: 'ephemeral-privileged',
    describe: 'a privileged ephemeral container added to a running pod (kubectl debug --profile=sysadmin)',
    expect: 'rejected',
    try: { ephemeral: { name: 'debug-privileged', image: PROBE_IMAGE, securityContext: { privileged: true } } },
  });
  if (p.level === 'restricted') {
    out.push({
      id: 'ephemeral-root',
      describe: 'an ephemeral container that may run as root and keeps its capabilities (kubectl debug)',
      expect: 'rejected',
      try: { ephemeral: { name: 'debug-root', image: PROBE_IMAGE, securityContext: { runAsUser: 0 } } },
    });
  }
  out.push({
    id: 'compliant',
    describe: `a pod that meets ${p.level === 'restricted' ? 'Restricted' : 'Baseline'}`,
    expect: 'allowed',
    try: { create: pod('pss-compliant', goodSpec()) },
  });
  return out;
}
