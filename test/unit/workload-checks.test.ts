import { describe, it, expect } from 'vitest';
import { labelProblem } from '../../src/core/checks/podSecurityEnforced.js';
import { hardeningProblems } from '../../src/core/checks/podHardening.js';
import { portableSpec, containersOf } from '../../src/core/checks/podSpecs.js';
import { judgeBattery, rejectedBy, type VariantResult } from '../../src/core/checks/batteries/run.js';
import { imageBattery, splitImage } from '../../src/core/checks/batteries/images.js';
import { exposureBattery } from '../../src/core/checks/batteries/exposure.js';
import { podSecurityBattery } from '../../src/core/checks/batteries/podSecurity.js';
import { judgeWebhooks, rulesCover, type Webhook } from '../../src/core/checks/validatingWebhook.js';
import { PRIMITIVES } from '../../src/core/checks/registry.js';

const PSS = 'pod-security.kubernetes.io/';

describe('podSecurityEnforced: the namespace labels', () => {
  it('enforce at or above the level, on the current version, is enforcement', () => {
    expect(labelProblem({ [`${PSS}enforce`]: 'restricted' }, 'restricted', 36, true)).toBeUndefined();
    expect(labelProblem({ [`${PSS}enforce`]: 'restricted', [`${PSS}enforce-version`]: 'latest' }, 'baseline', 36, true)).toBeUndefined();
    expect(labelProblem({ [`${PSS}enforce`]: 'restricted', [`${PSS}enforce-version`]: 'v1.36' }, 'restricted', 36, true)).toBeUndefined();
  });
  it('warn/audit only, a lower level, a pinned old version or nonsense are not', () => {
    expect(labelProblem({ [`${PSS}warn`]: 'restricted', [`${PSS}audit`]: 'restricted' }, 'restricted', 36, true)).toMatch(
      /only has warn=restricted and audit=restricted.*let it in/,
    );
    expect(labelProblem({ [`${PSS}enforce`]: 'baseline' }, 'restricted', 36, true)).toMatch(/enforces "baseline", below restricted/);
    expect(labelProblem({ [`${PSS}enforce`]: 'privileged' }, 'baseline', 36, true)).toMatch(/privileged allows everything/);
    expect(labelProblem({ [`${PSS}enforce`]: 'restricted', [`${PSS}enforce-version`]: 'v1.22' }, 'restricted', 36, true)).toMatch(/pinned to v1\.22/);
    expect(labelProblem({ [`${PSS}enforce`]: 'strict' }, 'restricted', 36, true)).toMatch(/not a Pod Security level/);
  });
  it('without labels, only a check that asks for Pod Security itself fails (a policy may enforce instead)', () => {
    expect(labelProblem({}, 'restricted', 36, true)).toMatch(/no pod-security.kubernetes.io\/enforce label/);
    expect(labelProblem({}, 'restricted', 36, false)).toBeUndefined();
  });
});

describe('podHardening: what one pod spec breaks', () => {
  const facts = { saAutomount: new Map<string, boolean | undefined>(), defaultLimits: new Set<string>() };
  const p = { namespace: 'x', readOnlyRootFilesystem: true, noServiceAccountToken: true, limits: ['cpu', 'memory'] as ('cpu' | 'memory')[] };
  const good = {
    automountServiceAccountToken: false,
    containers: [{ name: 'a', securityContext: { readOnlyRootFilesystem: true }, resources: { limits: { cpu: '1', memory: '1Gi' } } }],
  };
  const tmpl = (spec: any) => ({ what: 'Deployment x/a (pod template)', kind: 'Deployment', name: 'a', live: false, spec });
  it('a hardened template passes', () => expect(hardeningProblems(tmpl(good), p, facts)).toEqual([]));
  it('an init or ephemeral container with a writable root fails', () => {
    expect(hardeningProblems(tmpl({ ...good, initContainers: [{ name: 'i', resources: good.containers[0].resources }] }), p, facts)[0]).toMatch(
      /init container i has no securityContext.readOnlyRootFilesystem/,
    );
    expect(hardeningProblems(tmpl({ ...good, ephemeralContainers: [{ name: 'dbg' }] }), p, facts)[0]).toMatch(/ephemeral container dbg/);
  });
  it('a template gets the token unless it or its ServiceAccount says no; a live pod is judged by what is mounted', () => {
    const noSetting = { ...good, automountServiceAccountToken: undefined, serviceAccountName: 'runner' };
    expect(hardeningProblems(tmpl(noSetting), p, facts).join()).toMatch(/token of ServiceAccount runner/);
    expect(hardeningProblems(tmpl(noSetting), p, { ...facts, saAutomount: new Map([['runner', false]]) })).toEqual([]);
    const live = {
      what: 'Pod x/a',
      kind: 'Pod',
      name: 'a',
      live: true,
      spec: {
        ...good,
        volumes: [{ name: 'kube-api-access-1', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
        containers: [{ ...good.containers[0], volumeMounts: [{ name: 'kube-api-access-1', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }],
      },
    };
    expect(hardeningProblems(live, p, facts).join()).toMatch(/token is mounted in container a/);
  });
  it('limits come from the container or, for a template, a LimitRange default', () => {
    const noLimits = { ...good, containers: [{ name: 'a', securityContext: { readOnlyRootFilesystem: true } }] };
    expect(hardeningProblems(tmpl(noLimits), p, facts).join()).toMatch(/no cpu and memory limit/);
    expect(hardeningProblems(tmpl(noLimits), p, { ...facts, defaultLimits: new Set(['cpu', 'memory']) })).toEqual([]);
  });
  it('host ports, host network, runtime class and untrusted images', () => {
    expect(hardeningProblems(tmpl({ hostNetwork: true, containers: [{ name: 'a' }] }), { namespace: 'x', noHostPorts: true }, facts)[0]).toMatch(/hostNetwork/);
    expect(
      hardeningProblems(
        tmpl({ initContainers: [{ name: 's', ports: [{ containerPort: 1, hostPort: 30001 }] }], containers: [{ name: 'a' }] }),
        { namespace: 'x', noHostPorts: true },
        facts,
      )[0],
    ).toMatch(/init container s has hostPort 30001/);
    expect(hardeningProblems(tmpl({ containers: [{ name: 'a' }] }), { namespace: 'x', runtimeClassName: 'sandboxed' }, facts)[0]).toMatch(
      /no runtimeClassName: sandboxed/,
    );
    const imgs = { namespace: 'x', images: { registry: 'registry.kube-seclab.local/', pinned: true } };
    expect(
      hardeningProblems(tmpl({ containers: [{ name: 'a', image: 'registry.kube-seclab.local.evil/x@sha256:' + 'a'.repeat(64) }] }), imgs, facts)[0],
    ).toMatch(/not from registry.kube-seclab.local\//);
    expect(hardeningProblems(tmpl({ containers: [{ name: 'a', image: 'registry.kube-seclab.local/x:1.0' }] }), imgs, facts)[0]).toMatch(/not pinned by digest/);
    expect(hardeningProblems(tmpl({ containers: [{ name: 'a', image: 'registry.kube-seclab.local/x@sha256:' + 'a'.repeat(64) }] }), imgs, facts)).toEqual([]);
  });
});

describe('portableSpec: a pod spec dry-run elsewhere', () => {
  it('keeps what Pod Security judges, drops what only its namespace has, and makes ephemeral containers containers', () => {
    const s = portableSpec({
      serviceAccountName: 'ledger',
      nodeName: 'n',
      priority: 0,
      runtimeClassName: 'sandboxed',
      hostPID: true,
      volumes: [
        { name: 'kube-api-access-x', projected: { sources: [] } },
        { name: 'data', hostPath: { path: '/' } },
      ],
      containers: [
        {
          name: 'a',
          volumeMounts: [
            { name: 'kube-api-access-x', mountPath: '/t' },
            { name: 'data', mountPath: '/d' },
          ],
        },
      ],
      ephemeralContainers: [{ name: 'dbg', targetContainerName: 'a', securityContext: { privileged: true } }],
    });
    expect(s).toMatchObject({ serviceAccountName: 'default', automountServiceAccountToken: false, hostPID: true, volumes: [{ name: 'data' }] });
    expect(s.nodeName).toBeUndefined();
    expect(s.runtimeClassName).toBeUndefined();
    expect(s.ephemeralContainers).toBeUndefined();
    expect(s.containers.map((c: any) => c.name)).toEqual(['a', 'dbg']);
    expect(s.containers[1].targetContainerName).toBeUndefined();
    expect(s.containers[0].volumeMounts).toEqual([{ name: 'data', mountPath: '/d' }]);
    expect(containersOf({ initContainers: [{ name: 'i' }], containers: [{ name: 'c' }] }).map((x) => x.where)).toEqual(['init container', 'container']);
  });
});

describe('admission batteries', () => {
  const digest = `sha256:${'4'.repeat(64)}`;
  it('images: every untrusted image in every place, the trusted one admitted', () => {
    expect(splitImage(`registry.kube-seclab.local/orders-api@${digest}`)).toEqual({ host: 'registry.kube-seclab.local', path: 'orders-api', digest });
    expect(splitImage('registry.kube-seclab.local/orders-api:1.0')).toBeUndefined();
    const v = imageBattery('orders', { image: `registry.kube-seclab.local/orders-api@${digest}` });
    const ids = v.map((x) => x.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'container-tag',
        'container-other-registry',
        'container-lookalike',
        'container-short-name',
        'init-container-tag',
        'second-container-other-registry',
        'ephemeral-container-tag',
        'update-image-other-registry',
        'trusted',
      ]),
    );
    expect(ids).not.toContain('container-unsigned-digest');
    expect(imageBattery('payments', { image: `registry.kube-seclab.local/payments-api@${digest}`, signed: true }).map((x) => x.id)).toContain(
      'ephemeral-container-unsigned-digest',
    );
    const look = v.find((x) => x.id === 'container-lookalike')!;
    expect(JSON.stringify(look.try)).toContain(`registry.kube-seclab.local.attacker.example/orders-api@${digest}`);
    expect(v.filter((x) => x.expect === 'allowed').map((x) => x.id)).toEqual(['trusted']);
  });
  it('exposure: every door onto a node, and host networking still allowed outside the rule', () => {
    const v = exposureBattery('ops');
    expect(v.filter((x) => x.expect === 'rejected').map((x) => x.id)).toEqual([
      'service-nodeport',
      'service-loadbalancer',
      'service-externalips',
      'service-update-nodeport',
      'service-update-externalips',
      'pod-hostport',
      'pod-sidecar-hostport',
      'pod-hostnetwork',
    ]);
    expect(v.filter((x) => x.outside).map((x) => x.id)).toEqual(['pod-hostnetwork']);
    for (const x of v) if ('create' in x.try) expect(x.try.create.metadata?.namespace).toBe('ops');
  });
  it('Pod Security: restricted adds to baseline; ephemeral containers are a variant; one compliant pod admitted', () => {
    const b = podSecurityBattery('p', { level: 'baseline' }).map((x) => x.id);
    const r = podSecurityBattery('p', { level: 'restricted' }).map((x) => x.id);
    expect(b).toEqual(
      expect.arrayContaining(['privileged', 'privileged-init', 'host-pid', 'host-path', 'apparmor-unconfined', 'ephemeral-privileged', 'compliant']),
    );
    expect(b).not.toContain('run-as-root');
    expect(r).toEqual(expect.arrayContaining([...b, 'run-as-root', 'run-as-uid-0', 'capabilities-kept', 'ephemeral-root']));
  });
  it('the verdict: a variant admitted, rejected by someone else, untried, or an ordinary object refused, each fails', () => {
    const rej = exposureBattery('ops')[0];
    const ok = { ...rej, id: 'ok', describe: 'an ordinary Service', expect: 'allowed' as const };
    const r = (x: Partial<VariantResult>): VariantResult => ({
      variant: rej,
      namespace: 'ops',
      allowed: false,
      message: "ValidatingAdmissionPolicy 'x' denied request",
      ...x,
    });
    expect(judgeBattery([r({}), r({ variant: ok, allowed: true })], { by: 'ValidatingAdmissionPolicy', what: 'w' }).passed).toBe(true);
    expect(judgeBattery([r({ allowed: true })], { by: 'ValidatingAdmissionPolicy', what: 'w' }).message).toMatch(
      /a NodePort Service is admitted in namespace ops/,
    );
    expect(judgeBattery([r({ message: 'spec.ports: Invalid value' })], { by: 'ValidatingAdmissionPolicy', what: 'w' }).message).toMatch(
      /not by ValidatingAdmissionPolicy/,
    );
    expect(judgeBattery([r({ skipped: 'no pod' })], { what: 'w' }).passed).toBe(false);
    expect(judgeBattery([r({ variant: ok, allowed: false })], { what: 'w' }).message).toMatch(/must leave ordinary objects alone/);
    expect(rejectedBy('admission webhook "a" denied the request: image-verifier: no', 'denied the request: image-verifier')).toBe(true);
    expect(rejectedBy('violates PodSecurity "restricted:latest"', 'PodSecurity')).toBe(true);
  });
  it('the primitives parse as lessons write them', () => {
    expect(PRIMITIVES.admissionVariants.schema.safeParse({ battery: 'images', namespaces: ['orders'] }).success).toBe(false); // needs an image
    expect(PRIMITIVES.admissionVariants.schema.safeParse({ battery: 'node-exposure', namespaces: ['ops'], newNamespace: true }).success).toBe(true);
    expect(PRIMITIVES.podHardening.schema.safeParse({ namespace: 'x' }).success).toBe(false); // no requirement
    expect(PRIMITIVES.podSecurity.schema.safeParse({ namespace: 'x', level: 'restricted' }).success).toBe(true);
    expect(PRIMITIVES.podSecurity.schema.safeParse({ namespace: 'x', kind: 'Deployment', level: 'restricted' }).success).toBe(false);
  });
});

describe('validatingWebhook: kubectl debug (pods/ephemeralcontainers)', () => {
  const base: Webhook = {
    name: 'w',
    failurePolicy: 'Fail',
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } },
    rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE', 'UPDATE'] }],
    clientConfig: { service: { namespace: 'v', name: 'v' } },
  };
  const t = {
    service: { namespace: 'v', name: 'v' },
    namespace: 'payments',
    nsLabels: { 'kubernetes.io/metadata.name': 'payments' },
    exempt: {},
    resource: 'pods',
    operations: ['CREATE', 'UPDATE'],
    ephemeralContainers: true,
  };
  it('a subresource is matched by its own name or pods/*, not by "*"', () => {
    expect(rulesCover([{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods/*'], operations: ['UPDATE'] }], 'pods/ephemeralcontainers', 'UPDATE')).toBe(
      true,
    );
    expect(rulesCover([{ apiGroups: [''], apiVersions: ['v1'], resources: ['*'], operations: ['UPDATE'] }], 'pods/ephemeralcontainers', 'UPDATE')).toBe(false);
  });
  it('pods only fails; pods plus the subresource, in one webhook or two, passes', () => {
    expect(judgeWebhooks([{ webhooks: [base] }], t).message).toMatch(/pods\/ephemeralcontainers UPDATE/);
    const both = { ...base, rules: [{ ...base.rules![0], resources: ['pods', 'pods/ephemeralcontainers'] }] };
    expect(judgeWebhooks([{ webhooks: [both] }], t).passed).toBe(true);
    const debugOnly = {
      ...base,
      name: 'd',
      rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods/ephemeralcontainers'], operations: ['UPDATE'] }],
    };
    expect(judgeWebhooks([{ webhooks: [base, debugOnly] }], t).passed).toBe(true);
    expect(judgeWebhooks([{ webhooks: [base, { ...debugOnly, failurePolicy: 'Ignore' }] }], t).passed).toBe(false);
  });
});
