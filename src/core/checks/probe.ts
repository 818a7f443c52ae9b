import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import type { CheckPrimitive } from './types.js';
import { sleep } from '../fsutil.js';
import { runExpectSchema, judgeRun } from './run-result.js';

/** How long a probe pod may take to be scheduled and started, on top of the command's own time. */
const POD_START_S = 60;

const schema = z.object({
  namespace: z.string(),
  image: z.string(),
  command: z.array(z.string()).min(1),
  serviceAccountName: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  timeoutSeconds: z.number().int().positive().default(30),
  /** What the run must show after the fix (the exploit fails, or a blocked connection times out). */
  expect: runExpectSchema,
  /** What the probe does, for messages ("fetch the cloud credentials"). */
  describe: z.string().optional(),
}).strict();
type P = z.infer<typeof schema>;

/**
 * A runtime probe: a short-lived pod that replays the exploit or tries a connection. It needs a
 * real node and network, so it only runs on the kind engine. `$NODE_IP` is the node's address.
 */
export const probe: CheckPrimitive<P> = {
  type: 'probe',
  schema,
  requires: () => 'kind',
  timeoutMs: (p) => (p.timeoutSeconds + POD_START_S + 15) * 1000,
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p) {
    const name = `kube-seclab-probe-${randomBytes(3).toString('hex')}`;
    const pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name, namespace: p.namespace, labels: { 'app.kubernetes.io/managed-by': 'kube-seclab', ...(p.labels ?? {}) } },
      spec: {
        restartPolicy: 'Never',
        serviceAccountName: p.serviceAccountName,
        containers: [{ name: 'probe', image: p.image, imagePullPolicy: 'IfNotPresent', command: p.command,
          // The node the probe runs on, for probes of node ports (kubelet :10250, etcd :2379).
          env: [{ name: 'NODE_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }],
          securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 65534, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } } }],
      },
    };
    await ctx.cluster.create(pod);
    try {
      // Scheduling and starting the pod (slow on a busy machine) is not the command's time.
      const end = Date.now() + (p.timeoutSeconds + POD_START_S) * 1000;
      let st: any;
      while (Date.now() < end) {
        st = (await ctx.cluster.core.readNamespacedPod({ name, namespace: p.namespace })).status;
        if (st?.phase === 'Succeeded' || st?.phase === 'Failed') break;
        await sleep(250);
      }
      const term = st?.containerStatuses?.[0]?.state?.terminated;
      if (!term) {
        const waiting = st?.containerStatuses?.[0]?.state?.waiting?.reason;
        return { passed: false, message: st?.phase === 'Running'
          ? `the probe did not finish within ${p.timeoutSeconds}s of starting`
          : `the probe pod did not start within ${POD_START_S}s (phase ${st?.phase ?? 'unknown'}${waiting ? `, ${waiting}` : ''})` };
      }
      const log = await ctx.cluster.core.readNamespacedPodLog({ name, namespace: p.namespace, container: 'probe' }).catch(() => '');
      return judgeRun(p.describe ?? `\`${p.command.join(' ')}\``, term.exitCode, String(log), p.expect);
    } finally {
      await ctx.cluster.delete(pod).catch(() => {});
    }
  },
};
