import { z } from 'zod';
import type { AttackContext, AttackStepKind, Evidence } from '../types.js';
import { startWorkspaceApp } from '../../checks/appProbe.js';
import { buildOf, readBuilds, sourceHash } from '../../builds.js';
import { workspaceFile } from '../../workspace.js';
import { UserError } from '../../errors.js';

const validRegex = (s: string) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
};

const requestSchema = z
  .object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    /** Path and query, as the attacker types it after the host (`/search?q=…`). */
    path: z.string().startsWith('/'),
    body: z.string().optional(),
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();

const secretRef = z.object({ namespace: z.string(), name: z.string(), key: z.string() }).strict();

const schema = z
  .object({
    /** The app's folder in the workspace: what `kube-seclab build` builds and the lab runs for checks. */
    path: z.string(),
    /** The file `node` starts (default: package.json's main, else server.js). */
    main: z.string().optional(),
    /** Environment of the app besides PATH, HOME and NODE_ENV. */
    env: z.record(z.string(), z.string()).default({}),
    /** Environment taken from the lab's cluster: the values the deployed app gets from its Secrets. */
    secretEnv: z.record(z.string(), secretRef).default({}),
    /**
     * The Deployment that runs these sources. The attacker's target is what runs: the workspace's
     * sources are replayed only while they are what the Deployment runs (the lab's build of them);
     * a workspace that differs from what runs makes the step say so rather than judge the wrong code.
     */
    runs: z.object({ namespace: z.string(), name: z.string(), container: z.string().optional() }).strict().optional(),
    /** The attacker's requests, tried in turn (payload variants): the first that works is the exploit. */
    requests: z.array(z.union([z.string().startsWith('/'), requestSchema])).min(1),
    /** What proves the exploit worked: an answer with this status (optional) whose body matches `match`. */
    success: z
      .object({
        status: z.number().int().optional(),
        /** A regular expression over the body; its first group (else the whole match) is the loot. */
        match: z.string().refine(validRegex, 'not a valid regular expression'),
        /** What the loot is, in the attacker's words. */
        label: z.string().min(1),
        /** The loot is a secret: shown redacted to its first characters. */
        secret: z.boolean().default(false),
      })
      .strict(),
    timeoutSeconds: z.number().int().positive().max(120).default(20),
  })
  .strict();
type P = z.infer<typeof schema>;
type Req = z.infer<typeof requestSchema>;

const asRequest = (r: string | Req): Req => (typeof r === 'string' ? { method: 'GET', path: r, headers: {} } : r);
/** A request as the attacker reads it: the query decoded, control characters (a newline payload) shown escaped. */
const readable = (path: string) => {
  let d = path;
  try {
    d = decodeURIComponent(path);
  } catch {
    /* not valid percent-encoding: as sent */
  }
  return d.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
};
const shortBody = (b: string) => {
  const one = b.replace(/\s+/g, ' ').trim();
  return one.length > 100 ? `${one.slice(0, 99)}…` : one;
};

/** Whether the workspace's sources are what the Deployment runs — else why the step cannot judge them (or, when nothing runs, that there is nothing to attack). */
async function whatRuns(ctx: AttackContext, p: P): Promise<string | undefined> {
  const t = p.runs!;
  const what = `Deployment ${t.namespace}/${t.name}`;
  const d: any = await ctx.cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: t.name, namespace: t.namespace } });
  if (!d || (d.spec?.replicas ?? 1) < 1) return `${what} ${d ? 'is scaled to 0' : 'is gone'}: nothing serves ${p.path} to attack`;
  const cs: { name: string; image: string }[] = d.spec?.template?.spec?.containers ?? [];
  const c = t.container ? cs.find((x) => x.name === t.container) : cs[0];
  if (!c) throw new UserError(`${what} has no container ${t.container ?? ''}`.trim());
  const build = buildOf(await readBuilds(ctx.workspace), c.image, ctx.engine.name);
  if (!build)
    throw new UserError(
      `${what} runs ${c.image}, which the lab did not build from your workspace: the attack replays what runs from its sources, and the lab has none for it — \`kube-seclab build ${p.path} --deploy ${t.namespace}/${t.name}\``,
    );
  const dir = workspaceFile(ctx, p.path);
  const now = await sourceHash(dir).catch(() => undefined);
  if (now !== build.sourceHash)
    throw new UserError(
      `${what} runs a build of ${build.app} from ${build.builtAt.replace('T', ' ').slice(0, 19)} UTC, and your workspace's ${p.path} changed since: the attacker hits what runs, and the lab can replay only the sources it runs — build and deploy them (\`kube-seclab build ${p.path} --deploy ${t.namespace}/${t.name}\`)`,
    );
  return undefined;
}

/**
 * The attacker's own requests to the learner's app: the app is started from the workspace exactly as
 * the lab's appProbe check starts it (startWorkspaceApp: 127.0.0.1 only, a free port, a time limit,
 * its own process group killed afterwards), the requests go to it alone (no redirects followed), and
 * success is an answer that proves the exploit worked — the command's output, the file's content, the
 * internal object — shown as evidence (redacted when secret). With `runs`, only while the workspace's
 * sources are what the cluster runs.
 */
export const app: AttackStepKind<P> = {
  type: 'app',
  schema,
  timeoutMs: (p) => (p.timeoutSeconds + 15) * 1000,
  async run(ctx, p) {
    if (p.runs) {
      const gone = await whatRuns(ctx, p);
      if (gone) return { succeeded: false, message: gone };
    }
    const env: Record<string, string> = { ...p.env };
    for (const [name, ref] of Object.entries(p.secretEnv)) {
      const s: any = await ctx.cluster.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: ref.name, namespace: ref.namespace } });
      const v = s?.data?.[ref.key];
      if (typeof v !== 'string') throw new UserError(`Secret ${ref.namespace}/${ref.name} has no key ${ref.key}: the app's ${name} is unknown`);
      env[name] = Buffer.from(v, 'base64').toString('utf8');
    }
    const started = await startWorkspaceApp(ctx, { path: p.path, main: p.main, env, limitMs: p.timeoutSeconds * 1000 });
    // An app that does not start is no defence: nobody knows what it would have answered.
    if ('failure' in started) throw new UserError(started.failure);
    const { port } = started.app;
    const re = new RegExp(p.success.match);
    const tried: string[] = [];
    try {
      for (const r of p.requests.map(asRequest)) {
        const line = `${r.method} ${readable(r.path)}`;
        let status: number;
        let body: string;
        try {
          const res = await fetch(`http://127.0.0.1:${port}${r.path}`, {
            method: r.method,
            headers: r.headers,
            body: r.body,
            redirect: 'manual',
            signal: AbortSignal.timeout(5000),
          });
          status = res.status;
          body = (await res.text()).slice(0, 1_000_000);
        } catch (e) {
          const why = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
          tried.push(`${line} → no answer (${why}${started.app.exited() ? ', the app stopped' : ''})`);
          if (started.app.exited()) break;
          continue;
        }
        const m = (p.success.status === undefined || status === p.success.status) && re.exec(body);
        if (m) {
          const evidence: Evidence[] = [
            { label: p.success.label, value: (m[1] ?? m[0]).trim(), secret: p.success.secret },
            { label: 'request', value: line },
          ];
          return { succeeded: true, message: `${line} to ${p.path} (run on 127.0.0.1:${port}) → HTTP ${status}: ${p.success.label}`, evidence };
        }
        tried.push(`${line} → HTTP ${status}${body ? ` ${shortBody(body)}` : ''}`);
      }
    } finally {
      await started.app.stop();
    }
    const n = tried.length;
    return { succeeded: false, message: `${n === 1 ? 'no' : `none of ${n} requests got`} ${p.success.label}: ${tried.join('; ')}`.slice(0, 600) };
  },
};
