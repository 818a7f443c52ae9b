import { describe, it, expect } from 'vitest';
import { holds, findIn } from '../../src/core/checks/secretValues.js';
import { delivery } from '../../src/core/checks/secretDelivery.js';
import { podSecrets } from '../../src/core/rbac/cluster.js';

const PW = 'Pr0d-Payr0ll-DB-2024!';

describe('planted values, wherever and however they are written', () => {
  it('finds a value plainly, URL-encoded, base64 (inside a larger blob, any alignment), base64url and hex — under any key', () => {
    expect(holds(`x${PW}y`, PW)).toBe('');
    expect(holds(`postgres://u:${encodeURIComponent('p@ss/w0rd:x')}@h/db`, 'p@ss/w0rd:x')).toBe(' (URL-encoded)');
    expect(holds(Buffer.from(PW).toString('base64'), PW)).toBe(' (base64)');
    for (const prefix of ['', 'a', 'ab']) expect(holds(Buffer.from(`${prefix}[db]\npassword=${PW}\n`).toString('base64'), PW)).toMatch(/base64/);
    expect(holds(`Basic ${Buffer.from(`u:${PW}`).toString('base64')}`, PW)).toMatch(/base64/);
    expect(holds(Buffer.from(PW).toString('hex').toUpperCase(), PW)).toBe(' (hex)');
    expect(holds('registry.kube-seclab.local/payroll-api:1.0', PW)).toBeUndefined();
    const obj = {
      metadata: { annotations: { note: PW }, managedFields: [{ x: PW }] },
      data: { [`k-${PW}`]: 'v' },
      spec: { containers: [{ name: 'api', args: ['--x', `--password=${PW}`] }] },
    };
    expect(findIn(obj, PW)).toEqual(['metadata.annotations.note', `the key name data.k-${PW}`, 'spec.containers[api].args[1]']);
  });
});

describe('a Secret delivered to the app', () => {
  const key = { key: 'db-password', file: '/etc/payroll/secrets/db-password', env: 'DB_PASSWORD' };
  const spec = (c: object, volumes: object[] = []) => ({ containers: [{ name: 'api', ...c }], volumes });

  it('accepts a secret or projected volume (with or without items, or one file through subPath) and env from secretKeyRef or envFrom', () => {
    expect(
      delivery(spec({ volumeMounts: [{ name: 'c', mountPath: '/etc/payroll/secrets' }] }, [{ name: 'c', secret: { secretName: 's' } }]), 'api', 's', key),
    ).toMatch(/secret volume/);
    expect(
      delivery(
        spec({ volumeMounts: [{ name: 'c', mountPath: '/etc/payroll/secrets/' }] }, [
          { name: 'c', projected: { sources: [{ secret: { name: 's', items: [{ key: 'db-password', path: 'db-password' }] } }] } },
        ]),
        'api',
        's',
        key,
      ),
    ).toMatch(/projected/);
    expect(
      delivery(
        spec({ volumeMounts: [{ name: 'c', mountPath: '/etc/payroll/secrets/db-password', subPath: 'db.txt' }] }, [
          { name: 'c', secret: { secretName: 's', items: [{ key: 'db-password', path: 'db.txt' }] } },
        ]),
        'api',
        's',
        key,
      ),
    ).toMatch(/secret volume/);
    expect(delivery(spec({ env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 's', key: 'db-password' } } }] }), 'api', 's', key)).toMatch(
      /secretKeyRef/,
    );
    expect(delivery(spec({ envFrom: [{ secretRef: { name: 's' }, prefix: 'DB_' }] }), 'api', 's', { key: 'PASSWORD', env: 'DB_PASSWORD' })).toMatch(/envFrom/);
  });

  it('refuses another Secret, another path, items that leave the key out, and a literal env that overrides', () => {
    expect(
      delivery(spec({ volumeMounts: [{ name: 'c', mountPath: '/etc/payroll/secrets' }] }, [{ name: 'c', secret: { secretName: 'other' } }]), 'api', 's', key),
    ).toBeUndefined();
    expect(
      delivery(spec({ volumeMounts: [{ name: 'c', mountPath: '/secrets' }] }, [{ name: 'c', secret: { secretName: 's' } }]), 'api', 's', key),
    ).toBeUndefined();
    expect(
      delivery(
        spec({ volumeMounts: [{ name: 'c', mountPath: '/etc/payroll/secrets' }] }, [
          { name: 'c', secret: { secretName: 's', items: [{ key: 'smtp-password', path: 'smtp-password' }] } },
        ]),
        'api',
        's',
        key,
      ),
    ).toBeUndefined();
    expect(
      delivery(spec({ envFrom: [{ secretRef: { name: 's' } }], env: [{ name: 'DB_PASSWORD', value: 'x' }] }), 'api', 's', {
        key: 'DB_PASSWORD',
        env: 'DB_PASSWORD',
      }),
    ).toBeUndefined();
    expect(delivery(spec({}), 'other', 's', key)).toBeUndefined();
  });

  it('knows every way a pod reads a Secret (for exec and pod-creation routes)', () => {
    expect(
      podSecrets({
        volumes: [{ secret: { secretName: 'a' } }, { projected: { sources: [{ secret: { name: 'b' } }] } }],
        initContainers: [{ env: [{ valueFrom: { secretKeyRef: { name: 'c' } } }] }],
        containers: [{ envFrom: [{ secretRef: { name: 'd' } }] }],
        imagePullSecrets: [{ name: 'e' }],
      }).sort(),
    ).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});
