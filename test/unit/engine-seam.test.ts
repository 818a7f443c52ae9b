/**
 * The engine seam: core owns the engine contract (src/core/engine) and imports no engine; kind and
 * existing share with local only what is in src/engines/common; an engine lacks a capability by
 * not having it, never by a stub.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { packageRoot, labPaths } from '../../src/core/paths.js';
import { controlPlaneOf, type Engine } from '../../src/core/engine/index.js';
import { UserError } from '../../src/core/errors.js';
import { ExistingEngine } from '../../src/engines/existing/engine.js';
import { LocalEngine } from '../../src/engines/local/engine.js';
import { KindEngine } from '../../src/engines/kind/engine.js';
import { engines } from '../../src/engines/index.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(n) ? [p] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) out.push(m[1]);
  return out;
}

function offenders(dir: string, bad: (spec: string) => boolean): string[] {
  return sources(join(packageRoot, dir)).flatMap((f) =>
    specifiers(f)
      .filter(bad)
      .map((s) => `${relative(packageRoot, f)}: ${s}`),
  );
}

const CONTROL_PLANE = [
  'readManifest',
  'writeManifest',
  'restoreManifest',
  'readNodeFile',
  'writeNodeFile',
  'removeNodeFile',
  'listeningAddresses',
  'etcdGet',
  'apiServerDown',
  'watchControlPlane',
  'nodeNames',
  'nodeAuditHost',
];
const NODE = ['prepareImages', 'buildImage', 'nodeImageId', 'policyEnforcedPods', 'restartKubelet', 'restoreKubeletConfig'];

describe('the engine seam', () => {
  it('core imports no engine, nor ink or react', () => {
    expect(offenders('src/core', (s) => /(^|\/)engines\//.test(s) || /^(ink|react)(\/|$)/.test(s))).toEqual([]);
  });

  it('kind and existing import nothing of the local engine (what they share is in src/engines/common)', () => {
    const local = (s: string) => /(^|\/)local\//.test(s);
    expect([...offenders('src/engines/kind', local), ...offenders('src/engines/existing', local)]).toEqual([]);
  });

  it('the existing engine has no control plane and no node, and stubs none of their members', () => {
    const paths = labPaths({ KUBE_SECLAB_DATA: mkdtempSync(join(tmpdir(), 'kube-seclab-seam-')) });
    const e: Engine = new ExistingEngine(paths, {}, { prefix: 'alice', context: 'class' });
    expect(e.controlPlane).toBeUndefined();
    expect(e.node).toBeUndefined();
    expect(e.shared?.namespacePrefix).toBe('alice');
    for (const m of [...CONTROL_PLANE, ...NODE]) expect(m in e, m).toBe(false);
    expect(() => controlPlaneOf(e)).toThrow(UserError);
    expect(() => controlPlaneOf(e)).toThrow('a shared cluster gives the lab no access to its control plane or nodes');
    expect(engines.create('existing', paths, {}).controlPlane).toBeUndefined();
  });

  it('local has a control plane but no node; kind has both; neither is a shared cluster', () => {
    const paths = labPaths({ KUBE_SECLAB_DATA: mkdtempSync(join(tmpdir(), 'kube-seclab-seam-')) });
    const local: Engine = new LocalEngine(paths, {});
    expect(local.controlPlane).toBeDefined();
    expect(local.node).toBeUndefined();
    expect(local.shared).toBeUndefined();
    const kind: Engine = new KindEngine(paths, {});
    expect(kind.controlPlane).toBeDefined();
    expect(kind.node).toBeDefined();
    expect(kind.shared).toBeUndefined();
    for (const m of CONTROL_PLANE.filter((x) => x !== 'apiServerDown')) expect(typeof (local.controlPlane as any)[m], m).toBe('function');
    for (const m of NODE) expect(typeof (kind.node as any)[m], m).toBe('function');
  });

  it('every engine lists its requirements from one place, for doctor and the preflight alike', async () => {
    const env = { PATH: '', KUBE_SECLAB_BIN_DIR: '/nonexistent' };
    const names = (e: 'local' | 'kind' | 'existing') => engines.requirements(e, { env, cacheDir: '/nonexistent', inUse: e }).map((r) => r.name);
    expect(names('local')).toEqual([expect.stringMatching(/^Kubernetes v/), 'go']);
    expect(names('kind').slice(0, 2)).toEqual(['docker', 'kind']);
    expect(names('existing')).toEqual([]);
    const [bins] = engines.requirements('local', { env, cacheDir: '/nonexistent', inUse: 'local' });
    expect(await bins.check()).toMatchObject({ ok: false, detail: expect.stringContaining('missing in /nonexistent') });
  });
});
