import { describe, it, expect, inject } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { engines } from '../../src/engines/index.js';

const env = { ...process.env, KUBE_SECLAB_DATA: inject('labData') };
const API = 'admissionregistration.k8s.io/v1';

const hook = (name: string, namespace: string) => ({
  apiVersion: API,
  kind: 'ValidatingWebhookConfiguration',
  metadata: { name },
  webhooks: [
    {
      name: `${name}.example.dev`,
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Ignore',
      clientConfig: { service: { namespace, name: 'image-verifier', path: '/validate' } },
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'nowhere' } },
    },
  ],
});

describe('a reset removes admission webhooks that call into the lesson, whatever the learner named them', () => {
  // Both were made after the lab recorded the cluster-wide state (scenarios/baseline.ts): both go. A webhook
  // into the lesson's namespaces goes even without that record (a cluster the lab did not make).
  it("deletes webhooks backed by a Service in the lesson's namespaces, and those made since the lab's baseline", async () => {
    const lab = await Lab.open({ engines, env, engine: 'local' });
    await lab.start('image-signing');
    const cluster = await lab.cluster();
    try {
      await cluster.apply(hook('learner-named-verifier', 'image-verifier') as never);
      await cluster.apply(hook('someone-elses-webhook', 'elsewhere') as never);
      await lab.reset('image-signing');
      expect(await cluster.read({ apiVersion: API, kind: 'ValidatingWebhookConfiguration', metadata: { name: 'learner-named-verifier' } })).toBeUndefined();
      expect(await cluster.read({ apiVersion: API, kind: 'ValidatingWebhookConfiguration', metadata: { name: 'someone-elses-webhook' } })).toBeUndefined();
    } finally {
      await cluster.delete({ apiVersion: API, kind: 'ValidatingWebhookConfiguration', metadata: { name: 'someone-elses-webhook' } });
      await lab.remove('image-signing');
    }
  });
});
