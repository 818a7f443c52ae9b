/**
 * `kube-seclab images save/load` (imported by kind.test.ts): the Docker images a kind classroom needs, in one file — built
 * and saved here, then one of them removed from Docker and brought back by `load`.
 * Needs a Docker daemon and the node image (KUBE_SECLAB_KIND_IMAGE), like the rest of this project.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'kube-seclab.js');
const dir = mkdtempSync(join(tmpdir(), 'kube-seclab-images-'));
const env = { ...process.env, KUBE_SECLAB_DATA: join(dir, 'data'), NO_COLOR: '1' };
const cli = (...args: string[]) => execa(process.execPath, [BIN, ...args], { env, reject: false, timeout: 900_000 });
const imageId = (ref: string) => {
  try {
    return execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('images save / load', () => {
  it('bundles the node image, the base image and every lab image, and loads them back', { timeout: 900_000 }, async () => {
    const list = (await cli('images', 'list')).stdout.trim().split('\n');
    expect(list[0]).toEqual(process.env.KUBE_SECLAB_KIND_IMAGE ?? expect.stringMatching(/^kindest\/node:/));
    expect(list).toContain('node:20-bookworm-slim');
    expect(list).toContain('registry.kube-seclab.local/toolbox:1.0');

    const file = join(dir, 'classroom.tar');
    const save = await cli('images', 'save', file);
    expect(save.exitCode, save.stderr).toBe(0);
    expect(statSync(file).size).toBeGreaterThan(10 * 2 ** 20);

    const ref = 'registry.kube-seclab.local/echo-server:1.0';
    const before = imageId(ref);
    expect(before).toBeDefined();
    execFileSync('docker', ['rmi', ref]);
    expect(imageId(ref)).toBeUndefined();
    const load = await cli('images', 'load', file);
    expect(load.exitCode, load.stderr).toBe(0);
    expect(load.stdout).toContain(ref);
    expect(imageId(ref)).toBe(before);
  });

  it('says what is wrong with a file that is not a bundle', async () => {
    const r = await cli('images', 'load', join(dir, 'missing.tar'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/docker load .*missing\.tar failed/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
