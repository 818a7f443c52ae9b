import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { labPaths, labName, isValidLabName, validateLabName } from '../../src/core/paths.js';
import { findLabNames, listLabs } from '../../src/core/labs.js';
import { engines } from '../../src/engines/index.js';
import { UserError } from '../../src/core/errors.js';
import { runCommand } from '../../src/cli/commands.js';
import { main } from '../../src/cli/main.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Whether a is b or lies inside b. */
const within = (a: string, b: string) => {
  const r = relative(b, a);
  return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && r !== '..');
};

describe('lab names: separate labs never share state', () => {
  const env = { HOME: '/home/u', KUBE_SECLAB_DATA: '/data/ks' } as NodeJS.ProcessEnv;
  const names = ['default', 'alice', 'bob', 'labs', 'engines', 'kube-seclab', 'a', 'a-b', 'a1', '1', 'x'.repeat(31)];

  it('every two names give disjoint data dirs, progress files, kubeconfigs, engine dirs and cluster names', () => {
    const all = names.map((n) => labPaths(env, n));
    // What each lab owns: its files, and its engine folders. The default lab lives at the data root,
    // the others under labs/<name>, which the default lab never writes.
    const owned = (p: ReturnType<typeof labPaths>) =>
      p.name === 'default' ? [p.progress, p.kubeconfig, join(p.data, 'lab.json'), p.engineDir('local'), p.engineDir('kind')] : [p.data];
    for (let i = 0; i < all.length; i++) {
      for (let j = 0; j < all.length; j++) {
        if (i === j) continue;
        const [a, b] = [all[i], all[j]];
        expect(a.data).not.toBe(b.data);
        expect(a.kubeconfig).not.toBe(b.kubeconfig);
        expect(a.progress).not.toBe(b.progress);
        expect(a.clusterName).not.toBe(b.clusterName);
        for (const x of owned(a)) for (const y of owned(b)) expect(within(x, y), `${a.name}'s ${x} inside ${b.name}'s ${y}`).toBe(false);
        // Every file of a lab is inside its own data dir, and a named lab's is in no other named lab's.
        for (const f of [a.progress, a.kubeconfig, a.engineDir('local')]) {
          expect(within(f, a.data)).toBe(true);
          if (b.name !== 'default') expect(within(f, b.data)).toBe(false);
        }
      }
    }
    expect(labPaths(env, 'default').clusterName).toBe('kube-seclab');
    expect(labPaths(env, 'alice').clusterName).toBe('kube-seclab-alice');
    expect(labPaths(env, 'alice').data).toBe('/data/ks/labs/alice');
    expect(labPaths(env).data).toBe('/data/ks'); // unchanged for existing users
    for (const p of all) expect(p.clusterName).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/); // a DNS label
  });

  it('a name is validated wherever it comes from: --name, KUBE_SECLAB_NAME, labPaths', () => {
    for (const bad of ['', '..', '../x', 'a/b', 'Alice', 'a_b', '-a', 'a-', 'a b', 'x'.repeat(32), 'ä', '.hidden']) {
      expect(isValidLabName(bad), bad).toBe(false);
      expect(() => validateLabName(bad)).toThrow(UserError);
      expect(() => labPaths(env, bad)).toThrow(/must be 1–31 lower-case letters/);
    }
    expect(() => labName({ KUBE_SECLAB_NAME: '../../etc' })).toThrow(/KUBE_SECLAB_NAME must be/);
    expect(labName({ KUBE_SECLAB_NAME: 'team-2' })).toBe('team-2');
    expect(labName({})).toBe('default');
  });

  it('--name with a bad value is a usage error (exit 2) with a hint', async () => {
    const errs: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      errs.push(String(s));
      return true;
    });
    await expect(main(['--name', '../up', 'status'])).rejects.toThrow(/--name must be/);
  });
});

describe('every lab on this host', () => {
  function root() {
    const d = mkdtempSync(join(tmpdir(), 'kube-seclab-labs-'));
    // default: a progress file only (never went up); alice: a local lab whose cluster was created and
    // is stopped (engine.json, no running supervisor); bob: a lab saved with the kind engine, no cluster
    // yet; carl: a lab.json naming an engine this version does not know.
    writeFileSync(join(d, 'progress.json'), JSON.stringify({ version: 1, lessons: {} }));
    const alice = join(d, 'labs', 'alice');
    mkdirSync(join(alice, 'engines', 'local'), { recursive: true });
    writeFileSync(join(alice, 'lab.json'), JSON.stringify({ engine: 'local' }));
    writeFileSync(
      join(alice, 'engines', 'local', 'engine.json'),
      JSON.stringify({
        version: 1,
        labId: 'x',
        binDir: '/nope',
        ports: { etcdClient: 1, etcdPeer: 2, apiserver: 1, controllerManager: 3, scheduler: 4 },
        createdAt: '2025-01-01T00:00:00Z',
      }),
    );
    writeFileSync(
      join(alice, 'engines', 'local', 'state.json'),
      JSON.stringify({ supervisorPid: 2 ** 22 + 12345, startedAt: '', updatedAt: '', components: {} }),
    );
    mkdirSync(join(d, 'labs', 'bob'), { recursive: true });
    writeFileSync(join(d, 'labs', 'bob', 'lab.json'), JSON.stringify({ engine: 'kind' }));
    mkdirSync(join(d, 'labs', 'carl'), { recursive: true });
    writeFileSync(join(d, 'labs', 'carl', 'lab.json'), JSON.stringify({ engine: 'podman' }));
    mkdirSync(join(d, 'labs', 'Not_A_Name'), { recursive: true }); // ignored: not a valid name
    writeFileSync(join(d, 'labs', 'stray-file'), '');
    return d;
  }

  it("finds each name under the data root, reads each engine's state without starting or writing anything", async () => {
    const d = root();
    const env = { ...process.env, KUBE_SECLAB_DATA: d };
    expect(await findLabNames(env)).toEqual(['default', 'alice', 'bob', 'carl']);
    const before = JSON.stringify(readdirSync(d, { recursive: true }).sort());
    const labs = await listLabs(env, 'bob', engines);
    expect(labs.map((l) => l.name)).toEqual(['bob', 'default', 'alice', 'carl']); // the current lab first
    const by = Object.fromEntries(labs.map((l) => [l.name, l]));
    expect(by.bob).toMatchObject({ current: true, engine: 'kind', exists: false, running: false, healthy: false });
    expect(by.carl).toMatchObject({ current: false, engine: 'podman', running: false, error: expect.stringMatching(/^unknown engine "podman"/) });
    expect(by.default).toMatchObject({ current: false, engine: 'local', exists: false, running: false, healthy: false });
    expect(by.alice).toMatchObject({ engine: 'local', exists: true, running: false, healthy: false, apiserver: 'https://127.0.0.1:1' });
    expect(JSON.stringify(readdirSync(d, { recursive: true }).sort())).toBe(before);
    // A current lab with no state yet is still listed, first.
    expect((await listLabs(env, 'carol', engines))[0]).toMatchObject({ name: 'carol', current: true, exists: false });
  });

  it("`status --json` keeps the current lab's fields and adds every lab; the text lists them after it", async () => {
    const d = root();
    const env = { ...process.env, KUBE_SECLAB_DATA: d, KUBE_SECLAB_NAME: 'alice' };
    const outs: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      outs.push(String(s));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runCommand('status', [], { json: true }, env, undefined)).toBe(1);
    const st = JSON.parse(outs.join(''));
    expect(st).toMatchObject({ engine: 'local', exists: true, running: false, healthy: false, name: 'alice' });
    expect(st.labs.map((l: { name: string }) => l.name)).toEqual(['alice', 'default', 'bob', 'carl']);
    outs.length = 0;
    await runCommand('status', [], {}, env, undefined);
    const text = outs.join('');
    expect(text.indexOf('engine')).toBe(0); // the single-lab status first, as before
    expect(text).toMatch(
      /labs on this host \(4\)\n ▸ alice\s+local\s+stopped\s+\(this lab\)\n {3}default\s+local\s+no cluster\n {3}bob\s+kind\s+no cluster\n {3}carl\s+podman\s+unknown engine "podman"/,
    );
  });
});
