import { describe, it, expect } from 'vitest';
import { kubectlItem } from '../../src/cli/doctor.js';

describe('doctor: kubectl against the lab API server (supported skew: one minor version)', () => {
  it('accepts the same minor and one minor either way', () => {
    for (const client of ['v1.36.0', 'v1.35.4', 'v1.37.1']) {
      const item = kubectlItem(client, 'v1.36.3');
      expect(item.ok, client).toBe(true);
      expect(item.detail).toContain('v1.36.3');
    }
  });

  it('warns about a kubectl two or more minors older, with the version to install and the lab own kubectl', () => {
    const item = kubectlItem('v1.32.0', 'v1.36.3', '/home/u/.cache/kube-seclab/bin/v1.36.3/kubectl');
    expect(item.ok).toBe(false);
    expect(item.optional).toBe(true);
    expect(item.detail).toContain('4 minor versions older');
    expect(item.fix).toContain('install kubectl v1.36');
    expect(item.fix).toContain('export PATH="/home/u/.cache/kube-seclab/bin/v1.36.3:$PATH"');
  });

  it('warns about a kubectl newer by two minors, or of another major', () => {
    expect(kubectlItem('v1.38.0', 'v1.36.3').detail).toContain('2 minor versions newer');
    expect(kubectlItem('v2.0.0', 'v1.36.3').ok).toBe(false);
    expect(kubectlItem('v2.0.0', 'v1.36.3').detail).toContain('a major version newer');
  });

  it('says how to get kubectl when there is none, and judges nothing without a pinned server version', () => {
    const none = kubectlItem(undefined, 'v1.36.3');
    expect(none.ok).toBe(false);
    expect(none.fix).toContain('install kubectl v1.36');
    expect(kubectlItem('v1.20.0', undefined).ok).toBe(true);
  });
});
