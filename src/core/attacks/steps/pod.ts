import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import type { AttackStepKind, Evidence, StepOutcome } from '../types.js';
import { runningPods, workloadInContainerSchema } from '../pods.js';
import { execIn, EXEC_STATUS_GRACE_S } from '../../checks/podExec.js';
import { awaitPolicySync, POLICY_SYNC_S } from '../../checks/probe.js';
import { podList } from '../../checks/policySync.js';
import { sleep } from '../../fsutil.js';
import { MANAGED_LABEL } from '../../kube/client.js';
import { apiError } from '../../kube/errors.js';

/** Label of every pod the lab starts for an attack (watch mode ignores them; resets sweep them). */
export const ATTACK_LABEL = 'kube-seclab.dev/attack';

const succeedsSchema = z
  .object({
    exitCode: z.number().int().default(0),
    outputContains: z.string().optional(),
  })
  .strict()
  .default({ exitCode: 0 });

/**
 * A command's output as a transcript shows it. Lines `evidence: LABEL=VALUE` and `secret: LABEL=VALUE`
 * become evidence (the second kind redacted); the last other line is the message.
 */
export function readOutput(out: string): { last: string; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let last = '';
  for (const line of out
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)) {
    const m = /^(evidence|secret): ([^=]+)=(.*)$/.exec(line);
    if (m) evidence.push({ label: m[2].trim(), value: m[3], secret: m[1] === 'secret' });
    else last = line;
  }
  return { last: last.slice(0, 240), evidence };
}

/** The command as a transcript names it: what it does, else the command itself, shortened. */
const shown = (p: { command: string[]; describe?: string }) => p.describe ?? `\`${p.command.join(' ').slice(0, 80)}\``;

function judge(what: string, exitCode: number, out: string, s: z.infer<typeof succeedsSchema>): StepOutcome {
  const { last, evidence } = readOutput(out);
  const ok = exitCode === s.exitCode && (!s.outputContains || out.includes(s.outputContains));
  return { succeeded: ok, message: `${what}: exit ${exitCode}${last ? ` — ${last}` : ''}`, evidence: ok ? evidence : [] };
}

const podSchema = z
  .object({
    namespace: z.string(),
    image: z.string().default('registry.kube-seclab.local/toolbox:1.0'),
    command: z.array(z.string()).min(1),
    /** Labels of the attacker's pod (to look like a tier a NetworkPolicy lets through, say). */
    labels: z.record(z.string(), z.string()).default({}),
    serviceAccountName: z.string().optional(),
    /** Fields of the pod spec the attacker sets (hostPID, hostNetwork, volumes…). */
    spec: z.record(z.string(), z.unknown()).default({}),
    /** The container's securityContext (privileged: true, …); default: none, the runtime's defaults. */
    securityContext: z.record(z.string(), z.unknown()).optional(),
    volumeMounts: z.array(z.record(z.string(), z.unknown())).optional(),
    /** Environment of the attacker's command taken from an earlier step's loot (NAME: the loot's name), e.g. a key found in an image. */
    envFrom: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name'), z.string()).default({}),
    /**
     * A network attack: the pod starts idle and the command runs in it (as `kubectl exec` does) only once
     * the node's NetworkPolicy enforcement holds it and its peers (as the `probe` check waits) — a pod that
     * acts the moment it starts is judged by the rules of before it existed.
     */
    afterPolicySync: z.boolean().default(false),
    timeoutSeconds: z.number().int().positive().default(20),
    succeeds: succeedsSchema,
    /** What the command does, for the transcript (default: the command itself, shortened). */
    describe: z.string().optional(),
  })
  .strict();
type PodP = z.infer<typeof podSchema>;

/**
 * The attacker's own pod: created in the lab's cluster (if admission lets it in), its command run,
 * its output read, the pod deleted. It needs a real node, so it runs on kind.
 */
export const pod: AttackStepKind<PodP> = {
  type: 'pod',
  schema: podSchema,
  requires: () => 'kind',
  timeoutMs: (p) => (p.timeoutSeconds + EXEC_STATUS_GRACE_S + 75 + (p.afterPolicySync ? POLICY_SYNC_S + 5 : 0)) * 1000,
  async run(ctx, p) {
    const name = `kube-seclab-attack-${randomBytes(3).toString('hex')}`;
    const env: { name: string; value?: string; valueFrom?: unknown }[] = [{ name: 'NODE_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }];
    for (const [n, loot] of Object.entries(p.envFrom)) {
      const v = ctx.vars.get(loot);
      // `needs` keeps a step from running without its earlier steps' loot: missing loot is an attack.yaml mistake.
      if (v === undefined) throw new Error(`no loot named ${loot} from an earlier step (give this step \`needs\` on the step that finds it)`);
      env.push({ name: n, value: v });
    }
    const obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: p.namespace, labels: { ...p.labels, [MANAGED_LABEL]: 'kube-seclab', [ATTACK_LABEL]: 'true' } },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
        ...(p.serviceAccountName ? { serviceAccountName: p.serviceAccountName } : {}),
        ...p.spec,
        containers: [
          {
            name: 'attacker',
            image: p.image,
            imagePullPolicy: 'IfNotPresent',
            command: p.afterPolicySync ? ['sleep', String(p.timeoutSeconds + POLICY_SYNC_S + 120)] : p.command,
            env,
            ...(p.securityContext ? { securityContext: p.securityContext } : {}),
            ...(p.volumeMounts ? { volumeMounts: p.volumeMounts } : {}),
          },
        ],
      },
    };
    try {
      await ctx.cluster.create(obj);
    } catch (e) {
      const info = apiError(e);
      // The API server failing (a webhook it could not call) is no decision: the step errors, it is not "refused".
      if (info.code !== undefined && info.code >= 500) throw e;
      if (info.code === 403 || info.code === 400 || info.code === 422 || /forbidden|denied|violates|admission/i.test(info.message))
        return { succeeded: false, message: `the attacker's pod is refused: ${info.message.slice(0, 240)}` };
      throw e;
    }
    try {
      const end = Date.now() + (p.timeoutSeconds + 60) * 1000;
      let st: any;
      let live: any;
      while (Date.now() < end) {
        live = await ctx.cluster.core.readNamespacedPod({ name, namespace: p.namespace });
        st = live.status;
        if (st?.phase === 'Succeeded' || st?.phase === 'Failed') break;
        if (p.afterPolicySync && st?.containerStatuses?.[0]?.state?.running && st?.podIP) break;
        await sleep(250);
      }
      if (p.afterPolicySync && st?.containerStatuses?.[0]?.state?.running) {
        const synced = await awaitPolicySync(ctx, live);
        if (synced.state === 'timeout')
          throw new Error(
            `after ${POLICY_SYNC_S}s the node's network plugin still did not enforce its policies for ${podList(synced.missing)}: the attempt would be judged by rules of before it existed`,
          );
        if (synced.state === 'unknown') await sleep(2000);
        const r = await execIn(ctx, live, 'attacker', p.command, p.timeoutSeconds * 1000);
        if (r.error) throw new Error(`${shown(p)}: could not run in the attacker's pod: ${r.error}`);
        return judge(`${shown(p)} in a pod of the attacker's`, r.exitCode, r.out, p.succeeds);
      }
      const term = st?.containerStatuses?.[0]?.state?.terminated;
      if (!term) return { succeeded: false, message: `the attacker's pod did not finish (phase ${st?.phase ?? 'unknown'})` };
      const log = await ctx.cluster.core.readNamespacedPodLog({ name, namespace: p.namespace, container: 'attacker' }).catch(() => '');
      return judge(`${shown(p)} in a pod of the attacker's`, term.exitCode, String(log), p.succeeds);
    } finally {
      await ctx.cluster.delete(obj).catch(() => {});
    }
  },
};

const execSchema = z
  .object({
    /** The workload the attacker has a shell in (an RCE in the app). */
    workload: workloadInContainerSchema,
    command: z.array(z.string()).min(1),
    timeoutSeconds: z.number().int().positive().default(20),
    succeeds: succeedsSchema,
    /** What the command does, for the transcript (default: the command itself, shortened). */
    describe: z.string().optional(),
  })
  .strict();
type ExecP = z.infer<typeof execSchema>;

/** A command in the workload's own running pod: what a shell gained through the app can do there. On kind. */
export const exec: AttackStepKind<ExecP> = {
  type: 'exec',
  schema: execSchema,
  requires: () => 'kind',
  timeoutMs: (p) => (p.timeoutSeconds + EXEC_STATUS_GRACE_S + 10) * 1000,
  async run(ctx, p) {
    const { pods, why } = await runningPods(ctx, p.workload);
    if (!pods.length) return { succeeded: false, message: why ?? 'no running pod' };
    const target = pods[0];
    const container = p.workload.container ?? target.spec?.containers?.[0]?.name;
    const r = await execIn(ctx, target, container, p.command, p.timeoutSeconds * 1000);
    const what = `${shown(p)} in pod ${target.metadata.name}`;
    if (r.error) return { succeeded: false, message: `${what}: could not run: ${r.error}` };
    return judge(what, r.exitCode, r.out, p.succeeds);
  },
};
