import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import type { CheckPrimitive } from './types.js';
import { sleep } from '../fsutil.js';
import { UserError } from '../errors.js';
import { runExpectSchema, judgeRun } from './run-result.js';
import { execIn, EXEC_STATUS_GRACE_S } from './podExec.js';
import { CHECK_OBJECT_LABEL, checkPodStarted, checkPodEnded } from './watch.js';
import { enforceablePods, notYetEnforced, stillCurrent, podList, type PodAddress } from './policySync.js';

/** How long a probe pod may take to be scheduled and started, on top of the command's own time. */
const POD_START_S = 60;
/** How long the node's network plugin may take to take new pods in (kube-router: a full sync). */
export const POLICY_SYNC_S = 30;
/** Where the plugin shows nothing to wait for: how long to give it anyway. */
const UNOBSERVABLE_SETTLE_MS = 2000;
/** A probe pod's own id (the label selects it alone). */
export const PROBE_LABEL = 'kube-seclab.dev/probe';

const schema = z
  .object({
    namespace: z.string(),
    image: z.string(),
    command: z.array(z.string()).min(1),
    serviceAccountName: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    /** Environment of the command: plain values, or a key of a Secret of the namespace (the value in use, whatever it is now). */
    env: z
      .array(
        z
          .object({
            name: z.string(),
            value: z.string().optional(),
            secretKeyRef: z.object({ name: z.string(), key: z.string() }).strict().optional(),
          })
          .strict()
          .refine((e) => (e.value === undefined) !== (e.secretKeyRef === undefined), { message: 'an env entry has a value or a secretKeyRef' }),
      )
      .default([]),
    timeoutSeconds: z.number().int().positive().default(30),
    /** What the run must show after the fix (the exploit fails, or a blocked connection times out). */
    expect: runExpectSchema,
    /** What the probe does, for messages ("fetch the cloud credentials"). */
    describe: z.string().optional(),
  })
  .strict();
type P = z.infer<typeof schema>;

/**
 * Wait until the node's NetworkPolicy enforcement holds every pod of the probe's node at the address it
 * has now: the probe pod itself, and every pod it may talk to or be refused by — among them pods that
 * were just recreated (a restarted Deployment, a StatefulSet pod back under its old name at a new
 * address), which until then are judged by rules of before they existed.
 */
export async function awaitPolicySync(
  ctx: Parameters<CheckPrimitive<P>['run']>[0],
  probePod: any,
): Promise<{ state: 'synced' | 'unknown' } | { state: 'timeout'; missing: PodAddress[] }> {
  const enforcement = ctx.engine.node;
  if (!enforcement) return { state: 'unknown' };
  const node = probePod.spec?.nodeName;
  const list = async (): Promise<PodAddress[]> =>
    enforceablePods((await ctx.cluster.core.listPodForAllNamespaces(node ? { fieldSelector: `spec.nodeName=${node}` } : {})).items as any);
  const isProbe = (x: PodAddress) => x.namespace === probePod.metadata.namespace && x.name === probePod.metadata.name;
  let required = await list();
  if (!required.some(isProbe)) required.push({ namespace: probePod.metadata.namespace, name: probePod.metadata.name, ip: probePod.status.podIP });
  const end = Date.now() + POLICY_SYNC_S * 1000;
  for (;;) {
    const enforced = await enforcement.policyEnforcedPods();
    if (!enforced) return { state: 'unknown' };
    let missing = notYetEnforced(required, enforced);
    if (missing.length === 0) return { state: 'synced' };
    // A pod deleted or readdressed since the list is nobody's peer now: stop waiting for it.
    required = stillCurrent(required, await list(), isProbe);
    missing = notYetEnforced(required, enforced);
    if (missing.length === 0) return { state: 'synced' };
    if (Date.now() > end) return { state: 'timeout', missing };
    await sleep(150);
  }
}

/**
 * A runtime probe: a short-lived pod that replays the exploit or tries a connection. It needs a real
 * node and network, so it only runs on the kind engine. `$NODE_IP` is the node's address.
 *
 * The pod starts idle; the command runs in it (through the API, as `kubectl exec` does) only once the
 * node's NetworkPolicy enforcement holds it and every other pod of the node at its current address
 * (awaitPolicySync) — a pod that acted the moment it started
 * would be judged by the rules of before it existed (its own egress not yet restricted, not yet a
 * member of the peer sets other pods' policies allow), and the same cluster would pass one run and
 * fail the next.
 */
export const probe: CheckPrimitive<P> = {
  type: 'probe',
  schema,
  requires: () => 'kind',
  timeoutMs: (p) => (p.timeoutSeconds + POD_START_S + POLICY_SYNC_S + EXEC_STATUS_GRACE_S + 15) * 1000,
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p) {
    const id = randomBytes(3).toString('hex');
    const name = `kube-seclab-probe-${id}`;
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: p.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'kube-seclab', ...(p.labels ?? {}), [PROBE_LABEL]: id, [CHECK_OBJECT_LABEL]: 'probe' },
      },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
        serviceAccountName: p.serviceAccountName,
        automountServiceAccountToken: p.serviceAccountName !== undefined,
        containers: [
          {
            name: 'probe',
            image: p.image,
            imagePullPolicy: 'IfNotPresent',
            // Idle until the network has taken the pod in; the command is run in it then.
            command: ['sleep', String(p.timeoutSeconds + POD_START_S + POLICY_SYNC_S + 60)],
            env: [
              // The node the probe runs on, for probes of node ports (kubelet :10250, etcd :2379).
              { name: 'NODE_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
              ...p.env.map((e) => (e.secretKeyRef ? { name: e.name, valueFrom: { secretKeyRef: e.secretKeyRef } } : { name: e.name, value: e.value })),
            ],
            resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '10m', memory: '32Mi' } },
            securityContext: {
              allowPrivilegeEscalation: false,
              runAsNonRoot: true,
              runAsUser: 65534,
              capabilities: { drop: ['ALL'] },
              seccompProfile: { type: 'RuntimeDefault' },
            },
          },
        ],
      },
    };
    checkPodStarted(p.namespace, name);
    await ctx.cluster.create(pod).catch((e) => {
      checkPodEnded(p.namespace, name);
      throw e;
    });
    try {
      // Scheduling and starting the pod (slow on a busy machine) is not the command's time.
      const end = Date.now() + POD_START_S * 1000;
      let live: any;
      for (;;) {
        live = await ctx.cluster.core.readNamespacedPod({ name, namespace: p.namespace });
        const st = live.status?.containerStatuses?.[0]?.state;
        if (st?.running && live.status?.podIP) break;
        if (st?.terminated || live.status?.phase === 'Failed' || live.status?.phase === 'Succeeded') {
          return {
            passed: false,
            message: `the probe pod stopped before its command ran (${st?.terminated?.reason ?? live.status?.phase}${st?.terminated?.message ? `: ${st.terminated.message}` : ''})`,
          };
        }
        if (Date.now() > end) {
          const waiting = live.status?.containerStatuses?.[0]?.state?.waiting?.reason;
          return {
            passed: false,
            message: `the probe pod did not start within ${POD_START_S}s (phase ${live.status?.phase ?? 'unknown'}${waiting ? `, ${waiting}` : ''})`,
          };
        }
        await sleep(200);
      }
      const synced = await awaitPolicySync(ctx, live);
      if (synced.state === 'timeout') {
        throw new UserError(
          `inconclusive: after ${POLICY_SYNC_S}s the node's network plugin still did not enforce its policies for ${podList(synced.missing)}, so a connection would be judged by rules of before ${synced.missing.length === 1 ? 'that pod' : 'those pods'} existed`,
          '`kubectl -n kube-system logs ds/kube-router` shows why the plugin is behind; check again',
        );
      }
      if (synced.state === 'unknown') await sleep(UNOBSERVABLE_SETTLE_MS);
      const r = await execIn(ctx, live, 'probe', p.command, p.timeoutSeconds * 1000);
      const what = p.describe ?? `\`${p.command.join(' ')}\``;
      if (r.error)
        return { passed: false, message: `${what}: could not run: ${r.error}${r.out.trim() ? ` — ${r.out.trim().split('\n').pop()!.slice(0, 200)}` : ''}` };
      return judgeRun(what, r.exitCode, r.out, p.expect);
    } finally {
      await ctx.cluster.delete(pod).catch(() => {});
      checkPodEnded(p.namespace, name);
    }
  },
};
