import { z } from 'zod';
import { Writable } from 'node:stream';
import { Exec, type V1Status } from '@kubernetes/client-node';
import type { CheckPrimitive, CheckContext } from './types.js';
import { runExpectSchema, judgeRun } from './run-result.js';

const schema = z
  .object({
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
  })
  .strict();
type P = z.infer<typeof schema>;

const running = (p: any) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp;
const newestFirst = (a: any, b: any) => String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? ''));

/**
 * Every pod of the workload (a Deployment's, through any of its ReplicaSets: an older revision's pod
 * that still runs is still the workload) that is not on its way out — or why there is none, or why
 * one of them cannot run a command (not running yet, crashing).
 */
async function pickPods(ctx: CheckContext, p: P): Promise<{ pods?: any[]; why?: string }> {
  const what = `${p.kind} ${p.namespace}/${p.name}`;
  if (p.kind === 'Pod') {
    const pod: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace } });
    if (!pod) return { why: `${what} not found` };
    return running(pod) ? { pods: [pod] } : { why: `${what} is not running (phase ${pod.status?.phase ?? 'unknown'})` };
  }
  const obj: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: p.kind, metadata: { name: p.name, namespace: p.namespace } });
  if (!obj) return { why: `${what} is gone — deleting the workload is not a fix` };
  const pods: any[] = await ctx.cluster.list('v1', 'Pod', p.namespace);
  const owners = new Set<string>([obj.metadata.uid]);
  if (p.kind === 'Deployment') {
    for (const r of await ctx.cluster.list<any>('apps/v1', 'ReplicaSet', p.namespace)) {
      if (r.metadata?.ownerReferences?.some((o: any) => o.uid === obj.metadata.uid)) owners.add(r.metadata.uid);
    }
  }
  const mine = pods
    .filter(
      (x) =>
        !x.metadata?.deletionTimestamp &&
        !['Succeeded', 'Failed'].includes(x.status?.phase) &&
        x.metadata?.ownerReferences?.some((o: any) => owners.has(o.uid)),
    )
    .sort(newestFirst);
  if (!mine.length) return { why: `${what} has no pod to run the command in` };
  const notUp = mine.find((x) => !(running(x) && (x.status?.containerStatuses ?? []).every((c: any) => c.state?.running)));
  if (notUp) {
    const st = notUp.status?.containerStatuses?.find((c: any) => !c.state?.running);
    const reason = st?.state?.waiting?.reason ?? st?.state?.terminated?.reason ?? notUp.status?.phase ?? 'not running';
    return {
      why: `${what}: pod ${notUp.metadata.name} is not running (${reason}) — every pod of the workload is checked from inside, so wait for the rollout to finish`,
    };
  }
  return { pods: mine };
}

/**
 * How much longer than the command's own time (`timeoutMs`) the exit status may take to come back —
 * kubelet, container runtime, API server and websocket, on a node that may be fully busy. In a CI
 * rehearsal at load 30-43 on 2 cores, a probe's \`nc\` had printed that it reached db:5432, and its exit
 * status had not arrived 12 s later: a connection that worked, judged as one that could not run. The
 * command still ends by its own timeout (wget -T, nc -w); only the wait for its verdict is longer.
 */
export const EXEC_STATUS_GRACE_S = 20;

/** Run the command in the pod through the API server (pods/exec over a websocket): its exit code and output. */
export async function execIn(
  ctx: CheckContext,
  pod: any,
  container: string,
  command: string[],
  timeoutMs: number,
): Promise<{ exitCode: number; out: string; error?: string }> {
  await ctx.cluster.guard.ensure(); // exec is as powerful as a write: only on the lab's own cluster
  let out = '';
  const sink = () =>
    new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
  let status: V1Status | undefined;
  const ws = await new Exec(ctx.cluster.kc).exec(pod.metadata.namespace, pod.metadata.name, container, command, sink(), sink(), null, false, (s) => {
    status = s;
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(
      () => {
        ws.close();
        resolve();
      },
      timeoutMs + EXEC_STATUS_GRACE_S * 1000,
    );
    ws.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  if (!status) return { exitCode: -1, out, error: `no exit status within ${timeoutMs / 1000 + EXEC_STATUS_GRACE_S}s` };
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
  watches: (p) => [
    { apiVersion: p.kind === 'Pod' ? 'v1' : 'apps/v1', kind: p.kind, namespace: p.namespace },
    { apiVersion: 'v1', kind: 'Pod', namespace: p.namespace },
  ],
  timeoutMs: (p) => (p.timeoutSeconds + EXEC_STATUS_GRACE_S + 10) * 1000,
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p) {
    const { pods, why } = await pickPods(ctx, p);
    if (!pods) return { passed: false, message: why! };
    // Every running pod of the workload, not a sample: a pod of an older template that still runs is what an attacker gets.
    const results = await Promise.all(
      pods.map(async (pod) => {
        const container = p.container ?? pod.spec?.containers?.[0]?.name;
        const r = await execIn(ctx, pod, container, p.command, p.timeoutSeconds * 1000);
        const what = `${p.describe ?? `\`${p.command.join(' ')}\``} in pod ${pod.metadata.name}`;
        if (r.error)
          return { passed: false, message: `${what}: could not run: ${r.error}${r.out.trim() ? ` — ${r.out.trim().split('\n').pop()!.slice(0, 200)}` : ''}` };
        return judgeRun(what, r.exitCode, r.out, p.expect);
      }),
    );
    const failed = results.find((r) => !r.passed);
    if (failed) return failed;
    return pods.length === 1
      ? results[0]
      : {
          passed: true,
          message: `${results[0].message} (and the same in ${pods.length - 1} more pod${pods.length > 2 ? 's' : ''} of ${p.kind} ${p.namespace}/${p.name})`,
        };
  },
};
