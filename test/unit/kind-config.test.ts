import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { kindConfig, kindConfigYaml, publishedAddresses, controlPlanePatches, NODE_PATCHES_DIR } from '../../src/engines/kind/config.js';
import { parseKindVersion, versionAtLeast } from '../../src/engines/kind/tools.js';

describe('the kind config the lab writes', () => {
  it('binds the API server to loopback on a random port', () => {
    const c = parse(kindConfigYaml({ clusterName: 'kube-seclab' }));
    expect(c.name).toBe('kube-seclab');
    expect(c.networking).toEqual({ apiServerAddress: '127.0.0.1', apiServerPort: 0 });
    expect(c.nodes).toHaveLength(1);
    expect(c.nodes[0].role).toBe('control-plane');
    expect(c.nodes[0].extraPortMappings).toBeUndefined();
  });

  it('binds every port mapping to 127.0.0.1', () => {
    const c = kindConfig({
      clusterName: 'x',
      portMappings: [
        { containerPort: 30080, hostPort: 8080 },
        { containerPort: 53, hostPort: 5353, protocol: 'UDP' },
      ],
    });
    const maps = (c.nodes as { extraPortMappings: { listenAddress: string; protocol: string }[] }[])[0].extraPortMappings;
    expect(maps.map((m) => m.listenAddress)).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(maps.map((m) => m.protocol)).toEqual(['TCP', 'UDP']);
  });

  it('lets the kubelet start on cgroup v1 hosts', () => {
    const c = parse(kindConfigYaml({ clusterName: 'x' }));
    const patches = (c.nodes[0].kubeadmConfigPatches as string[]).map((p) => parse(p));
    expect(patches).toContainEqual({ kind: 'KubeletConfiguration', failCgroupV1: false });
  });

  it('gives kubeadm the lab’s patches folder, read-only, for a short termination grace of every static pod', () => {
    const c = parse(kindConfigYaml({ clusterName: 'x', patchesDir: '/data/lab/kubeadm-patches' }));
    const patches = (c.nodes[0].kubeadmConfigPatches as string[]).map((p) => parse(p));
    expect(patches).toContainEqual({ kind: 'InitConfiguration', patches: { directory: NODE_PATCHES_DIR } });
    expect(c.nodes[0].extraMounts).toEqual([{ hostPath: '/data/lab/kubeadm-patches', containerPath: NODE_PATCHES_DIR, readOnly: true }]);
    const files = controlPlanePatches();
    expect(Object.keys(files).sort()).toEqual([
      'etcd+strategic.yaml',
      'kube-apiserver+strategic.yaml',
      'kube-controller-manager+strategic.yaml',
      'kube-scheduler+strategic.yaml',
    ]);
    for (const f of Object.values(files)) expect(parse(f)).toEqual({ spec: { terminationGracePeriodSeconds: 2 } });
    // Without a folder: no mount, no patches entry.
    const plain = parse(kindConfigYaml({ clusterName: 'x' }));
    expect(plain.nodes[0].extraMounts).toBeUndefined();
    expect((plain.nodes[0].kubeadmConfigPatches as string[]).some((p) => p.includes('InitConfiguration'))).toBe(false);
  });
});

describe('published addresses (docker inspect .NetworkSettings.Ports)', () => {
  const ports = {
    '6443/tcp': [{ HostIp: '127.0.0.1', HostPort: '41234' }],
    '30080/tcp': [
      { HostIp: '', HostPort: '8080' },
      { HostIp: '::', HostPort: '8080' },
    ],
    '2379/tcp': null,
  };
  it('reads every binding, an empty host IP as all interfaces', () => {
    expect(publishedAddresses(ports).sort()).toEqual(['0.0.0.0:8080', '127.0.0.1:41234', '[::]:8080'].sort());
  });
  it('filters by container port', () => {
    expect(publishedAddresses(ports, 6443)).toEqual(['127.0.0.1:41234']);
    expect(publishedAddresses(ports, 2379)).toEqual([]);
    expect(publishedAddresses(undefined, 6443)).toEqual([]);
  });
});

describe('kind versions', () => {
  it('parses `kind version` output', () => {
    expect(parseKindVersion('kind v0.32.0 go1.26.8 linux/amd64')).toBe('v0.32.0');
    expect(parseKindVersion('kind v0.24.0-alpha+abc go1.22 linux/amd64')).toBe('v0.24.0');
    expect(parseKindVersion('garbage')).toBeUndefined();
  });
  it('compares versions numerically', () => {
    expect(versionAtLeast('v0.32.0', 'v0.24.0')).toBe(true);
    expect(versionAtLeast('v0.24.0', 'v0.24.0')).toBe(true);
    expect(versionAtLeast('v0.9.0', 'v0.24.0')).toBe(false);
    expect(versionAtLeast('v0.23.9', 'v0.24.0')).toBe(false);
    expect(versionAtLeast('v1.0.0', 'v0.24.0')).toBe(true);
  });
});

describe('kind cluster configs handed out for review', async () => {
  const { kindConfigExposures } = await import('../../src/core/checks/kindClusterConfig.js');
  const { workspaceFile } = await import('../../src/core/workspace.js');
  it('passes kind defaults and explicit loopback', () => {
    expect(kindConfigExposures({ kind: 'Cluster' })).toEqual([]);
    expect(
      kindConfigExposures({
        kind: 'Cluster',
        networking: { apiServerAddress: '127.0.0.1' },
        nodes: [
          {
            extraPortMappings: [
              { hostPort: 8080, listenAddress: '127.0.0.1' },
              { hostPort: 8443, listenAddress: '::1' },
            ],
          },
        ],
      }),
    ).toEqual([]);
  });
  it('flags every interface, a LAN address, a missing or empty listenAddress', () => {
    const bad = kindConfigExposures({
      kind: 'Cluster',
      networking: { apiServerAddress: '0.0.0.0' },
      nodes: [
        {
          extraPortMappings: [
            { hostPort: 8080 },
            { hostPort: 8081, listenAddress: '' },
            { hostPort: 8082, listenAddress: '192.168.1.20' },
            { hostPort: 8083, listenAddress: '127.0.0.1' },
          ],
        },
      ],
    });
    expect(bad).toHaveLength(4);
    expect(bad[0]).toMatch(/apiServerAddress is 0\.0\.0\.0 \(every interface\)/);
    expect(bad[1]).toMatch(/hostPort 8080\) has no listenAddress: kind binds it to 0\.0\.0\.0/);
    expect(bad[2]).toMatch(/hostPort 8081\) listens on "" \(every interface\)/);
    expect(bad[3]).toMatch(/hostPort 8082\) listens on 192\.168\.1\.20/);
  });
  it('keeps workspace paths inside the workspace', () => {
    expect(workspaceFile({ workspace: '/w' }, 'a/b.yaml')).toBe('/w/a/b.yaml');
    expect(() => workspaceFile({ workspace: '/w' }, '../etc/passwd')).toThrow(/leaves the workspace/);
    expect(() => workspaceFile({ workspace: '/w' }, '/etc/passwd')).toThrow(/leaves the workspace/);
  });
});

describe('the control plane of a one-node lab cluster', () => {
  it('runs the controller-manager and the scheduler without leader election', () => {
    const c = parse(kindConfigYaml({ clusterName: 'x' }));
    const cc = (c.nodes[0].kubeadmConfigPatches as string[]).map((p) => parse(p)).find((p) => p.kind === 'ClusterConfiguration');
    expect(cc.controllerManager.extraArgs).toContainEqual({ name: 'leader-elect', value: 'false' });
    expect(cc.controllerManager.extraArgs).toContainEqual({ name: 'enable-hostpath-provisioner', value: 'true' }); // kind's own, kept
    expect(cc.scheduler.extraArgs).toContainEqual({ name: 'leader-elect', value: 'false' });
  });
});
