import { z } from 'zod';
import type { CheckPrimitive } from './types.js';

/** Names that usually hold a credential: DB_PASSWORD, smtp-passwd, API_KEY, client_secret, GITHUB_TOKEN… */
export const SECRET_NAME = 'passw|passphrase|pwd|secret|token|api[-_.]?key|private[-_.]?key|credential';
/** …except names that only point at one: PASSWORD_FILE, SECRETS_DIR, TOKEN_PATH, SECRET_NAME, TOKEN_URL. */
const POINTER = /[-_.](file|path|dir|name|ref|url)$/i;
/** A connection string with a password in it: postgres://user:password@host, redis://:password@host. */
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i;

const schema = z
  .object({
    namespace: z.string(),
    /** Where to look: ConfigMap keys and values, and/or containers' env vars (default both). */
    look: z
      .array(z.enum(['configMaps', 'env']))
      .min(1)
      .default(['configMaps', 'env']),
    /** Case-insensitive pattern for secret-looking names (default: SECRET_NAME above). */
    pattern: z.string().optional(),
  })
  .strict();
type P = z.infer<typeof schema>;

const WORKLOADS: [string, string, (o: any) => any][] = [
  ['apps/v1', 'Deployment', (o) => o.spec?.template?.spec],
  ['apps/v1', 'StatefulSet', (o) => o.spec?.template?.spec],
  ['apps/v1', 'DaemonSet', (o) => o.spec?.template?.spec],
  ['batch/v1', 'Job', (o) => o.spec?.template?.spec],
  ['batch/v1', 'CronJob', (o) => o.spec?.jobTemplate?.spec?.template?.spec],
  ['v1', 'Pod', (o) => (o.metadata?.ownerReferences?.length ? undefined : o.spec)],
];

/**
 * Credentials kept in plain sight: a ConfigMap key that looks like a password (ConfigMaps are
 * readable by anyone with `view`, and end up in logs, dumps and Git), a connection string with
 * a password in it, or an env var set to a literal value (it is in the pod spec for everyone who
 * can read the workload) or taken from a ConfigMap. Secrets via `secretKeyRef` or volumes pass.
 */
export const plaintextSecrets: CheckPrimitive<P> = {
  type: 'plaintextSecrets',
  schema,
  watches: (p) => [
    ...(p.look.includes('configMaps') ? [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: p.namespace }] : []),
    ...(p.look.includes('env') ? WORKLOADS.map(([apiVersion, kind]) => ({ apiVersion, kind, namespace: p.namespace })) : []),
  ],
  scope: (p) => ({ namespaces: [p.namespace] }),
  async run(ctx, p) {
    const re = new RegExp(p.pattern ?? SECRET_NAME, 'i');
    const secretish = (name: string) => re.test(name) && !POINTER.test(name);
    const findings: string[] = [];

    if (p.look.includes('configMaps')) {
      for (const cm of await ctx.cluster.list<any>('v1', 'ConfigMap', p.namespace)) {
        const name = `ConfigMap ${p.namespace}/${cm.metadata?.name}`;
        const keys = Object.entries({ ...(cm.data ?? {}), ...(cm.binaryData ?? {}) }) as [string, string][];
        for (const [k, v] of keys) {
          if (!v) continue;
          if (secretish(k)) findings.push(`${name} holds ${k}`);
          else if (URL_WITH_PASSWORD.test(String(v))) findings.push(`${name} holds a connection string with a password in ${k}`);
        }
      }
    }

    if (p.look.includes('env')) {
      for (const [apiVersion, kind, podSpec] of WORKLOADS) {
        for (const o of await ctx.cluster.list<any>(apiVersion, kind, p.namespace)) {
          const spec = podSpec(o);
          if (!spec) continue;
          for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
            const where = `${kind} ${p.namespace}/${o.metadata?.name} container ${c.name}`;
            for (const e of c.env ?? []) {
              if (e.value) {
                if (secretish(e.name)) findings.push(`${where} sets ${e.name} to a literal value`);
                else if (URL_WITH_PASSWORD.test(e.value)) findings.push(`${where} has a password in the connection string ${e.name}`);
              } else if (e.valueFrom?.configMapKeyRef && secretish(e.name)) {
                findings.push(`${where} takes ${e.name} from ConfigMap ${e.valueFrom.configMapKeyRef.name}`);
              }
            }
          }
        }
      }
    }

    const where = p.look.length === 2 ? 'ConfigMaps or env vars' : p.look[0] === 'configMaps' ? 'ConfigMaps' : 'env vars';
    if (findings.length === 0) return { passed: true, message: `no secret-looking values in ${where} in namespace ${p.namespace}` };
    const shown = findings.slice(0, 4).join('; ') + (findings.length > 4 ? `; and ${findings.length - 4} more` : '');
    return { passed: false, message: `${shown} — credentials belong in a Secret` };
  },
};
