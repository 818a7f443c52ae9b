import { describe, it, expect } from 'vitest';
import { loadCatalogue } from '../../src/core/lessons/loader.js';
import { packageRoot } from '../../src/core/paths.js';

// Lessons whose point is checked differently per engine (api-server-exposure: manifest flags on
// local, a proposed kind cluster config on kind).
const catalogue = await loadCatalogue(packageRoot);
const lesson = catalogue.get('api-server-exposure')!;

describe('per-engine checks and fixes', () => {
  it('loads with no problems', () => {
    expect(catalogue.problems.filter((p) => p.file.includes('api-server-exposure') || p.file.includes('kubelet-authentication'))).toEqual([]);
  });
  it('limits checks to the engine they are about', () => {
    const by = Object.fromEntries(lesson.checks.map((c) => [c.id, c.engines]));
    expect(by['bind-loopback']).toEqual(['local']);
    expect(by['kind-config-loopback']).toEqual(['kind']);
    expect(by['apiserver-not-exposed']).toBeUndefined();
  });
  it('knows which engines a fix folder serves (steps.<engine>.yaml, engines: in steps.yaml)', () => {
    expect(lesson.solution.engines?.sort()).toEqual(['kind', 'local']);
    expect(lesson.solution.description).toMatch(/Bind kube-apiserver to 127\.0\.0\.1/); // steps.yaml's, shown first
    const sc = Object.fromEntries(lesson.shortcuts.map((s) => [s.name, s.engines]));
    expect(sc['bind-only']).toEqual(['local']);
    expect(sc['api-address-only']).toEqual(['kind']);
    // every engine a lesson runs on keeps at least one shortcut
    for (const e of ['local', 'kind'] as const) expect(lesson.shortcuts.some((s) => !s.engines || s.engines.includes(e))).toBe(true);
  });
  it('marks the kubelet lesson as needing a real node', () => {
    const k = catalogue.get('kubelet-authentication')!;
    expect(k.requires).toBe('kind');
    expect(k.reset.kubelet).toBe(true);
    expect(k.layer).toBe('cluster');
  });
});

describe('workload images', async () => {
  const { lessonImageNames } = await import('../../src/core/scenarios/apply.js');
  const { imageCatalogue } = await import('../../src/engines/kind/images.js');
  const known = new Set((await imageCatalogue(packageRoot)).map((i) => i.name));
  it('every image a lesson names is built by the lab (scenarios/images/images.yaml)', async () => {
    for (const l of catalogue.lessons) {
      const names = await lessonImageNames(l);
      expect(
        names.filter((n) => !known.has(n)),
        `${l.id} names images the lab does not build`,
      ).toEqual([]);
    }
    expect(await lessonImageNames(catalogue.get('network-policy')!)).toEqual(expect.arrayContaining(['netshoot', 'storefront-db', 'echo-server']));
  });
});
