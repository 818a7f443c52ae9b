import { z } from 'zod';
import type { CheckPrimitive } from './types.js';

const schema = z
  .object({
    component: z.enum(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']),
    /** Every address it listens on must be a loopback address (127.0.0.0/8, ::1). */
    loopbackOnly: z.boolean().default(true),
  })
  .strict();
type P = z.infer<typeof schema>;

/** "127.0.0.1:6443", "[::1]:6443", "[::ffff:127.0.0.1]:6443" → whether the host part is loopback. */
export function isLoopbackAddress(addr: string): boolean {
  const host = addr
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '')
    .replace(/^::ffff:/i, '');
  return /^127\./.test(host) || host === '::1' || host === 'localhost';
}

function explain(addr: string): string {
  const host = addr.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (host === '0.0.0.0' || host === '::' || host === '*') return `${addr} (every network interface of the machine)`;
  return addr;
}

/**
 * Where a control-plane component really accepts connections, read from the operating system
 * (the engine's listeningAddresses), not from its manifest: the proof that the control plane is not
 * exposed beyond the machine. A component that is not running fails too: it must keep serving.
 */
export const listening: CheckPrimitive<P> = {
  type: 'listening',
  schema,
  controlPlane: true,
  async run(ctx, p) {
    const addrs = (await ctx.engine.controlPlane?.listeningAddresses(p.component)) ?? [];
    // On kind, the learner's machine reaches a node's component only where Docker publishes it.
    if (addrs.length === 0 && p.loopbackOnly && ctx.engine.name === 'kind')
      return { passed: true, message: `${p.component} is not published on this machine at all (it listens inside the kind node only)` };
    if (addrs.length === 0) return { passed: false, message: `${p.component} accepts no connections at all — is it running? (\`kube-seclab status\`)` };
    const open = addrs.filter((a) => !isLoopbackAddress(a));
    if (p.loopbackOnly && open.length) {
      return { passed: false, message: `${p.component} listens beyond this machine on ${open.map(explain).join(', ')}` };
    }
    return { passed: true, message: `${p.component} listens on ${addrs.join(', ')}${p.loopbackOnly ? ' — loopback only' : ''}` };
  },
};
