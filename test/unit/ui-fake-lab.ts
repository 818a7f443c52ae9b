/**
 * A fake Lab for the TUI's unit tests: plain data and scripted answers, no Kubernetes. The store's
 * effects call it exactly as they call the real Lab (src/ui/effects.ts LabPort).
 */
import type { LessonResult } from '../../src/core/checks/runner.js';
import type { CheckResult } from '../../src/core/checks/types.js';
import type { LessonSummary } from '../../src/core/lab.js';
import type { ProgressData } from '../../src/core/progress/store.js';
import type { EngineStatus, TaskReporter } from '../../src/core/engine/index.js';
import type { LabPort } from '../../src/ui/effects.js';
import type { UiLesson } from '../../src/ui/store.js';
import type { Workshop } from '../../src/core/workshop-rules.js';
import { ExamRunner, memoryExamStore } from '../../src/core/exam.js';
import type { AttackResult, AttackStepResult } from '../../src/core/attacks/types.js';

export const LESSONS: UiLesson[] = [
  {
    id: 'encryption-at-rest',
    title: 'Encrypt the Secrets etcd keeps on disk',
    layer: 'cloud',
    difficulty: 'advanced',
    requires: 'api',
    markdown: '# Encrypt the Secrets\n\nSecrets are stored in plain text in etcd.\n',
    debrief: 'Encryption at rest protects backups.',
    objectives: [{ id: 'enc', text: 'Secrets are encrypted in etcd' }],
    hints: ['Look at --encryption-provider-config', 'Write an EncryptionConfiguration'],
    checks: [{ id: 'encrypted', title: 'encrypted', objective: 'enc', requires: 'api' }],
  },
  {
    id: 'node-hardening',
    title: 'Harden the kubelet on the node',
    layer: 'cloud',
    difficulty: 'advanced',
    requires: 'kind',
    markdown: '# Harden the kubelet\n\nNeeds a real node.\n',
    debrief: 'done',
    objectives: [{ id: 'k', text: 'The kubelet refuses anonymous requests' }],
    hints: ['a', 'b'],
    checks: [{ id: 'anon', title: 'anon', objective: 'k', requires: 'kind' }],
  },
  {
    id: 'rbac-least-privilege',
    title: "Take cluster-admin away from the shop's API",
    layer: 'cluster',
    difficulty: 'beginner',
    requires: 'api',
    minutes: 15,
    markdown: [
      "# Take cluster-admin away from the shop's API",
      '',
      '## Why it matters',
      '',
      ...Array.from(
        { length: 12 },
        (_, i) =>
          `Paragraph ${i + 1}: every pod runs as a **ServiceAccount**, and whatever it may do, anyone who breaks into the pod may do too. Use \`kubectl auth can-i\`.\n`,
      ),
      '## What to do',
      '',
      '1. Find the ClusterRoleBinding',
      '2. Remove it',
      '',
      'THE-END-OF-THE-LESSON',
    ].join('\n'),
    debrief: '## Debrief\n\nLeast privilege limits the blast radius of a compromised pod.',
    objectives: [
      { id: 'no-secrets', text: 'The api ServiceAccount can no longer read Secrets' },
      { id: 'still-works', text: 'The API can still read its ConfigMaps and keeps running' },
    ],
    hints: [
      'Who is bound to cluster-admin? `kubectl get clusterrolebindings -o wide`',
      'A Role + RoleBinding in namespace shop is all it needs',
      'Delete the ClusterRoleBinding app-admin',
    ],
    checks: [
      { id: 'no-secrets', title: 'no secrets', objective: 'no-secrets', requires: 'api' },
      { id: 'reads-configmaps', title: 'reads configmaps', objective: 'still-works', requires: 'api' },
    ],
    attack: {
      title: "Steal the payment gateway's key with the API's own token",
      story: "You have a shell in one of the API's pods. What can its ServiceAccount token do?",
      steps: [
        { id: 'token', try: 'Read the ServiceAccount token mounted in the api pod' },
        { id: 'read-secret', try: "Read the payment gateway's API key" },
      ],
    },
  },
  {
    id: 'pod-security-standards',
    title: 'Stop the payments namespace from admitting privileged pods',
    layer: 'cluster',
    difficulty: 'beginner',
    requires: 'api',
    markdown: '# Pod Security\n\nThe ledger runs privileged.\n',
    debrief: 'Baseline blocks it.',
    objectives: [{ id: 'enforce', text: 'Namespace payments enforces Baseline' }],
    hints: ['Label the namespace', 'pod-security.kubernetes.io/enforce=baseline'],
    checks: [{ id: 'label', title: 'label', objective: 'enforce', requires: 'api' }],
  },
];

export function checkResult(lesson: UiLesson, failing: Record<string, string> = {}, opts: { unreachable?: boolean } = {}): LessonResult {
  const checks: CheckResult[] = lesson.checks.map((c) => {
    const msg = failing[c.id];
    const status = opts.unreachable ? 'unreachable' : msg ? 'failed' : 'passed';
    return {
      id: c.id,
      title: c.title,
      objective: c.objective,
      type: 'fake',
      requires: c.requires,
      passed: status === 'passed',
      status,
      message: opts.unreachable ? 'cluster unreachable: connection refused' : (msg ?? `${c.title}: ok`),
      durationMs: 3,
    };
  });
  return { lesson: lesson.id, passed: checks.every((c) => c.passed), unreachable: !!opts.unreachable, durationMs: 5, checks };
}

/** The rbac lesson's attack as the core reports it: working on the scenario, or stopped by the fix. */
export function attackSteps(works: boolean): AttackStepResult[] {
  return [
    {
      id: 'token',
      title: 'Read the ServiceAccount token mounted in the api pod',
      type: 'token',
      goal: false,
      status: 'succeeded',
      succeeded: true,
      message: 'read /var/run/secrets/kubernetes.io/serviceaccount/token in pod api-1: a token for system:serviceaccount:shop:api',
      evidence: ['token: eyJh… (656 chars)'],
      note: 'every request below is sent with this token',
      durationMs: 40,
    },
    works
      ? {
          id: 'read-secret',
          title: "Read the payment gateway's API key",
          type: 'api',
          goal: true,
          status: 'succeeded',
          succeeded: true,
          message: 'GET /api/v1/namespaces/shop/secrets/payment-gateway → 200 OK',
          evidence: ['apiKey: sk_l… (22 chars)'],
          note: "charge cards through the shop's payment account",
          durationMs: 12,
        }
      : {
          id: 'read-secret',
          title: "Read the payment gateway's API key",
          type: 'api',
          goal: true,
          status: 'failed',
          succeeded: false,
          message: 'GET /api/v1/namespaces/shop/secrets/payment-gateway → 403 Forbidden: secrets "payment-gateway" is forbidden',
          evidence: [],
          durationMs: 9,
        },
  ];
}

export function attackResult(id: string, steps: AttackStepResult[]): AttackResult {
  const won = steps.find((s) => s.goal && s.succeeded);
  const stop = steps.find((s) => s.goal && !s.succeeded);
  return {
    lesson: id,
    title: 'attack',
    story: 'story',
    engine: 'local',
    steps,
    durationMs: 60,
    succeeded: !!won,
    summary: won ? `${won.title}: ${won.evidence[0]}` : `stopped: ${stop!.title} — ${stop!.message}`,
  };
}

export interface Deferred {
  resolve(): void;
  reject(e: unknown): void;
  promise: Promise<void>;
}
export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { resolve, reject, promise };
}

export interface FakeLabOptions {
  healthy?: boolean;
  progress?: Partial<ProgressData>;
  /** Steps lab.up reports; each may wait on a deferred the test controls, or fail. */
  upSteps?: { title: string; wait?: Promise<void>; fail?: unknown }[];
  /** Limit the lab to a workshop, as `--workshop` does. */
  workshop?: Workshop;
}

export class FakeLab implements LabPort {
  calls: { method: string; args: unknown[] }[] = [];
  data: ProgressData;
  healthy: boolean;
  upSignal?: AbortSignal;
  /** The current watch's callback: tests "change the cluster" by calling emit(). */
  private watcher?: { id: string; onResult: (r: LessonResult, reason: string) => void };
  /** What the next attack reports, per lesson (default: it works); `attackGate` holds each step until the test lets it go. */
  attacks = new Map<string, AttackStepResult[] | Error>();
  attackGate?: () => Promise<void>;
  /** What the next checks answer, per lesson (default: every check failing). */
  answers = new Map<string, LessonResult>();
  hintsUsed = new Map<string, number>();

  workshop?: Workshop;
  /** The lessons the learner sees: all, or the workshop's in its order. */
  get lessons(): UiLesson[] {
    return this.workshop ? this.workshop.lessons.map((w) => LESSONS.find((l) => l.id === w.id)!) : LESSONS;
  }

  catalogue = ((lab: FakeLab) => ({
    get lessons() {
      return lab.lessons;
    },
    get: (id: string) => lab.lessons.find((l) => l.id === id),
    next: (id: string) => {
      const ls = lab.lessons;
      const i = ls.findIndex((l) => l.id === id);
      return i >= 0 ? ls[i + 1] : undefined;
    },
  }))(this);

  /** The exam's clock (tests move it on); its state lives in memory. */
  clock = Date.parse('2030-01-01T09:00:00Z');
  examStore = memoryExamStore();
  exams(): ExamRunner {
    return new ExamRunner(this, this.examStore, { now: () => this.clock, randomSeed: () => '7' });
  }

  progress = {
    load: async () => structuredClone(this.data),
    update: async (fn: (d: ProgressData) => void) => {
      fn(this.data);
      return structuredClone(this.data);
    },
  };

  workspace = '/tmp/fake-lab/workspace';
  envCommand = 'eval "$(cd /tmp/fake-lab/checkout && npx kube-seclab env)"';

  readonly engineName = 'local' as const;
  readonly kubeconfigPath = '/tmp/fake-lab/kubeconfig';
  async status(): Promise<EngineStatus> {
    return {
      engine: 'local',
      exists: this.healthy,
      running: this.healthy,
      healthy: this.healthy,
      kubeconfig: '/tmp/fake-lab/kubeconfig',
      endpoints: {},
      components: [],
      problems: [],
    };
  }
  unavailableReason(l: { requires: string }): string | undefined {
    return l.requires === 'api' ? undefined : 'needs kind';
  }

  constructor(readonly opts: FakeLabOptions = {}) {
    this.workshop = opts.workshop;
    this.healthy = opts.healthy ?? true;
    this.data = { version: 1, lessons: {}, ...opts.progress } as ProgressData;
  }

  private record(method: string, ...args: unknown[]) {
    this.calls.push({ method, args });
  }
  called(method: string) {
    return this.calls.filter((c) => c.method === method);
  }

  failing(id: string): LessonResult {
    const l = this.catalogue.get(id)!;
    return checkResult(l, Object.fromEntries(l.checks.map((c) => [c.id, `${c.id} is not fixed yet (ClusterRoleBinding app-admin)`])));
  }
  result(id: string) {
    return this.answers.get(id) ?? this.failing(id);
  }

  /** The cluster changed: the watch re-checks and reports. */
  emit(result: LessonResult, reason = 'MODIFIED /apis/rbac') {
    if (!this.watcher || this.watcher.id !== result.lesson) throw new Error(`no watch on ${result.lesson}`);
    this.answers.set(result.lesson, result);
    this.watcher.onResult(result, reason);
  }
  get watching() {
    return this.watcher?.id;
  }

  async list(): Promise<LessonSummary[]> {
    return this.lessons.map((l) => ({
      id: l.id,
      layer: l.layer,
      title: l.title,
      requires: l.requires,
      status: this.unavailableReason(l) ? 'unavailable' : this.data.lessons[l.id]?.status === 'done' ? 'done' : this.data.current === l.id ? 'current' : 'todo',
    }));
  }

  async up(reporter: TaskReporter, signal?: AbortSignal): Promise<void> {
    this.record('up');
    this.upSignal = signal;
    for (const step of this.opts.upSteps ?? [{ title: 'Start the control plane' }]) {
      await reporter.task(step.title, async (update) => {
        update('working');
        if (step.wait)
          await Promise.race([
            step.wait,
            new Promise((_, rej) => signal?.addEventListener('abort', () => rej(Object.assign(new Error('aborted'), { name: 'AbortError' })))),
          ]);
        if (step.fail) throw step.fail;
      });
      signal?.throwIfAborted();
    }
    this.healthy = true;
  }

  private touch(id: string) {
    this.data.lessons[id] ??= { status: 'started', startedAt: 'x', attempts: 0, hintsUsed: 0, solutionViewed: false, timeSpentMs: 0, lastActivity: 'x' };
    return this.data.lessons[id];
  }

  /** Like the real Lab without a cluster change: set up once it has a progress entry. */
  async isStarted(id: string) {
    return !!this.data.lessons[id];
  }

  async start(id: string, reporter: TaskReporter) {
    this.record('start', id);
    await reporter.task(`Set up the scenario of ${id}`, async () => {});
    this.touch(id);
    this.data.current = id;
  }

  private recordResult(r: LessonResult) {
    if (r.passed) this.touch(r.lesson).status = 'done';
  }

  async check(id?: string) {
    this.record('check', id);
    const r = this.result(id!);
    this.recordResult(r);
    return r;
  }

  watch(id: string, onResult: (r: LessonResult, reason: string) => void, signal: AbortSignal): Promise<void> {
    this.record('watch', id);
    const w = {
      id,
      onResult: (r: LessonResult, reason: string) => {
        this.recordResult(r);
        onResult(r, reason);
      },
    };
    this.watcher = w;
    queueMicrotask(() => {
      if (!signal.aborted) w.onResult(this.result(id), 'start');
    });
    return new Promise((res) =>
      signal.addEventListener(
        'abort',
        () => {
          if (this.watcher === w) this.watcher = undefined;
          res();
        },
        { once: true },
      ),
    );
  }

  async attack(id?: string, opts: { onStep?: (s: AttackStepResult) => void } = {}): Promise<AttackResult> {
    this.record('attack', id);
    const script = this.attacks.get(id!) ?? attackSteps(true);
    if (script instanceof Error) throw script;
    for (const s of script) {
      await this.attackGate?.();
      opts.onStep?.(s);
    }
    const r = attackResult(id!, script);
    const p = this.touch(id!);
    p.attack = { ...p.attack, [r.succeeded ? 'succeeded' : 'failed']: { at: new Date(this.clock++).toISOString(), summary: r.summary } };
    return r;
  }

  async debrief(id: string) {
    this.record('debrief', id);
    const a = this.data.lessons[id]?.attack;
    return `${this.catalogue.get(id)!.debrief}${a?.succeeded && a.failed ? `\n\n**The attack, before and after your fix:** before — ${a.succeeded.summary}; after — ${a.failed.summary}.` : ''}`;
  }

  async hint(id?: string) {
    this.record('hint', id);
    const l = this.catalogue.get(id!)!;
    const used = this.hintsUsed.get(l.id) ?? 0;
    const index = Math.min(used, l.hints.length - 1);
    this.hintsUsed.set(l.id, index + 1);
    return { index, total: l.hints.length, text: l.hints[index] };
  }

  async solution(id: string, opts: { apply?: boolean } = {}) {
    this.record('solution', id, opts);
    return {
      description: 'Bind a Role with get/list on configmaps instead of cluster-admin.',
      files: [
        {
          path: `lessons/cluster/01-${id}/solution/role.yaml`,
          text: 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: api-config-reader\n',
        },
      ],
    };
  }

  async reset(id: string, reporter: TaskReporter) {
    this.record('reset', id);
    await reporter.task(`Reset ${id} to its insecure starting point`, async () => {});
    this.answers.delete(id);
  }
}
