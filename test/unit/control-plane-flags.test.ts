import { describe, it, expect } from 'vitest';
import { stringify } from 'yaml';
import { flagBool, manifestFlags, toNodePath } from '../../src/core/engine/index.js';
import { editManifest } from '../../src/core/scenarios/manifest-edit.js';
import { judgeEncryption } from '../../src/core/checks/controlPlane.js';
import { defaultManifests } from '../../src/engines/local/manifests.js';
import { restoreBaseline } from '../../src/engines/common/lifecycle.js';

const pod = (command: string[], extra: { volumes?: unknown[]; volumeMounts?: unknown[] } = {}) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kube-apiserver' },
    spec: { containers: [{ name: 'c', command, volumeMounts: extra.volumeMounts }], volumes: extra.volumes },
  });

describe('control-plane flags as the components read them (issue 13, item 10)', () => {
  it('reads --flag=value and --flag value alike', () => {
    const f = manifestFlags(pod(['kube-apiserver', '--audit-log-maxage=30', '--audit-log-maxbackup', '10', '--encryption-provider-config', '/etc/k/enc.yaml']));
    expect(f.get('--audit-log-maxage')).toBe('30');
    expect(f.get('--audit-log-maxbackup')).toBe('10');
    expect(f.get('--encryption-provider-config')).toBe('/etc/k/enc.yaml');
  });

  it('never gives a boolean flag the next item, and never lets a flag swallow the next flag', () => {
    const f = manifestFlags(pod(['kube-apiserver', '--profiling', 'false', '--anonymous-auth', '--audit-log-path', '--secure-port=6443']));
    expect(f.get('--profiling')).toBe('true'); // `false` is a stray argument: profiling stays on
    expect(f.get('--anonymous-auth')).toBe('true');
    expect(f.get('--audit-log-path')).toBe('true');
    expect(f.get('--secure-port')).toBe('6443');
  });

  it("takes '-' as a value, etcd's single-dash flags, args after command, and the last of a repeated flag", () => {
    const m = stringify({
      kind: 'Pod',
      spec: { containers: [{ command: ['etcd', '-client-cert-auth', '--audit-log-path', '-'], args: ['--name=a', '--name', 'b'] }] },
    });
    const f = manifestFlags(m);
    expect(f.get('--client-cert-auth')).toBe('true');
    expect(f.get('--audit-log-path')).toBe('-');
    expect(f.get('--name')).toBe('b');
  });

  it("reads a boolean's value as Go's ParseBool does", () => {
    expect(['1', 't', 'T', 'true', 'TRUE', 'True'].map(flagBool)).toEqual(Array(6).fill(true));
    expect(['0', 'f', 'F', 'false', 'FALSE', 'False'].map(flagBool)).toEqual(Array(6).fill(false));
    expect(flagBool('yes')).toBeUndefined();
  });
});

describe('container paths → node paths through hostPath volumes (issue 13, item 11)', () => {
  const m = pod(['kube-apiserver'], {
    volumes: [
      { name: 'enc', hostPath: { path: '/etc/kubernetes/encryption' } },
      { name: 'deep', hostPath: { path: '/srv/deep' } },
      { name: 'cfg', configMap: { name: 'x' } },
    ],
    volumeMounts: [
      { name: 'enc', mountPath: '/etc/kubernetes/enc', readOnly: true },
      { name: 'deep', mountPath: '/etc/kubernetes/enc/inner' },
      { name: 'cfg', mountPath: '/etc/cfg' },
    ],
  });

  it('maps through the mount, the longest mountPath winning', () => {
    expect(toNodePath(m, '/etc/kubernetes/enc/config.yaml')).toMatchObject({ nodePath: '/etc/kubernetes/encryption/config.yaml', mount: { readOnly: true } });
    expect(toNodePath(m, '/etc/kubernetes/enc/inner/a.yaml').nodePath).toBe('/srv/deep/a.yaml');
    expect(toNodePath(m, '/etc/kubernetes/enc/../enc/config.yaml').nodePath).toBe('/etc/kubernetes/encryption/config.yaml');
  });

  it('has no node path outside every hostPath mount (a prefix of a name is not a folder)', () => {
    expect(toNodePath(m, '/etc/kubernetes/encrypted.yaml').nodePath).toBeUndefined();
    expect(toNodePath(m, '/etc/cfg/a.yaml').nodePath).toBeUndefined();
  });
});

describe('editing manifests written either way', () => {
  const base = defaultManifests({ etcdClient: 2379, etcdPeer: 2380, apiserver: 6443, controllerManager: 10257, scheduler: 10259 })['kube-apiserver'];

  it('writes --flag value as two items when asked, and the components read it back', () => {
    const e = editManifest(base, { setFlags: { '--audit-log-maxage': '30' }, syntax: 'separate' });
    expect(e).toMatch(/- --audit-log-maxage\n\s+- "?30"?\n/);
    expect(manifestFlags(e).get('--audit-log-maxage')).toBe('30');
  });

  it('replaces and removes a two-item flag with its value item', () => {
    const two = editManifest(base, { setFlags: { '--audit-log-maxage': '7' }, syntax: 'separate' });
    const one = editManifest(two, { setFlags: { '--audit-log-maxage': '30' } });
    expect(one).not.toMatch(/^\s+- "?7"?$/m);
    expect(manifestFlags(one).get('--audit-log-maxage')).toBe('30');
    const gone = editManifest(two, { removeFlags: ['--audit-log-maxage'] });
    expect(gone).not.toMatch(/audit-log-maxage/);
    expect(gone).not.toMatch(/^\s+- "?7"?$/m);
    expect([...manifestFlags(gone).keys()]).toEqual([...manifestFlags(base).keys()]);
  });
});

describe('which provider writes Secrets (issue 13, item 12)', () => {
  const key = { keys: [{ name: 'k', secret: 'c2VjcmV0LWtleS1vZi0zMi1ieXRlcy1sb25nLi4uLi4=' }] };
  const cfg = (...resources: unknown[]) => ({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources });

  it('judges the entry that covers secrets, not every entry', () => {
    const r = judgeEncryption(
      cfg({ resources: ['configmaps'], providers: [{ identity: {} }] }, { resources: ['secrets'], providers: [{ aescbc: key }, { identity: {} }] }),
      'secrets',
      'f',
    );
    expect(r).toMatchObject({ passed: true });
    expect(r.message).toMatch(/aescbc \(entry 2/);
  });

  it('the first entry that covers secrets decides, wildcards included', () => {
    expect(
      judgeEncryption(cfg({ resources: ['*.'], providers: [{ identity: {} }] }, { resources: ['secrets'], providers: [{ aesgcm: key }] }), 'secrets', 'f')
        .passed,
    ).toBe(false);
    expect(judgeEncryption(cfg({ resources: ['*.*'], providers: [{ secretbox: key }, { identity: {} }] }), 'secrets', 'f').passed).toBe(true);
    expect(judgeEncryption(cfg({ resources: ['secrets'], providers: [{ identity: {} }, { aescbc: key }] }), 'secrets', 'f').message).toMatch(/identity first/);
  });

  it('fails when nothing covers secrets, a provider has no key, or the file is something else', () => {
    expect(judgeEncryption(cfg({ resources: ['configmaps'], providers: [{ aescbc: key }] }), 'secrets', 'f').message).toMatch(/no entry/);
    expect(judgeEncryption(cfg({ resources: ['secrets'], providers: [{ aescbc: { keys: [] } }] }), 'secrets', 'f').message).toMatch(/no key/);
    expect(judgeEncryption(cfg({ resources: ['secrets'], providers: [{ rot13: {} }] }), 'secrets', 'f').passed).toBe(false);
    expect(judgeEncryption({ kind: 'Policy' }, 'secrets', 'f').passed).toBe(false);
  });
});

describe("a reset's restore before a scenario that edits the component anyway", () => {
  const base = defaultManifests({ etcdClient: 2379, etcdPeer: 2380, apiserver: 6443, controllerManager: 10257, scheduler: 10259 })['kube-apiserver'];
  const scenario = (m: string) => editManifest(m, { removeFlags: ['--etcd-certfile', '--etcd-keyfile'] });
  const restore = async (current: string) => {
    const written: string[] = [];
    const changed = await restoreBaseline(base, current, async (t) => void written.push(t), scenario);
    return { changed, written };
  };

  it('leaves a manifest the edit makes the scenario pod to the edit (one restart, not two)', async () => {
    // the solved state: certificates set again, in the other syntax and order
    const solved = editManifest(scenario(base), {
      setFlags: { '--etcd-certfile': '/etc/kubernetes/pki/a.crt', '--etcd-keyfile': '/etc/kubernetes/pki/a.key' },
      syntax: 'separate',
    });
    expect(await restore(solved)).toEqual({ changed: false, written: [] });
    expect(await restore(scenario(base))).toEqual({ changed: false, written: [] });
  });

  it('restores anything else the learner changed, and a manifest the edit cannot read', async () => {
    const other = editManifest(base, { setFlags: { '--audit-log-maxage': '30' } });
    expect(await restore(other)).toEqual({ changed: true, written: [base] });
    expect(await restore('not: [a pod')).toEqual({ changed: true, written: [base] });
    expect(await restore(base)).toEqual({ changed: false, written: [] });
  });
});
