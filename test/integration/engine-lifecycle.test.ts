import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEngine } from '../../src/engines/local/engine.js';
import { labPaths } from '../../src/core/paths.js';
import { sleep } from '../../src/core/fsutil.js';

const data = mkdtempSync(join(tmpdir(), 'kube-seclab-life-'));
const env = { ...process.env, KUBE_SECLAB_DATA: data };
const engine = new LocalEngine(labPaths(env), env);

function processesMentioning(dir: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

afterAll(async () => {
  await engine.down().catch(() => {});
  rmSync(data, { recursive: true, force: true });
});

describe('local engine lifecycle (its own cluster)', () => {
  it('up, reuse, survive a dead supervisor, and down leaves no process', async () => {
    await engine.up();
    expect((await engine.status()).healthy).toBe(true);
    const first = JSON.parse(readFileSync(join(engine.L.dir, 'state.json'), 'utf8')).supervisorPid;

    // a second up reuses the healthy cluster: same supervisor, same processes
    await engine.up();
    expect(JSON.parse(readFileSync(join(engine.L.dir, 'state.json'), 'utf8')).supervisorPid).toBe(first);

    // the supervisor dies hard: status says so, up repairs it (cluster state in etcd survives)
    const labId = await engine.labId();
    process.kill(first, 'SIGKILL');
    await sleep(200);
    const broken = await engine.status();
    expect(broken.running).toBe(false);
    expect(broken.healthy).toBe(false);
    expect(broken.problems[0]).toMatch(/supervisor is not running.*kube-seclab up/);
    await engine.up();
    const repaired = await engine.status();
    expect(repaired.healthy).toBe(true);
    expect(await engine.labId()).toBe(labId);

    // a component that dies is restarted and its restart counted
    const api = repaired.components.find((c) => c.name === 'kube-scheduler')!;
    process.kill(api.pid!, 'SIGKILL');
    let st = await engine.status();
    for (let i = 0; i < 100 && !(st.healthy && (st.components.find((c) => c.name === 'kube-scheduler')!.restarts ?? 0) >= 1); i++) {
      await sleep(200);
      st = await engine.status();
    }
    expect(st.components.find((c) => c.name === 'kube-scheduler')!.restarts).toBeGreaterThanOrEqual(1);
    expect(st.healthy).toBe(true);

    expect(processesMentioning(engine.L.dir).length).toBeGreaterThanOrEqual(6);
    await engine.down();
    expect(processesMentioning(engine.L.dir)).toEqual([]);
    expect((await engine.status()).exists).toBe(false);
  });
});
