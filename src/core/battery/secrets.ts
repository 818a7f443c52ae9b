import type { KubernetesObject } from '@kubernetes/client-node';
import type { GenericShortcut, ShortcutTemplate, BatteryInput, Undo } from './types.js';
import type { ScenarioContext } from '../scenarios/apply.js';
import { applyObjects } from '../scenarios/apply.js';
import { UserError } from '../errors.js';

const NAME = 'kube-seclab-battery';

interface Credential {
  namespace: string;
  name: string;
  planted: string;
  home?: { namespace: string; secret: string; key: string };
}

/** The credentials a lesson's `secretValues` checks look for, with the namespace they are looked for in. */
function credentials(input: BatteryInput): Credential[] {
  const out: Credential[] = [];
  for (const c of input.lesson.checks) {
    if (c.type !== 'secretValues') continue;
    const p = c.params as { namespace: string; credentials: { name: string; planted: string; home?: Credential['home'] }[] };
    for (const cr of p.credentials) if (!out.some((x) => x.name === cr.name)) out.push({ namespace: p.namespace, ...cr });
  }
  return out;
}

/** The credential's value as the solved state has it: its home Secret's (a rotation makes it new), else the planted one. */
async function currentValue(ctx: ScenarioContext, c: Credential): Promise<string> {
  if (!c.home) return c.planted;
  const s: any = await ctx.cluster.read({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: c.home.secret, namespace: ctx.cluster.rename.ns(c.home.namespace) },
  });
  const v = s?.data?.[c.home.key];
  if (!v) throw new UserError(`Secret ${c.home.namespace}/${c.home.secret} has no ${c.home.key} to take a shortcut with`);
  return Buffer.from(v, 'base64').toString('utf8');
}

async function add(ctx: ScenarioContext, input: BatteryInput, objs: KubernetesObject[]): Promise<Undo> {
  const renamed = objs.map((o) => ctx.cluster.rename.value(o));
  await applyObjects(ctx, renamed, input.lesson.id);
  return async () => {
    for (const o of renamed) await ctx.cluster.delete(o);
  };
}

const configMap = (ns: string, data: Record<string, string>, binaryData?: Record<string, string>): KubernetesObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: NAME, namespace: ns }, data, ...(binaryData ? { binaryData } : {}) }) as KubernetesObject;

/** Where a moved value goes: each a cheap way to keep the password in plain sight that a key-name matcher misses. */
const MOVES: { id: string; what: string; objects: (ns: string, v: string, image: string) => KubernetesObject[] }[] = [
  { id: 'another-key', what: 'a ConfigMap under an innocent key name (LOGIN_OPTIONS)', objects: (ns, v) => [configMap(ns, { LOGIN_OPTIONS: v })] },
  { id: 'exempt-suffix', what: 'a ConfigMap under a pointer-looking key name (DB_PASSWORD_REF)', objects: (ns, v) => [configMap(ns, { DB_PASSWORD_REF: v })] },
  {
    id: 'url',
    what: 'a connection string in a ConfigMap (postgres://user:<value>@host)',
    objects: (ns, v) => [configMap(ns, { DATABASE_URL: `postgres://payroll:${encodeURIComponent(v)}@db.internal:5432/app` })],
  },
  {
    id: 'base64',
    what: "a base64 config file in a ConfigMap's binaryData",
    objects: (ns, v) => [configMap(ns, {}, { 'app.conf': Buffer.from(`[db]\nuser=app\npassword=${v}\n`).toString('base64') })],
  },
  {
    id: 'copy-in-another-secret',
    what: 'a copy in another Secret of the namespace',
    objects: (ns, v) => [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: NAME, namespace: ns }, stringData: { value: v } } as KubernetesObject],
  },
  {
    id: 'args',
    what: 'the args and an annotation of a (suspended) CronJob',
    objects: (ns, v, image) => [
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: NAME, namespace: ns, annotations: { 'kube-seclab.dev/login': v } },
        spec: {
          schedule: '0 3 * * *',
          suspend: true,
          jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'job', image, args: ['--login', `--password=${v}`] }] } } } },
        },
      } as KubernetesObject,
    ],
  },
];

export const secretMoved: ShortcutTemplate = {
  id: 'secret-moved',
  description:
    "the credential's value (as the solved state holds it) kept in plain sight somewhere a key-name matcher misses: another key, a pointer-looking key, a URL, base64, a copy in another Secret, args and annotations",
  instances: (input) =>
    credentials(input)
      .slice(0, 1)
      .flatMap((c) =>
        MOVES.map((m): GenericShortcut => ({
          template: 'secret-moved',
          name: `secret-moved ${m.id} (${c.name})`,
          description: `${c.name} also in ${m.what}, namespace ${c.namespace}`,
          async apply(ctx) {
            const v = await currentValue(ctx, c);
            const image =
              (input.scenario.find((o: any) => o.kind === 'Deployment' && o.metadata?.namespace === c.namespace) as any)?.spec?.template?.spec?.containers?.[0]
                ?.image ?? 'registry.kube-seclab.local/toolbox:1.0';
            return add(ctx, input, m.objects(c.namespace, v, image));
          },
        })),
      ),
};

export const secretAnnotation: ShortcutTemplate = {
  id: 'secret-annotation',
  description: "the credential's value written into an annotation of the fixed workload",
  instances: (input) => {
    const c = credentials(input)[0];
    const w = input.lesson.checks.find((x) => x.type === 'workload' && (x.params as { namespace: string }).namespace === c?.namespace)?.params as
      { kind?: string; namespace: string; name: string } | undefined;
    if (!c || !w) return [];
    return [
      {
        template: 'secret-annotation',
        name: `secret-annotation ${w.namespace}/${w.name} (${c.name})`,
        description: `${c.name} in an annotation of ${w.kind ?? 'Deployment'} ${w.namespace}/${w.name}`,
        async apply(ctx) {
          const v = await currentValue(ctx, c);
          const ref = { apiVersion: 'apps/v1', kind: w.kind ?? 'Deployment', metadata: { name: w.name, namespace: ctx.cluster.rename.ns(w.namespace) } };
          await ctx.cluster.mergePatch({ ...ref, metadata: { ...ref.metadata, annotations: { 'kube-seclab.dev/battery-note': v } } } as KubernetesObject);
          return async () => {
            const live: any = await ctx.cluster.mergePatch({
              ...ref,
              metadata: { ...ref.metadata, annotations: { 'kube-seclab.dev/battery-note': null } },
            } as unknown as KubernetesObject);
            // The Deployment controller copied the annotation onto its ReplicaSets, and never removes it there.
            for (const rs of await ctx.cluster.list<any>('apps/v1', 'ReplicaSet', ref.metadata.namespace)) {
              if (!rs.metadata?.ownerReferences?.some((o: any) => o.uid === live?.metadata?.uid) || !rs.metadata?.annotations?.['kube-seclab.dev/battery-note'])
                continue;
              await ctx.cluster.mergePatch({
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                metadata: { name: rs.metadata.name, namespace: ref.metadata.namespace, annotations: { 'kube-seclab.dev/battery-note': null } },
              } as unknown as KubernetesObject);
            }
          };
        },
      },
    ];
  },
};

export const SECRET_TEMPLATES: ShortcutTemplate[] = [secretMoved, secretAnnotation];
