import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debug } from '../../src/core/attacks/steps/debug.js';
import { imageScan } from '../../src/core/attacks/steps/imageScan.js';
import { admission } from '../../src/core/attacks/steps/admission.js';
import { auditTrail } from '../../src/core/attacks/steps/auditTrail.js';
import { exposure, flagExposures } from '../../src/core/attacks/steps/exposure.js';
import type { AttackContext } from '../../src/core/attacks/types.js';
import type { DryRunResult } from '../../src/core/kube/client.js';
import { UserError } from '../../src/core/errors.js';

// Step kinds against a stand-in for the lab's cluster handle: what they make of each answer the API
// server can give (the real API server's answers are covered by dev verify of the lessons using them).
const running = (name: string, image: string, labels: Record<string, string> = { app: 'web' }) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels, creationTimestamp: '2026-01-01T00:00:00Z', ownerReferences: [{ uid: 'rs-1' }] },
  spec: { containers: [{ name: 'web', image }] },
  status: { phase: 'Running' },
});

function ctx(o: { pods?: any[]; dryRun?: DryRunResult; workspace?: string } = {}) {
  const calls: { pod: any; container: any }[] = [];
  const c = {
    vars: new Map<string, string>(),
    engine: { name: 'local', supports: () => true },
    lessonId: 'l',
    lessonDir: '/x',
    workspace: o.workspace ?? '/nowhere/ws',
    cluster: {
      rename: { value: (v: unknown) => v, ns: (n: string) => n },
      read: async (obj: any) => {
        if (obj.kind === 'Deployment') return { metadata: { uid: 'd-1', name: obj.metadata.name, namespace: 'ns' } };
        if (obj.kind === 'Service') return { metadata: { name: obj.metadata.name }, spec: { selector: { app: 'web' } } };
        return undefined;
      },
      list: async (_v: string, kind: string) =>
        kind === 'ReplicaSet' ? [{ metadata: { uid: 'rs-1', ownerReferences: [{ uid: 'd-1' }] }, status: { replicas: 1 } }] : (o.pods ?? []),
      dryRunEphemeral: async (pod: any, container: any) => {
        calls.push({ pod, container });
        return o.dryRun!;
      },
      dryRunCreate: async () => o.dryRun!,
    },
  };
  return { ctx: c as unknown as AttackContext, calls };
}

describe('attack step debug (kubectl debug, a dry run)', () => {
  const p = debug.schema.parse({
    workload: { namespace: 'ns', name: 'web' },
    container: { image: 'evil:1', targetContainerName: 'web', securityContext: { privileged: true } },
  });

  it('works when the ephemeral container would be admitted, and never sends a real update', async () => {
    const { ctx: c, calls } = ctx({ pods: [running('web-1', 'x')], dryRun: { allowed: true, message: 'admitted', warnings: [] } });
    const r = await debug.run(c, p);
    expect(r).toMatchObject({
      succeeded: true,
      message: 'kubectl debug web-1 --image=evil:1 --target=web: the ephemeral container would be admitted (dry run)',
    });
    expect(calls).toHaveLength(1);
    expect(calls[0].pod.metadata.name).toBe('web-1');
    expect(calls[0].container).toMatchObject({ image: 'evil:1', targetContainerName: 'web', securityContext: { privileged: true } });
    expect(calls[0].container.name).toMatch(/^debugger-[0-9a-f]{6}$/);
  });
  it('is stopped when admission refuses it (403/422), or when no pod runs to attach to', async () => {
    let r = await debug.run(
      ctx({
        pods: [running('web-1', 'x')],
        dryRun: { allowed: false, code: 403, message: 'pods "web-1" is forbidden: violates PodSecurity "restricted:latest": privileged', warnings: [] },
      }).ctx,
      p,
    );
    expect(r).toMatchObject({ succeeded: false, message: expect.stringMatching(/is refused: pods "web-1" is forbidden: violates PodSecurity/) });
    r = await debug.run(ctx({ pods: [], dryRun: { allowed: true, message: '', warnings: [] } }).ctx, p);
    expect(r).toMatchObject({
      succeeded: false,
      message: expect.stringMatching(/^no pod to attach a debug container to: Deployment ns\/web has no running pod/),
    });
  });
  it('is no defence when the API server gave no decision: a webhook it could not call (500), a conflict, the pod gone', async () => {
    for (const code of [500, 409, 404, 429]) {
      const c = ctx({
        pods: [running('web-1', 'x')],
        dryRun: { allowed: false, code, message: 'Internal error occurred: failed calling webhook "verify.example"', warnings: [] },
      }).ctx;
      await expect(debug.run(c, p)).rejects.toThrow(UserError);
      await expect(debug.run(c, p)).rejects.toThrow(new RegExp(`no admission decision \\(${code}\\)`));
    }
  });
  it('takes a workload, a container image and nothing unknown', () => {
    expect(debug.schema.safeParse({ workload: { namespace: 'ns', name: 'web' }, container: { image: 'x', privileged: true } }).success).toBe(false);
    expect(debug.schema.safeParse({ workload: { namespace: 'ns', name: 'web' }, container: {} }).success).toBe(false);
    expect(debug.requires).toBeUndefined(); // a dry run: runs on every engine
  });
});

describe('attack step admission (a dry-run create)', () => {
  const p = admission.schema.parse({ namespace: 'ns', manifest: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'evil' } } });
  it('works when admitted, is stopped when refused, and an API server failing is no defence', async () => {
    expect(await admission.run(ctx({ dryRun: { allowed: true, message: 'admitted', warnings: [] } }).ctx, p)).toMatchObject({
      succeeded: true,
      message: 'Pod ns/evil would be admitted (dry run)',
    });
    expect(await admission.run(ctx({ dryRun: { allowed: false, code: 403, message: 'denied by policy', warnings: [] } }).ctx, p)).toMatchObject({
      succeeded: false,
      message: 'Pod ns/evil is refused: denied by policy',
    });
    await expect(
      admission.run(
        ctx({ dryRun: { allowed: false, code: 500, message: 'Internal error occurred: failed calling webhook "v.example"', warnings: [] } }).ctx,
        p,
      ),
    ).rejects.toThrow(/no admission decision \(500\)/);
  });
});

describe('attack step imageScan (fingerprint the packages an image runs)', () => {
  const digest = (c: string) => `sha256:${c.repeat(64)}`;
  const build = (d: string, minimist: string) => ({
    app: 'web',
    path: 'web',
    image: `registry.kube-seclab.local/web@${d}`,
    digest: d,
    sourceHash: 'h',
    engine: 'local',
    builtAt: '2026-01-01T00:00:00Z',
    packages: [{ name: 'minimist', version: minimist, path: 'node_modules/minimist' }],
  });
  const lab = () => {
    const data = mkdtempSync(join(tmpdir(), 'attack-scan-'));
    mkdirSync(join(data, 'workspace'));
    writeFileSync(join(data, 'builds.json'), JSON.stringify({ version: 1, builds: [build(digest('a'), '1.2.5'), build(digest('b'), '1.2.8')] }));
    return join(data, 'workspace');
  };
  const p = imageScan.schema.parse({ service: { namespace: 'ns', name: 'web' }, severity: 'high', package: 'minimist' });
  const img = (c: string) => `registry.kube-seclab.local/web@${digest(c)}`;

  it('works when any pod behind the Service runs a build with the vulnerable package — an old copy beside a patched one too', async () => {
    const ws = lab();
    const r = await imageScan.run(ctx({ workspace: ws, pods: [running('new', img('b')), running('old', img('a'))] }).ctx, p);
    expect(r.succeeded).toBe(true);
    expect(r.evidence?.[0].value).toMatch(/^minimist 1\.2\.5 \(node_modules\/minimist\) — critical GHSA-xvch-5gv4-984h/);
  });
  it('is stopped when every pod runs a patched build', async () => {
    const r = await imageScan.run(ctx({ workspace: lab(), pods: [running('new', img('b'))] }).ctx, p);
    expect(r).toMatchObject({
      succeeded: false,
      message: expect.stringMatching(/run web@b{12}… \(1 package\): no minimist with a known high-or-worse vulnerability/),
    });
  });
  it('says nothing (an error, no defence) about an image the lab did not build, even beside a patched one', async () => {
    const c = ctx({ workspace: lab(), pods: [running('new', img('b')), running('other', 'docker.io/library/web:1')] }).ctx;
    await expect(imageScan.run(c, p)).rejects.toThrow(/the lab did not build \(docker\.io\/library\/web:1\)/);
  });
  it('needs exactly one of service or workload', () => {
    expect(imageScan.schema.safeParse({}).success).toBe(false);
    expect(imageScan.schema.safeParse({ service: { namespace: 'a', name: 'b' }, workload: { namespace: 'a', name: 'b' } }).success).toBe(false);
  });
});

describe('attack step auditTrail (did the request leave a record on the node?)', () => {
  const manifest = (flags: string[], mounts = true) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      spec: {
        containers: [
          {
            name: 'kube-apiserver',
            command: ['kube-apiserver', ...flags],
            volumeMounts: mounts ? [{ name: 'audit-log', mountPath: '/var/log/kubernetes/audit' }] : [],
          },
        ],
        volumes: mounts ? [{ name: 'audit-log', hostPath: { path: '/var/log/kubernetes/audit' } }] : [],
      },
    });
  const on = ['--audit-policy-file=/etc/kubernetes/audit/policy.yaml', '--audit-log-path=/var/log/kubernetes/audit/audit.log'];
  const event = (id: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      auditID: id,
      stage: 'ResponseComplete',
      level: 'Metadata',
      verb: 'get',
      user: { username: 'kube-seclab-admin' },
      impersonatedUser: { username: 'kim@platform.example' },
      objectRef: { resource: 'secrets', namespace: 'hr', name: 'payroll-db' },
      ...extra,
    });
  function actx(m: string, files: Record<string, string> = {}, vars: Record<string, string> = { 'read-id': 'abc-123' }) {
    const read: string[] = [];
    const c = {
      vars: new Map(Object.entries(vars)),
      engine: {
        name: 'local',
        controlPlane: {
          readManifest: async () => m,
          readNodeFile: async (p: string) => {
            read.push(p);
            return files[p];
          },
        },
      },
    };
    return { ctx: c as unknown as AttackContext, read };
  }
  const p = { auditId: 'read-id', what: 'the read', timeoutSeconds: 0.3 };

  it('is stopped when the log on the node holds the request, by its Audit-ID', async () => {
    const { ctx: c, read } = actx(manifest(on), { '/var/log/kubernetes/audit/audit.log': `${event('other')}\n${event('abc-123')}\n` });
    const r = await auditTrail.run(c, p);
    expect(r.succeeded).toBe(false);
    expect(r.message).toMatch(
      /the read is in the audit log \/var\/log\/kubernetes\/audit\/audit.log: kube-seclab-admin acting as kim@platform.example, get secrets hr payroll-db, level Metadata$/,
    );
    expect(read).toEqual(['/var/log/kubernetes/audit/audit.log']);
    // A policy that logs the response too: still a record (and the log now holds the data).
    const { ctx: c2 } = actx(manifest(on), { '/var/log/kubernetes/audit/audit.log': event('abc-123', { level: 'RequestResponse', responseObject: {} }) });
    expect((await auditTrail.run(c2, p)).message).toMatch(/a copy of the data too/);
  });

  it('works when nothing on the node records it: no policy, no log path, a log inside the container, no file, no event', async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      [manifest([]), {}, /without an audit policy/],
      [manifest([on[0]]), {}, /no --audit-log-path/],
      [manifest(on, false), {}, /in no hostPath volume/],
      [manifest(on), {}, /there is no audit log at/],
      [manifest(on), { '/var/log/kubernetes/audit/audit.log': `${event('other')}\n` }, /holds no event for it/],
    ];
    for (const [m, files, why] of cases) {
      const r = await auditTrail.run(actx(m, files).ctx, p);
      expect(r).toMatchObject({ succeeded: true, message: expect.stringMatching(why) });
    }
  });

  it('judges nothing it cannot read (a webhook, standard output) or a request no step made', async () => {
    await expect(auditTrail.run(actx(manifest([...on, '--audit-webhook-config-file=/etc/w.yaml'])).ctx, p)).rejects.toThrow(UserError);
    await expect(auditTrail.run(actx(manifest([on[0], '--audit-log-path=-'])).ctx, p)).rejects.toThrow(/standard output/);
    await expect(auditTrail.run(actx(manifest(on), {}, {}).ctx, p)).rejects.toThrow(/no earlier step kept/);
  });
});

describe('attack step exposure (the network scan, answered by the configuration)', () => {
  const flags = (...f: string[]) => new Map(f.map((x) => [x.split('=')[0], x.slice(x.indexOf('=') + 1)] as [string, string]));
  it('finds a bind address beyond loopback (a missing or blank one is every interface), a public advertise address, etcd URLs', () => {
    expect(flagExposures('kube-apiserver', flags('--bind-address=0.0.0.0', '--advertise-address=203.0.113.10'))).toEqual([
      '--bind-address 0.0.0.0 (every interface), port 6443',
      '--advertise-address 203.0.113.10: every node and pod is told to reach the API server there',
    ]);
    expect(flagExposures('kube-apiserver', flags('--bind-address=', '--secure-port=7443'))).toEqual(['--bind-address "" (every interface), port 7443']);
    expect(flagExposures('kube-apiserver', flags('--advertise-address=127.0.0.1'))).toEqual([
      '--bind-address 0.0.0.0 (every interface), port 6443 (the flag is not set)',
    ]);
    expect(flagExposures('kube-apiserver', flags('--bind-address=192.168.1.20', '--advertise-address=127.0.0.1'))).toEqual([
      '--bind-address 192.168.1.20, port 6443',
    ]);
    expect(flagExposures('kube-apiserver', flags('--bind-address=127.0.0.1', '--advertise-address=127.0.0.1'))).toEqual([]);
    expect(flagExposures('etcd', flags('--listen-client-urls=https://127.0.0.1:2379,https://0.0.0.0:2379'))).toEqual([
      '--listen-client-urls https://0.0.0.0:2379 (every interface)',
    ]);
    expect(flagExposures('kube-scheduler', flags('--bind-address=::1'))).toEqual([]);
  });
  it("reads the component's manifest and says the lab itself stays on loopback", async () => {
    const m = (f: string[]) => JSON.stringify({ kind: 'Pod', spec: { containers: [{ name: 'c', command: ['kube-apiserver', ...f] }] } });
    const c = (f: string[]) => ({ vars: new Map(), engine: { name: 'local', controlPlane: { readManifest: async () => m(f) } } }) as unknown as AttackContext;
    const open = await exposure.run(c(['--bind-address=0.0.0.0']), { component: 'kube-apiserver' });
    expect(open).toMatchObject({ succeeded: true, message: expect.stringMatching(/only ever listens on 127\.0\.0\.1/) });
    expect((await exposure.run(c(['--bind-address=127.0.0.1', '--advertise-address=127.0.0.1']), { component: 'kube-apiserver' })).succeeded).toBe(false);
  });
  it('reads a proposed kind config in the workspace; a missing one is an error, not a defence', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'ws-'));
    mkdirSync(join(ws, 'x'));
    const c = { vars: new Map(), engine: { name: 'kind' }, workspace: ws, lessonId: 'l' } as unknown as AttackContext;
    writeFileSync(
      join(ws, 'x', 'kind.yaml'),
      'kind: Cluster\nnetworking: {apiServerAddress: 0.0.0.0}\nnodes: [{extraPortMappings: [{hostPort: 30080, containerPort: 30080}]}]\n',
    );
    const r = await exposure.run(c, { kindConfig: 'x/kind.yaml' });
    expect(r.succeeded).toBe(true);
    expect(r.evidence).toHaveLength(2);
    writeFileSync(
      join(ws, 'x', 'kind.yaml'),
      'kind: Cluster\nnetworking: {apiServerAddress: 127.0.0.1}\nnodes: [{extraPortMappings: [{hostPort: 30080, listenAddress: 127.0.0.1}]}]\n',
    );
    expect((await exposure.run(c, { kindConfig: 'x/kind.yaml' })).succeeded).toBe(false);
    await expect(exposure.run(c, { kindConfig: 'x/none.yaml' })).rejects.toThrow(/is missing/);
    expect(exposure.schema.safeParse({ component: 'etcd', kindConfig: 'a' }).success).toBe(false);
  });
});
