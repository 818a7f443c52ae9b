import { z } from 'zod';
import { Writable } from 'node:stream';
import { Exec, type V1Status } from '@kubernetes/client-node';
import type { CheckPrimitive, CheckContext } from './types.js';
import { runExpectSchema, judgeRun } from './run-result.js';

const schema = z.object({
  /** The workload whose running pod the command runs in. */
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Pod']).default('Deployment'),
  namespace: z.string(),
  name: z.string(),
  /** The container (default: the pod's first). */
  container: z.string().optional(),
  command: z.array(z.string()).min(1),
  timeoutSeconds: z.number().int().positive().default(20),
  /** What the run must show after the fix (as `probe` judges it). */
  expect: runExpectSchema,
  /** What the command shows, for messages ("the app's user id"). */
  describe: z.string().optional(),
}).strict();
type P = z.infer<typeof schema>;

const running = (p: any) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp;
const newestFirst = (a: any, b: any) => String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? ''));

/** A running pod of the workload's current revision (a Deployment's newest ReplicaSet), or why there is none. */
async function pickPod(ctx: CheckContext, p: P): Promise<{ pod?: any; why?: string }> {
  const what = `${p.kind} ${p.namespace}/${p.name}`;
  if (p.kind === 'Pod') {
    const pod: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace } });
    if (!pod) return { why: `${what} not found` };
    return running(pod) ? { pod } : { why: `${what} is not running (phase ${pod.status?.phase ?? 'unknown'})` };
  }
  const obj: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: p.kind, metadata: { name: p.name, namespace: p.namespace } });
  if (!obj) return { why: `${what} is gone — deleting the workload is not a fix` };
  const pods: any[] = await ctx.cluster.list('v1', 'Pod', p.namespace);
  let owners = new Set<string>([obj.metadata.uid]);
  if (p.kind === 'Deployment') {
    const rs: any[] = (await ctx.cluster.list('apps/v1', 'ReplicaSet', p.namespace))
      .filter((r) => r.metadata?.ownerReferences?.some((o: any) => o.uid === obj.metadata.uid))
      .sort((a, b) => Number(b.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0) - Number(a.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0));
    owners = new Set(rs.slice(0, 1).map((r) => r.metadata.uid));
  }
  const mine = pods.filter((x) => x.metadata?.ownerReferences?.some((o: any) => owners.has(o.uid))).sort(newestFirst);
  const pod = mine.find((x) => running(x) && (x.status?.containerStatuses ?? []).every((c: any) => c.state?.running));
  if (pod) return { pod };
  if (!mine.length) return { why: `${what} has no pod of its current version to run the command in` };
  const st = mine[0].status?.containerStatuses?.find((c: any) => !c.state?.running);
  const reason = st?.state?.waiting?.reason ?? st?.state?.terminated?.reason ?? mine[0].status?.phase ?? 'not running';
  return { why: `${what} has no running pod to run the command in (pod ${mine[0].metadata.name}: ${reason})` };
}

/** Run the command in the pod through the API server (pods/exec over a websocket): its exit code and output. */
export async function execIn(ctx: CheckContext, pod: any, container: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; out: string; error?: string }> {
  await ctx.cluster.guard.ensure(); // exec is as powerful as a write: only on the lab's own cluster
  let out = '';
  const sink = () => new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } });
  let status: V1Status | undefined;
  const ws = await new Exec(ctx.cluster.kc).exec(pod.metadata.namespace, pod.metadata.name, container, command, sink(), sink(), null, false, (s) => { status = s; });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => { ws.close(); resolve(); }, timeoutMs);
    ws.on('close', () => { clearTimeout(timer); resolve(); });
  });
  if (!status) return { exitCode: -1, out, error: `no exit status within ${timeoutMs / 1000}s` };
  if (status.status === 'Success') return { exitCode: 0, out };
  const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
  if (code !== undefined) return { exitCode: Number(code), out };
  return { exitCode: -1, out, error: status.message ?? status.reason ?? 'the command could not run' };
}

/**
 * Real proof from inside a running workload: a command run in one of its pods through the API
 * (what `kubectl exec` does), with the container's own user, capabilities and filesystem. It needs
 * containers that really run, so it only runs on the kind engine.
 */
export const podExec: CheckPrimitive<P> = {
  type: 'podExec',
  schema,
  requires: () => 'kind',
  watches: (p) => [{ apiVersion: p.kind === 'Pod' ? 'v1' : 'apps/v1', kind: p.kind, namespace: p.namespace }, { apiVersion: 'v1', kind: 'Pod', namespace: p.namespace }],
  timeoutMs: (p) => (p.timeoutSeconds + 10) * 1000,
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p) {
    const { pod, why } = await pickPod(ctx, p);
    if (!pod) return { passed: false, message: why! };
    const container = p.container ?? pod.spec?.containers?.[0]?.name;
    const r = await execIn(ctx, pod, container, p.command, p.timeoutSeconds * 1000);
    const what = `${p.describe ?? `\`${p.command.join(' ')}\``} in pod ${pod.metadata.name}`;
    if (r.error) return { passed: false, message: `${what}: could not run: ${r.error}${r.out.trim() ? ` — ${r.out.trim().split('\n').pop()!.slice(0, 200)}` : ''}` };
    return judgeRun(what, r.exitCode, r.out, p.expect);
  },
};
