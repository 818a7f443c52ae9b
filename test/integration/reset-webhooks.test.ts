import { describe, it, expect, inject } from 'vitest';
import { Lab } from '../../src/core/lab.js';

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
  it("deletes webhooks backed by a Service in the lesson's namespaces and leaves the others", async () => {
    const lab = await Lab.open({ env, engine: 'local' });
    await lab.start('image-signing');
    const cluster = await lab.cluster();
    try {
      await cluster.apply(hook('learner-named-verifier', 'image-verifier') as never);
      await cluster.apply(hook('someone-elses-webhook', 'elsewhere') as never);
      await lab.reset('image-signing');
      expect(await cluster.read({ apiVersion: API, kind: 'ValidatingWebhookConfiguration', metadata: { name: 'learner-named-verifier' } })).toBeUndefined();
      expect(await cluster.read({ apiVersion: API, kind: 'ValidatingWebhookConfiguration', metadata: { name: 'someone-elses-webhook' } })).toBeDefined();
    } finally {
      await cluster.delete({ apiVersion: API, kind: 'ValidatingWebhookConfiguration', metadata: { name: 'someone-elses-webhook' } });
      await lab.remove('image-signing');
    }
  });
});
