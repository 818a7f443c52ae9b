import { describe, it, expect, inject, beforeAll } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { verifyLesson } from '../../src/core/verify.js';
import { loadCatalogue } from '../../src/core/lessons/loader.js';
import { packageRoot } from '../../src/core/paths.js';

const env = { ...process.env, KUBE_SECLAB_DATA: inject('labData') };
const catalogue = await loadCatalogue(packageRoot);
let lab: Lab;
beforeAll(async () => {
  lab = await Lab.open({ env, engine: 'local' });
});

describe('every lesson loads', () => {
  it('has no problems in lessons/ or scenarios/', () => {
    expect(catalogue.problems).toEqual([]);
    expect(catalogue.lessons.length).toBeGreaterThanOrEqual(1);
  });
});

// dev verify, per lesson: reset → checks fail → solution → all pass → each shortcut → a check fails.
describe.each(catalogue.lessons.filter((l) => l.requires === 'api').map((l) => l.id))('dev verify %s', (id) => {
  it('unsolved fails, the solution passes, every shortcut fails', { timeout: 900_000 }, async () => {
    const t0 = Date.now();
    const r = await verifyLesson(lab, id);
    // One line per lesson: .ci/run sums them into the CI cost per lesson on each engine.
    console.log(`local: verify ${id} ${r.ok ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const report = r.steps.map((s) => `${s.ok ? 'ok ' : 'BAD'} ${s.name}: ${s.detail}`).join('\n');
    expect(r.ok, report).toBe(true);
    const names = r.steps.map((s) => s.name);
    expect(names).toContain('unsolved fails');
    expect(names).toContain('solution passes');
    expect(names.filter((n) => n.startsWith('shortcut')).length).toBeGreaterThanOrEqual(1);
  });
});
