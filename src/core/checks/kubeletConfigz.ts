import { z } from 'zod';
import type { CheckPrimitive } from './types.js';
import { conditionSchema, evaluate } from './path.js';

const schema = z
  .object({
    /** Conditions on the kubelet's running configuration (paths inside `kubeletconfig`). */
    expect: z.array(conditionSchema).min(1),
  })
  .strict();
type P = z.infer<typeof schema>;

/**
 * The kubelet's configuration as it runs — `/configz` through the API server's node proxy — not
 * its config file: a file edited without a kubelet restart changes nothing. Needs a real kubelet.
 */
export const kubeletConfigz: CheckPrimitive<P> = {
  type: 'kubeletConfigz',
  schema,
  requires: () => 'kind',
  timeoutMs: () => 20_000,
  async run(ctx, p) {
    const nodes = (await ctx.cluster.core.listNode()).items;
    const node = nodes.find((n) => n.metadata?.labels?.['node-role.kubernetes.io/control-plane'] !== undefined) ?? nodes[0];
    if (!node?.metadata?.name) return { passed: false, message: 'the cluster has no node' };
    const raw = await ctx.cluster.core.connectGetNodeProxyWithPath({ name: node.metadata.name, path: 'configz' });
    const cfg = (JSON.parse(typeof raw === 'string' ? raw : JSON.stringify(raw)) as { kubeletconfig?: unknown }).kubeletconfig;
    if (!cfg) return { passed: false, message: `the kubelet of ${node.metadata.name} returned no configuration` };
    const failed = p.expect.map((c) => evaluate(cfg, c)).filter((m): m is string => !!m);
    if (failed.length) return { passed: false, message: `kubelet on ${node.metadata.name}: ${failed.join('; ')}` };
    return { passed: true, message: `kubelet on ${node.metadata.name}: ${p.expect.map((c) => c.path).join(', ')} as required` };
  },
};
