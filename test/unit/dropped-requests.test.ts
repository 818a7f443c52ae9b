import { describe, it, expect } from 'vitest';
import { againIfDropped } from '../../src/core/kube/client.js';

/** A request that fails `times` times with `error`, then answers. */
function flaky(times: number, error: unknown) {
  let calls = 0;
  const fn = async () => {
    calls++;
    if (calls <= times) throw error;
    return 'answered';
  };
  return { fn, calls: () => calls };
}

describe('a request whose kept-alive connection dropped under it (againIfDropped)', () => {
  it('is sent again after "socket hang up" or ECONNRESET, four times at most', { timeout: 20_000 }, async () => {
    const hangUp = flaky(2, new Error('request to https://127.0.0.1:45193/apis/scheduling.k8s.io/v1/priorityclasses failed, reason: socket hang up'));
    expect(await againIfDropped(hangUp.fn)).toBe('answered');
    expect(hangUp.calls()).toBe(3);
    const reset = flaky(1, Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNRESET', message: 'read ECONNRESET' } }));
    expect(await againIfDropped(reset.fn)).toBe('answered');
    expect(reset.calls()).toBe(2);
    const always = flaky(9, new Error('socket hang up'));
    await expect(againIfDropped(always.fn)).rejects.toThrow('socket hang up');
    expect(always.calls()).toBe(5);
  });

  it('is not repeated for an answer of the API server or a refused connection (the API server is down: say so at once)', async () => {
    const http = flaky(1, Object.assign(new Error('HTTP-Code: 409 conflict, socket hang up in the body'), { code: 409 }));
    await expect(againIfDropped(http.fn)).rejects.toThrow('409');
    expect(http.calls()).toBe(1);
    const refused = flaky(1, Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:6443' } }));
    await expect(againIfDropped(refused.fn)).rejects.toThrow('fetch failed');
    expect(refused.calls()).toBe(1);
  });
});
