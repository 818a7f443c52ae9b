import { describe, it, expect } from 'vitest';
import {
  baitInExpression,
  baitInSelector,
  baitedVariants,
  claimantsInExpression,
  claimedVariants,
  POD_CREATORS,
  type Bait,
} from '../../src/core/checks/batteries/exceptions.js';
import type { Variant } from '../../src/core/checks/batteries/types.js';

const empty = (): Bait => ({ labels: {}, annotations: {} });

describe('exceptions an admission rule makes by label (batteries/exceptions)', () => {
  it('reads the labels and annotations CEL singles out, each with the value that claims the exception', () => {
    const b = empty();
    baitInExpression("!has(object.metadata.labels) || !('legacy' in object.metadata.labels) || object.metadata.labels['legacy'] != 'true'", b);
    baitInExpression('object.metadata.annotations["example.com/skip-checks"] == "yes" || variables.ok', b);
    baitInExpression("has(object.metadata.labels.tier) && object.metadata.labels.tier == 'batch'", b);
    baitInExpression("'break-glass' in oldObject.metadata.annotations", b);
    expect(b.labels).toEqual({ legacy: 'true', tier: 'batch' });
    expect(b.annotations).toEqual({ 'example.com/skip-checks': 'yes', 'break-glass': 'true' });
    const none = empty();
    baitInExpression("object.spec.runtimeClassName == 'sandboxed' && request.namespace != 'kube-system'", none);
    expect(none).toEqual(empty());
  });

  it('reads the labels that take an object out of a selector: NotIn and DoesNotExist (a selector that needs a label is beaten by none)', () => {
    const b = empty();
    baitInSelector(
      {
        matchLabels: { enforce: 'true' },
        matchExpressions: [
          { key: 'team', operator: 'NotIn', values: ['platform', 'sre'] },
          { key: 'exempt', operator: 'DoesNotExist' },
          { key: 'app', operator: 'In', values: ['web'] },
          { key: 'owner', operator: 'Exists' },
        ],
      },
      b,
    );
    expect(b.labels).toEqual({ team: 'platform', exempt: 'true' });
  });

  it('tries every created variant of X again wearing all of it — not the ordinary objects, not the in-place changes', () => {
    const variants: Variant[] = [
      {
        id: 'tag',
        describe: 'a pod by tag',
        expect: 'rejected',
        try: { create: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } } } },
      },
      { id: 'ok', describe: 'the trusted image', expect: 'allowed', try: { create: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'q' } } } },
      { id: 'eph', describe: 'kubectl debug', expect: 'rejected', try: { ephemeral: {} } },
    ];
    expect(baitedVariants(variants, empty())).toEqual([]);
    const out = baitedVariants(variants, { labels: { legacy: 'true' }, annotations: { skip: 'yes' } });
    expect(out.map((v) => v.id)).toEqual(['tag+exception']);
    expect((out[0].try as any).create.metadata).toEqual({ name: 'p', labels: { a: 'b', legacy: 'true' }, annotations: { skip: 'yes' } });
    expect(out[0].describe).toContain('label legacy=true');
    // the original is left as it was
    expect((variants[0].try as any).create.metadata.labels).toEqual({ a: 'b' });
  });
});

describe('exceptions an admission rule makes by identity (batteries/exceptions)', () => {
  it('reads the users and groups CEL singles out — by name, in a list, by prefix — with the groups each identity has', () => {
    const found = [
      ...claimantsInExpression("request.userInfo.username != 'system:serviceaccount:orders:deployer'"),
      ...claimantsInExpression('request.userInfo.username in [\'alice\', "bob"]'),
      ...claimantsInExpression("!request.userInfo.username.startsWith('system:serviceaccount:kube-system:')"),
      ...claimantsInExpression("!('ci:deployers' in request.userInfo.groups)"),
      ...claimantsInExpression("request.userInfo.groups.exists(g, g == 'platform') || request.userInfo.groups.exists(g, g.startsWith('oidc:'))"),
    ].map((c) => c.subject);
    expect(found).toEqual([
      { user: 'system:serviceaccount:orders:deployer', groups: ['system:serviceaccounts', 'system:serviceaccounts:orders', 'system:authenticated'] },
      { user: 'alice', groups: ['system:authenticated'] },
      { user: 'bob', groups: ['system:authenticated'] },
      {
        user: 'system:serviceaccount:kube-system:kube-seclab-exception-probe',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
      },
      { user: 'kube-seclab-exception-probe', groups: ['ci:deployers', 'system:authenticated'] },
      { user: 'kube-seclab-exception-probe', groups: ['platform', 'system:authenticated'] },
      { user: 'kube-seclab-exception-probe', groups: ['oidc:kube-seclab-exception-probe', 'system:authenticated'] },
    ]);
    expect(claimantsInExpression("object.spec.containers.all(c, c.image.startsWith('registry.kube-seclab.local/'))")).toEqual([]);
  });

  it('creates each rejected create-variant again as each claimant — pods only as the controllers, nothing else re-tried', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'orders' } };
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'orders' } };
    const variants: Variant[] = [
      { id: 'pod', describe: 'an untrusted pod', expect: 'rejected', try: { create: pod } },
      { id: 'svc', describe: 'a NodePort Service', expect: 'rejected', try: { create: svc } },
      { id: 'ok', describe: 'an ordinary pod', expect: 'allowed', try: { create: pod } },
      { id: 'eph', describe: 'an ephemeral container', expect: 'rejected', try: { ephemeral: { name: 'x' } } },
    ];
    const named = claimantsInExpression("request.userInfo.username != 'alice'");
    const out = claimedVariants(variants, [...POD_CREATORS, ...named]);
    expect(out.map((v) => v.id)).toEqual([
      'pod+as:system:serviceaccount:kube-system:replicaset-controller',
      'pod+as:system:serviceaccount:kube-system:job-controller',
      'pod+as:system:serviceaccount:kube-system:daemon-set-controller',
      'pod+as:system:serviceaccount:kube-system:statefulset-controller',
      'pod+as:alice',
      'svc+as:alice',
    ]);
    expect(out[0].describe).toBe("an untrusted pod, created by the ReplicaSet controller (it creates the pods of anyone's Deployment)");
    expect(out.every((v) => v.outside === false && v.expect === 'rejected')).toBe(true);
    expect(claimedVariants(out, POD_CREATORS)).toEqual([]);
  });
});
