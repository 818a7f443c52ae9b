import { describe, it, expect, afterAll } from 'vitest';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { app } from '../../src/core/attacks/steps/app.js';
import { loadAttack } from '../../src/core/attacks/loader.js';
import { sourceHash } from '../../src/core/builds.js';
import { packageRoot } from '../../src/core/paths.js';
import { showEvidence } from '../../src/core/attacks/redact.js';
import type { AttackContext } from '../../src/core/attacks/types.js';
import { UserError } from '../../src/core/errors.js';
import { extract } from 'tar';

// The `app` step against the lessons' real sources (scenario, solution, alternatives, shortcuts), each
// copied into a fresh workspace and run on 127.0.0.1 exactly as the lab runs it; the cluster is a
// stand-in that only answers the Deployment, Secret and build record the step reads (the real API
// server's side is covered by dev verify of the app lessons).
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const TOKEN = 'lab-storage-token-4f1c9a7e';

function lab(appName: string, from: string) {
  const root = mkdtempSync(join(tmpdir(), 'attack-app-'));
  const ws = join(root, 'workspace');
  mkdirSync(ws);
  cpSync(from, join(ws, appName), { recursive: true });
  const objects: Record<string, any> = {
    Deployment: {
      metadata: { name: appName },
      spec: { replicas: 1, template: { spec: { containers: [{ name: appName, image: `registry.kube-seclab.local/${appName}@${DIGEST}` }] } } },
    },
    Secret: { data: { token: Buffer.from(TOKEN).toString('base64') } },
  };
  const ctx = {
    vars: new Map<string, string>(),
    engine: { name: 'local', supports: () => true },
    lessonId: 'l',
    lessonDir: '/x',
    workspace: ws,
    cluster: { rename: { value: (v: unknown) => v }, read: async (o: any) => objects[o.kind] },
  } as unknown as AttackContext;
  /** Record a build of the workspace's sources as they are now: what the Deployment runs. */
  const build = async () =>
    writeFileSync(
      join(root, 'builds.json'),
      JSON.stringify({
        version: 1,
        builds: [
          {
            app: appName,
            path: appName,
            image: `registry.kube-seclab.local/${appName}@${DIGEST}`,
            digest: DIGEST,
            sourceHash: await sourceHash(join(ws, appName)),
            engine: 'local',
            builtAt: '2026-12-06T12:00:00Z',
          },
        ],
      }),
    );
  return { root, ws, ctx, objects, build, dir: join(ws, appName) };
}

async function stepsOf(lesson: string) {
  const { attack, problems } = await loadAttack(join(packageRoot, 'lessons', 'app', lesson), packageRoot);
  expect(problems).toEqual([]);
  return attack!.steps.filter((s) => s.type === 'app');
}

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

describe('attack step app: the attacker’s requests to the workspace app, run on 127.0.0.1', () => {
  it('sast: the injected command runs on the scenario and after the scanner-words and semicolon shortcuts, not on the solution or alternatives', async () => {
    const [run, read] = await stepsOf('02-sast');
    const l = lab('logsearch', join(packageRoot, 'scenarios', 'sast', 'app', 'logsearch'));
    roots.push(l.root);
    await l.build();
    const hit = await app.run(l.ctx, run.params as any);
    expect(hit.succeeded).toBe(true);
    expect(hit.message).toMatch(/^GET \/search\?q=.* to logsearch \(run on 127\.0\.0\.1:\d+\) → HTTP 200: id, run by logsearch's shell$/);
    expect(hit.evidence![0].value).toMatch(/^uid=\d+\(/);
    // The same door reads the app's own files (its source here: nothing of the machine the lab runs on).
    const file = await app.run(l.ctx, read.params as any);
    expect(file.succeeded).toBe(true);
    expect(file.evidence![0].value).toMatch(/^\/\/ logsearch: the support desk searches/);
    const lesson = join(packageRoot, 'lessons', 'app', '02-sast');
    for (const [variant, works] of [
      ['shortcuts/scanner-words-blocked', true],
      ['shortcuts/semicolon-blacklist', true],
      ['shortcuts/eslint-disable-comment', true],
      ['solution', false],
      ['alternatives/spawn-argument-array', false],
      ['alternatives/search-in-node', false],
    ] as const) {
      writeFileSync(join(l.dir, 'server.js'), readFileSync(join(lesson, variant, 'workspace', 'server.js')));
      await l.build();
      const r = await app.run(l.ctx, run.params as any);
      expect({ variant, succeeded: r.succeeded }).toEqual({ variant, succeeded: works });
      if (!works) expect(r.message).toMatch(/^none of 2 requests got id, run by logsearch's shell: GET \/search\?q=.* → HTTP (200|400)/);
    }
  }, 60_000);

  it('dast: the token comes out of /debug/env and /proc/self/environ redacted; ../ still works after the dot-dot filter; the solution stops all', async () => {
    const [debugEnv, environ, source] = await stepsOf('03-dast');
    const l = lab('docshare', join(packageRoot, 'scenarios', 'dast', 'app', 'docshare'));
    roots.push(l.root);
    await l.build();
    for (const s of [debugEnv, environ]) {
      const r = await app.run(l.ctx, s.params as any);
      expect(r.succeeded).toBe(true);
      // the token the deployed app gets from its Secret, never shown whole
      expect(r.evidence![0]).toMatchObject({ value: TOKEN, secret: true });
      expect(showEvidence(r.evidence![0])).toMatch(/: lab-… \(26 chars\)$/);
    }
    expect((await app.run(l.ctx, source.params as any)).succeeded).toBe(true);
    const lesson = join(packageRoot, 'lessons', 'app', '03-dast');
    const verdicts: Record<string, boolean[]> = {};
    for (const variant of [
      'shortcuts/dotdot-filter',
      'shortcuts/forbidden-words',
      'solution',
      'alternatives/listing-allowlist',
      'alternatives/realpath-new-secret',
    ]) {
      writeFileSync(join(l.dir, 'server.js'), readFileSync(join(lesson, variant, 'workspace', 'server.js')));
      await l.build();
      verdicts[variant] = [];
      for (const s of [debugEnv, environ, source]) verdicts[variant].push((await app.run(l.ctx, s.params as any)).succeeded);
    }
    expect(verdicts).toEqual({
      'shortcuts/dotdot-filter': [false, true, true],
      'shortcuts/forbidden-words': [false, false, true],
      solution: [false, false, false],
      'alternatives/listing-allowlist': [false, false, false],
      'alternatives/realpath-new-secret': [false, false, false],
    });
  }, 60_000);

  it('sbom: the __proto__ payload passes the key check with json5 2.2.1, not with 2.2.3', async () => {
    const [exploit] = await stepsOf('04-sbom');
    const l = lab('prefs-api', join(packageRoot, 'scenarios', 'sbom', 'app', 'prefs-api'));
    roots.push(l.root);
    await l.build();
    const r = await app.run(l.ctx, exploit.params as any);
    expect(r.succeeded).toBe(true);
    expect(r.evidence![0].value).toMatch(/^\{"pricingService":"http:\/\/pricing\.accounts\.svc:8080"/);
    // the upgrade, as the solution does it: the genuine json5 2.2.3 tarball unpacked over node_modules/json5
    const j5 = join(l.dir, 'node_modules', 'json5');
    rmSync(j5, { recursive: true });
    mkdirSync(j5);
    await extract({ file: join(packageRoot, 'scenarios', 'sbom', 'npm-offline', 'json5-2.2.3.tgz'), cwd: j5, strip: 1 });
    await l.build();
    const after = await app.run(l.ctx, exploit.params as any);
    expect(after).toMatchObject({ succeeded: false, message: expect.stringMatching(/HTTP 400 .*unknown preference __proto__/) });
  }, 60_000);

  it('judges only the sources that run: a changed workspace or a foreign image is no verdict, a deleted Deployment is nothing to attack', async () => {
    const [run] = await stepsOf('02-sast');
    const l = lab('logsearch', join(packageRoot, 'scenarios', 'sast', 'app', 'logsearch'));
    roots.push(l.root);
    await l.build();
    writeFileSync(join(l.dir, 'server.js'), readFileSync(join(packageRoot, 'lessons', 'app', '02-sast', 'solution', 'workspace', 'server.js')));
    await expect(app.run(l.ctx, run.params as any)).rejects.toThrow(
      /runs a build of logsearch from 2026-12-06 12:00:00 UTC, and your workspace's logsearch changed since/,
    );
    l.objects.Deployment.spec.template.spec.containers[0].image = 'docker.io/library/logsearch:latest';
    await expect(app.run(l.ctx, run.params as any)).rejects.toThrow(UserError);
    delete l.objects.Deployment;
    expect(await app.run(l.ctx, run.params as any)).toEqual({
      succeeded: false,
      message: 'Deployment support/logsearch is gone: nothing serves logsearch to attack',
    });
  });

  it('an app that does not start is no defence: the step errors', async () => {
    const [run] = await stepsOf('02-sast');
    const l = lab('logsearch', join(packageRoot, 'scenarios', 'sast', 'app', 'logsearch'));
    roots.push(l.root);
    writeFileSync(join(l.dir, 'server.js'), "throw new Error('boom at start-up');\n");
    const { runs: _runs, ...params } = run.params as any;
    await expect(app.run(l.ctx, params)).rejects.toThrow(/stopped at start-up \(exit 1\)/);
  });

  it('schema: strict, requests are paths, the match must compile', () => {
    const base = { path: 'a', requests: ['/x'], success: { match: 'ok', label: 'it' } };
    expect(app.schema.safeParse(base).success).toBe(true);
    expect(app.schema.safeParse({ ...base, extra: 1 }).success).toBe(false);
    expect(app.schema.safeParse({ ...base, requests: ['http://elsewhere/x'] }).success).toBe(false);
    expect(app.schema.safeParse({ ...base, success: { match: '(', label: 'it' } }).success).toBe(false);
  });
});
