/**
 * `kube-seclab doctor` with the built CLI: the kubectl on the learner's PATH held to the supported
 * skew (one minor version either side of the lab's API server). The kubectl here is a stand-in
 * script that answers `kubectl version --client -o json` as an old release does; doctor runs it.
 */
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/core/paths.js';
import { K8S_VERSION } from '../../src/engines/local/versions.js';

const run = promisify(execFile);

async function doctorWith(kubectlVersion: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-seclab-doctor-'));
  try {
    const script = join(dir, 'kubectl');
    writeFileSync(script, `#!/bin/sh\necho '{"clientVersion":{"major":"1","gitVersion":"${kubectlVersion}"}}'\n`);
    chmodSync(script, 0o755);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dir}:${process.env.PATH}`, KUBE_SECLAB_DATA: join(dir, 'data'), NO_COLOR: '1' };
    delete env.KUBE_SECLAB_NAME;
    delete env.KUBECONFIG;
    // No cluster in this lab, so doctor exits non-zero; its report is what counts here.
    const r = await run(process.execPath, [join(packageRoot, 'bin', 'kube-seclab.js'), 'doctor'], { env, timeout: 60_000 }).catch((e: { stdout?: string }) => ({
      stdout: e.stdout ?? '',
    }));
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('doctor: kubectl version skew', () => {
  it('warns about a kubectl four minors older than the lab, and says which to install', async () => {
    const out = await doctorWith('v1.32.0');
    const line = out.split('\n').find((l) => /\bkubectl\b/.test(l)) ?? '';
    expect(line).toContain(`v1.32.0 is 4 minor versions older than the lab's API server ${K8S_VERSION}`);
    expect(line).toContain(`install kubectl ${K8S_VERSION.replace(/\.\d+$/, '')}`);
  }, 90_000);

  it('accepts a kubectl one minor older', async () => {
    const minor = Number(K8S_VERSION.split('.')[1]);
    const out = await doctorWith(`v1.${minor - 1}.2`);
    const line = out.split('\n').find((l) => /\bkubectl\b/.test(l)) ?? '';
    expect(line).toContain(`v1.${minor - 1}.2 (the lab's API server is ${K8S_VERSION})`);
    expect(line).not.toContain('skew');
  }, 90_000);
});
