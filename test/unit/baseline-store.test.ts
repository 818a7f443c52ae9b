import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileBaselineStore, type BaselineRecord } from '../../src/core/scenarios/baseline.js';

const record: BaselineRecord = {
  version: 1,
  clusterId: 'lab-1',
  takenAt: '2026-12-06T12:00:00.000Z',
  objects: { 'ClusterRole//view': { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'view' } } },
};

describe('the baseline file', () => {
  it('keeps a record and reads it back; none yet is undefined', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baseline-'));
    const store = fileBaselineStore(join(dir, 'baseline.json'));
    expect(await store.load()).toBeUndefined();
    await store.save(record);
    expect(await store.load()).toEqual(record);
    await store.clear();
    expect(await store.load()).toBeUndefined();
  });

  it.each([
    ['not JSON', '{"version": 1, "clus'],
    ['wrong types', JSON.stringify({ ...record, clusterId: 42 })],
    ['objects not a map of objects', JSON.stringify({ ...record, objects: { a: 'b' } })],
    ['an unknown version', JSON.stringify({ ...record, version: 2 })],
    ['an empty file', ''],
  ])('one with %s is moved aside (.corrupt-<time>) and counts as none, so a new one is taken', async (_what, text) => {
    const dir = mkdtempSync(join(tmpdir(), 'baseline-'));
    const store = fileBaselineStore(join(dir, 'baseline.json'));
    writeFileSync(join(dir, 'baseline.json'), text);
    expect(await store.load()).toBeUndefined();
    const files = readdirSync(dir);
    expect(files.filter((f) => f.startsWith('baseline.json.corrupt-'))).toHaveLength(1);
    expect(files).not.toContain('baseline.json');
  });

  it('a directory in its place is moved aside too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baseline-'));
    mkdirSync(join(dir, 'baseline.json'));
    expect(await fileBaselineStore(join(dir, 'baseline.json')).load()).toBeUndefined();
    expect(readdirSync(dir).filter((f) => f.startsWith('baseline.json.corrupt-'))).toHaveLength(1);
  });
});
