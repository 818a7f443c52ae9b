import { z } from 'zod';
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { CheckPrimitive } from './types.js';
import { isLoopbackAddress } from './listening.js';
import { workspaceFile } from '../workspace.js';

const schema = z
  .object({
    /** The kind cluster config to judge, in the lab's workspace folder. */
    file: z.string().min(1),
  })
  .strict();
type P = z.infer<typeof schema>;

interface KindNode {
  role?: string;
  extraPortMappings?: { containerPort?: number; hostPort?: number; listenAddress?: string }[];
}
interface KindCluster {
  kind?: string;
  networking?: { apiServerAddress?: string };
  nodes?: KindNode[];
}

/** What in a kind cluster config would listen beyond the machine (kind's defaults applied). */
export function kindConfigExposures(c: KindCluster): string[] {
  const out: string[] = [];
  const api = c.networking?.apiServerAddress;
  // kind's default API server address is 127.0.0.1; an explicit other one is what it binds.
  if (api !== undefined && !isLoopbackAddress(`${api}:0`))
    out.push(`networking.apiServerAddress is ${api || '""'}${api === '0.0.0.0' || api === '' ? ' (every interface)' : ''}`);
  (c.nodes ?? []).forEach((n, i) =>
    (n.extraPortMappings ?? []).forEach((m, j) => {
      // Without listenAddress kind publishes the port on 0.0.0.0 — every interface.
      const la = m.listenAddress;
      if (la === undefined) out.push(`nodes[${i}].extraPortMappings[${j}] (hostPort ${m.hostPort ?? '?'}) has no listenAddress: kind binds it to 0.0.0.0`);
      else if (!isLoopbackAddress(`${la.includes(':') ? `[${la}]` : la}:0`))
        out.push(`nodes[${i}].extraPortMappings[${j}] (hostPort ${m.hostPort ?? '?'}) listens on ${la || `"" (every interface)`}`);
    }),
  );
  return out;
}

/**
 * A kind cluster config handed to the learner to review (kind's own defaults applied): the API
 * server address and every port mapping must stay on loopback.
 */
export const kindClusterConfig: CheckPrimitive<P> = {
  type: 'kindClusterConfig',
  schema,
  async run(ctx, p) {
    const path = workspaceFile(ctx, p.file);
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) return { passed: false, message: `${path} is missing — \`kube-seclab reset\` hands it out again` };
    const doc = parseDocument(text);
    if (doc.errors.length) return { passed: false, message: `${path}: invalid YAML: ${doc.errors[0].message.split('\n')[0]}` };
    const c = doc.toJS() as KindCluster;
    if (!c || c.kind !== 'Cluster') return { passed: false, message: `${path} is not a kind cluster config (kind: Cluster)` };
    const bad = kindConfigExposures(c);
    if (bad.length) return { passed: false, message: `${path}: ${bad.join('; ')}` };
    const n = (c.nodes ?? []).reduce((a, x) => a + (x.extraPortMappings?.length ?? 0), 0);
    return { passed: true, message: `the API server and all ${n} port mapping(s) stay on loopback` };
  },
};
