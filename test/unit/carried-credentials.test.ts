import { describe, it, expect } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { credentialCandidates, certificateSubject, podConfigMaps } from '../../src/core/rbac/credentials.js';
import { generatePki } from '../../src/engines/local/pki.js';

// A JWT-shaped string (header.payload.signature, base64url) — what a ServiceAccount token looks like.
const jwt = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('{"sub":"system:serviceaccount:shop:maintenance"}').toString('base64url')}.c2lnbmF0dXJl`;

describe('credentials a pod carries besides its own token (rbac/credentials)', () => {
  it('finds tokens and client certificates wherever a pod can read them: plain, in a kubeconfig, as a bootstrap token', async () => {
    const pki = await generatePki();
    const kubeconfig = [
      'users:',
      '- name: ops',
      '  user:',
      `    token: ${jwt}`,
      `    client-certificate-data: ${Buffer.from(pki.admin.cert).toString('base64')}`,
    ].join('\n');
    const found = credentialCandidates(`${kubeconfig}\nBOOTSTRAP=abcdef.0123456789abcdef\nnot-a-token: abc.def`);
    expect(found.tokens.sort()).toEqual(['abcdef.0123456789abcdef', jwt].sort());
    expect(found.certs).toHaveLength(1);
    expect(credentialCandidates(`-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----`).certs).toHaveLength(1);
    expect(credentialCandidates('password=hunter2 version=1.2.3').tokens).toEqual([]);
  });

  it("names a client certificate's user and groups only when the cluster's CA signed it and it is valid now", async () => {
    const pki = await generatePki();
    const other = await generatePki();
    const ca = new X509Certificate(pki.caCert);
    const admin = certificateSubject(pki.admin.cert, ca);
    expect(admin?.user).toBe('kubernetes-admin');
    expect(admin?.groups).toContain('system:masters');
    expect(admin?.groups).toContain('system:authenticated');
    expect(certificateSubject(other.admin.cert, ca)).toBeUndefined(); // another cluster's CA
    expect(certificateSubject(pki.caCert, ca)).toBeUndefined(); // the CA itself is not a client
    expect(certificateSubject(pki.admin.cert, ca, new Date('2000-01-01'))).toBeUndefined(); // not yet valid
    expect(certificateSubject('garbage', ca)).toBeUndefined();
    expect(certificateSubject(pki.admin.cert, undefined)).toBeUndefined();
  });

  it('lists the ConfigMaps a pod spec reads: volumes, projected sources, env and envFrom of every container', () => {
    const spec = {
      volumes: [
        { name: 'a', configMap: { name: 'cm-vol' } },
        { name: 'b', projected: { sources: [{ configMap: { name: 'cm-proj' } }] } },
      ],
      initContainers: [{ name: 'i', envFrom: [{ configMapRef: { name: 'cm-envfrom' } }] }],
      containers: [{ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm-env', key: 'k' } } }] }],
    };
    expect(podConfigMaps(spec).sort()).toEqual(['cm-env', 'cm-envfrom', 'cm-proj', 'cm-vol']);
  });
});
