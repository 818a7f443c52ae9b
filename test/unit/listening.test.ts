import { describe, it, expect } from 'vitest';
import { procNetAddress, procNetListening } from '../../src/engines/local/engine.js';
import { listening, isLoopbackAddress } from '../../src/core/checks/listening.js';
import type { CheckContext } from '../../src/core/checks/types.js';

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

describe('real listening addresses (/proc/net/tcp{,6})', () => {
  it.runIf(LE)('decodes IPv4 and IPv6 addresses as the kernel prints them', () => {
    // as a little-endian kernel prints them (x86-64, arm64)
    expect(procNetAddress('0100007F:1A0B')).toBe('127.0.0.1:6667');
    expect(procNetAddress('00000000:0050')).toBe('0.0.0.0:80');
    expect(procNetAddress('00000000000000000000000001000000:192B')).toBe('[::1]:6443');
    expect(procNetAddress('00000000000000000000000000000000:192B')).toBe('[::]:6443');
    expect(procNetAddress('0000000000000000FFFF00000100007F:192B')).toBe('[::ffff:127.0.0.1]:6443');
    expect(procNetAddress('B80D0120000000000000000001000000:192B')).toBe('[2001:db8::1]:6443');
  });
  it.runIf(LE)("keeps only LISTEN rows of the process's own sockets", () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:192B 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0000000000000000 100 0 0 10 0',
      '   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 100 0 0 10 0',
      '   2: 0100007F:192B 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 111 1 0000000000000000 20 4 30 10 -1',
    ].join('\n');
    expect(procNetListening(text, new Set(['111']))).toEqual(['127.0.0.1:6443']);
    expect(procNetListening(text, new Set(['222']))).toEqual(['0.0.0.0:22']);
  });
});

describe('listening check', () => {
  const ctx = (addrs: string[]) => ({ engine: { controlPlane: { listeningAddresses: async () => addrs } } }) as unknown as CheckContext;
  const p = listening.schema.parse({ component: 'kube-apiserver' });
  it('tells loopback from everything else', () => {
    expect(['127.0.0.1:1', '127.1.2.3:1', '[::1]:1', '[::ffff:127.0.0.1]:1'].every(isLoopbackAddress)).toBe(true);
    expect(['0.0.0.0:1', '[::]:1', '192.168.1.20:1', '[::ffff:10.0.0.1]:1'].some(isLoopbackAddress)).toBe(false);
  });
  it('passes on loopback only, names every exposed address, and fails when nothing listens', async () => {
    expect(await listening.run(ctx(['127.0.0.1:6443']), p)).toEqual({ passed: true, message: 'kube-apiserver listens on 127.0.0.1:6443 — loopback only' });
    const open = await listening.run(ctx(['127.0.0.1:6443', '0.0.0.0:6443']), p);
    expect(open).toEqual({ passed: false, message: 'kube-apiserver listens beyond this machine on 0.0.0.0:6443 (every network interface of the machine)' });
    expect((await listening.run(ctx([]), p)).passed).toBe(false);
  });
});
