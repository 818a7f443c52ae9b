import { describe, it, expect } from 'vitest';
import { shellScript, scanInputs } from '../../src/core/checks/appProbe.js';
import { tokenProblems } from '../../src/core/checks/podTokens.js';
import { effectiveEnv } from '../../src/core/checks/containerStart.js';
import { lastWrite } from '../../src/core/checks/secretRotated.js';

describe('which processes hand input to a shell (appProbe noShellWithInput)', () => {
  it('finds the script of sh -c, exec and shell: true, not of a program run without a shell', () => {
    // exec() as ChildProcess.spawn sees it: argv starts with the shell itself
    expect(shellScript({ file: '/bin/sh', args: ['/bin/sh', '-c', 'grep -i "checkout" app.log'] })).toBe('grep -i "checkout" app.log');
    expect(shellScript({ file: 'bash', args: ['bash', '-lc', 'echo hi'] })).toBe('echo hi');
    // a direct spawnSync('sh', ['-c', …]) has no argv0
    expect(shellScript({ file: 'sh', args: ['-c', 'id'] })).toBe('id');
    expect(shellScript({ file: 'grep', args: ['-c', 'x'], shell: true })).toBe('grep -c x');
    expect(shellScript({ file: '/usr/bin/grep', args: ['grep', '-i', '--', 'checkout', 'app.log'] })).toBeUndefined();
    // positional parameters are data, not the script
    expect(shellScript({ file: 'sh', args: ['sh', '-c', 'grep -- "$1" app.log', 'sh', 'checkout'] })).toBe('grep -- "$1" app.log');
  });

  it('takes the plain values a scan sends', () => {
    expect(scanInputs(['--get', '/search?q=checkout', 'order', '--inject', '/search?lang=en&q=payment gateway', '--debug']).sort()).toEqual([
      'checkout',
      'payment gateway',
    ]);
  });
});

describe('which tokens a pod holds (podTokens)', () => {
  const facts = {
    saAutomount: new Map<string, boolean | undefined>([
      ['uploader', false],
      ['default', undefined],
    ]),
    tokenSecrets: new Set(['old-token']),
  };
  const p = { namespace: 'gallery', workload: { kind: 'Deployment' as const, name: 'uploader' }, allowAudiences: ['sts.lab-cloud.local'] };
  const cloud = {
    name: 'cloud',
    projected: { sources: [{ serviceAccountToken: { audience: 'sts.lab-cloud.local', expirationSeconds: 600, path: 'token' } }] },
  };
  const mount = (...names: string[]) => [{ name: 'app', volumeMounts: names.map((name) => ({ name, mountPath: `/m/${name}` })) }];

  it('accepts a cloud-audience token with automount off on the ServiceAccount', () => {
    expect(tokenProblems({ serviceAccountName: 'uploader', volumes: [cloud], containers: mount('cloud') }, false, p, facts)).toEqual([]);
  });
  it('refuses an automounted token, a token without an audience, a token Secret', () => {
    expect(tokenProblems({ serviceAccountName: 'default', containers: mount() }, false, p, facts)[0]).toMatch(/automounted/);
    const api = { name: 'kube', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } };
    expect(tokenProblems({ serviceAccountName: 'uploader', volumes: [cloud, api], containers: mount('cloud', 'kube') }, true, p, facts)[0]).toMatch(
      /Kubernetes API server/,
    );
    expect(
      tokenProblems(
        { serviceAccountName: 'uploader', volumes: [{ name: 's', secret: { secretName: 'old-token' } }], containers: mount('s') },
        true,
        p,
        facts,
      )[0],
    ).toMatch(/long-lived/);
  });
  it('judges the identity, the required audience and the lifetime', () => {
    expect(
      tokenProblems({ serviceAccountName: 'default', containers: mount() }, true, { ...p, allowAudiences: undefined, serviceAccount: 'uploader' }, facts),
    ).toEqual(['it runs as ServiceAccount default, not uploader']);
    expect(
      tokenProblems(
        { serviceAccountName: 'uploader', containers: mount() },
        true,
        { ...p, allowAudiences: undefined, requireAudience: 'sts.lab-cloud.local' },
        facts,
      )[0],
    ).toMatch(/no container gets/);
    const long = { ...cloud, projected: { sources: [{ serviceAccountToken: { audience: 'sts.lab-cloud.local', expirationSeconds: 86400 } }] } };
    expect(
      tokenProblems({ serviceAccountName: 'uploader', volumes: [long], containers: mount('cloud') }, true, { ...p, maxExpirationSeconds: 3600 }, facts)[0],
    ).toMatch(/lives 86400s/);
  });
});

describe("a container's effective environment (containerStart)", () => {
  it('applies envFrom with prefixes first, then env; resolves ConfigMap and Secret references', () => {
    const data = { cm: new Map([['rt', { NODE_OPTIONS: '--inspect=0.0.0.0:9229', X: '1' }]]), secret: new Map([['s', { token: 'abc' }]]) };
    const env = effectiveEnv(
      {
        envFrom: [{ configMapRef: { name: 'rt' } }, { secretRef: { name: 's' }, prefix: 'S_' }],
        env: [
          { name: 'X', value: '2' },
          { name: 'T', valueFrom: { secretKeyRef: { name: 's', key: 'token' } } },
          { name: 'P', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        ],
      },
      data,
    );
    expect(Object.fromEntries(env)).toEqual({ NODE_OPTIONS: '--inspect=0.0.0.0:9229', X: '2', S_token: 'abc', T: 'abc' });
  });
});

describe('when a Secret was last written (secretRotated)', () => {
  it('is its newest managedFields time, else its creation', () => {
    expect(
      lastWrite({
        metadata: { creationTimestamp: '2030-01-01T10:00:00Z', managedFields: [{ time: '2030-01-01T10:05:00Z' }, { time: '2030-01-01T10:01:00Z' }] },
      }),
    ).toBe(Date.parse('2030-01-01T10:05:00Z'));
    expect(lastWrite({ metadata: { creationTimestamp: '2030-01-01T10:00:00Z' } })).toBe(Date.parse('2030-01-01T10:00:00Z'));
  });
});
