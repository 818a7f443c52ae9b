import { describe, it, expect } from 'vitest';
import { baitInExpression, baitInSelector, baitedVariants, type Bait } from '../../src/core/checks/batteries/exceptions.js';
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
