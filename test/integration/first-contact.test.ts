/**
 * A learner's first contact, with the built binary and a real shell: `eval "$(npx kube-seclab env)"`
 * in the checkout, then every `kube-seclab …` line of the README and the lessons resolved from the
 * workspace folder, then an app lesson's commands run there against the real local cluster.
 * Needs a build (`npm install` / `npm run build`); .ci/run also runs this file on Node 24.
 */
import { describe, it, expect, inject, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/core/paths.js';
import { commandDir, envCommand, shellQuote } from '../../src/core/shell.js';
import { allCommands, subcommandOf } from '../lesson-commands.js';
import { OPTIONS } from '../../src/cli/main.js';
import { findCommand } from '../../src/cli/usage.js';

const run = promisify(execFile);
const data = inject('labData');
const env: NodeJS.ProcessEnv = { ...process.env, KUBE_SECLAB_DATA: data, NO_COLOR: '1' };
delete env.KUBE_SECLAB_NAME;
delete env.KUBECONFIG;
const VALUE_OPTIONS = new Set(
  Object.entries(OPTIONS)
    .filter(([, o]) => o.type === 'string')
    .map(([k]) => k),
);
let workspace = '';

/**
 * A bash script: set up the shell as the README says, in the checkout (`npx`: exactly the README's
 * line; else the launcher npx runs, quicker), then `script` from the workspace folder.
 */
async function inShell(script: string, opts: { npx?: boolean; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const setup = opts.npx ? 'npx kube-seclab env' : `${shellQuote(process.execPath)} bin/kube-seclab.js env`;
  const full = `cd ${shellQuote(packageRoot)} && eval "$(${setup})" || exit 90\ncd ${shellQuote(workspace)} || exit 91\n${script}`;
  try {
    const r = await run('bash', ['-c', full], { env, maxBuffer: 64 * 2 ** 20, timeout: opts.timeoutMs ?? 170_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e: any) {
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Warnings Node.js prints (a DeprecationWarning from a dependency, say): none from the lab's commands. */
const NODE_WARNING = /^\(node:\d+\)|\[DEP\d+\]|DeprecationWarning|ExperimentalWarning/m;

beforeAll(async () => {
  const bundle = join(packageRoot, 'dist', 'bundle', 'main.js');
  if (!existsSync(bundle)) throw new Error('the CLI is not built: run `npm run build` (npm install does it)');
  const built = statSync(bundle).mtimeMs;
  const newer = readdirSync(join(packageRoot, 'src'), { recursive: true, encoding: 'utf8' }).filter(
    (f) => /\.tsx?$/.test(f) && statSync(join(packageRoot, 'src', f)).mtimeMs > built,
  );
  if (newer.length) throw new Error(`the build is older than src/${newer[0]}: run \`npm run build\``);
  const st = JSON.parse((await run(process.execPath, [join(packageRoot, 'bin', 'kube-seclab.js'), 'status', '--json'], { env })).stdout);
  workspace = st.workspace;
  mkdirSync(workspace, { recursive: true });
}, 60_000);

describe('kube-seclab in every folder, from this checkout only', () => {
  // npx and three CLI starts: 170 s were not enough at load 40-60 (this session's CI rehearsal, with
  // two more kind clusters beside it), so this one gets 400 s.
  it(
    'after eval "$(npx kube-seclab env)" in the checkout: kube-seclab resolves to the lab\'s own command, evaluating again changes nothing',
    { timeout: 420_000 },
    async () => {
      const r = await inShell(
        'command -v kube-seclab; eval "$(kube-seclab env)"; eval "$(kube-seclab env)"; printf "%s\\n" "$KUBECONFIG" "$PATH"; pwd; kube-seclab --version',
        { npx: true, timeoutMs: 400_000 },
      );
      expect(r.stderr).toBe('');
      const [where, kubeconfig, path, pwd, version] = r.stdout.trim().split('\n');
      const dir = commandDir(env);
      expect(where).toBe(join(dir, 'kube-seclab'));
      expect(kubeconfig).toBe(join(data, 'kubeconfig'));
      expect(path.split(':').filter((p) => p === dir)).toHaveLength(1);
      expect(path.split(':')[0]).toBe(dir);
      expect(pwd).toBe(workspace);
      expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    },
  );

  it('every kube-seclab line of the README and the lessons resolves from the workspace folder: its subcommand --help exits 0 with its usage', async () => {
    const found = await allCommands(packageRoot);
    const lines = [...new Map(found.map((f) => [JSON.stringify(f.args), f])).values()];
    const subcommands = new Set(lines.map((f) => subcommandOf(f.args, VALUE_OPTIONS).cmd).filter(Boolean));
    expect(subcommands.size).toBeGreaterThanOrEqual(12);
    // Each line as written (arguments passed as words, never run by the shell), with --help.
    const script = [
      'printf "@@where=%s\\n" "$(command -v kube-seclab)"',
      ...lines.map((f, i) => `printf '@@%s\\n' ${i}; kube-seclab ${f.args.map(shellQuote).join(' ')} --help 2>&1; printf '@@rc=%s\\n' $?`),
    ].join('\n');
    const r = await inShell(script);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`@@where=${join(commandDir(env), 'kube-seclab')}\n`);
    const problems: string[] = [];
    for (const [i, f] of lines.entries()) {
      const m = new RegExp(`@@${i}\\n([\\s\\S]*?)@@rc=(\\d+)\\n`).exec(r.stdout);
      const { cmd } = subcommandOf(f.args, VALUE_OPTIONS);
      if (!m) {
        problems.push(`${f.source}: \`${f.text}\`: no output`);
        continue;
      }
      const [, text, rc] = m;
      if (rc !== '0') problems.push(`${f.source}: \`${f.text}\`: exit ${rc}: ${text.trim().split('\n')[0]}`);
      else if (cmd && !new RegExp(`Usage:(?: |\\n\\s+)kube-seclab ${cmd}\\b`).test(text))
        problems.push(`${f.source}: \`${f.text}\`: --help did not print its usage`);
      else if (!cmd && !text.includes('Usage: kube-seclab [command]')) problems.push(`${f.source}: \`${f.text}\`: --help did not print the overview`);
      if (NODE_WARNING.test(text)) problems.push(`${f.source}: \`${f.text}\`: a Node.js warning: ${text.split('\n').find((l) => NODE_WARNING.test(l))}`);
    }
    expect(problems).toEqual([]);
  });

  it('a subcommand that does not exist fails the same way (exit 2), so a lesson naming one fails the test above', async () => {
    expect(findCommand('frobnicate')).toBeUndefined();
    const r = await inShell('kube-seclab frobnicate --help; echo "rc=$?"');
    expect(r.stdout).toContain('rc=2');
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
  });
});

describe('an app lesson from the workspace folder, against the real local cluster', () => {
  it('start, status --json, sbom --out (here), build . (inside the app), check --json: real names, skipped told from failed, no Node.js warning', async () => {
    const r = await inShell(
      [
        'set -e',
        'kube-seclab start sbom > start.out',
        'kube-seclab status --json > status.json || true',
        'kube-seclab sbom prefs-api --out prefs-api.cdx.json > sbom.out',
        '(cd prefs-api && kube-seclab build . > ../build.out)',
        'kube-seclab check --json > check.json || echo "check rc=$?"',
        'for f in start.out sbom.out build.out; do printf "@@%s\\n" "$f"; cat "$f"; done',
        'printf "@@status\\n"; cat status.json; printf "\\n@@check\\n"; cat check.json',
      ].join('\n'),
    );
    expect(r.stderr.split('\n').filter((l) => NODE_WARNING.test(l))).toEqual([]);
    expect(r.code).toBe(0);
    const part = (name: string) => new RegExp(`@@${name}\\n([\\s\\S]*?)(?=\\n@@|$)`).exec(r.stdout)?.[1] ?? '';

    // start: the line for the learner's shell, once, with the checkout filled in.
    const start = part('start.out');
    expect(start.split(envCommand({ name: 'default' })).length - 1).toBe(1);
    expect(start).not.toContain('export KUBECONFIG');
    expect(start).toContain(join(workspace, 'prefs-api'));

    // status --json: every field the text shows, the workspace included.
    const st = JSON.parse(part('status'));
    expect(st).toMatchObject({ engine: 'local', exists: true, healthy: true, kubeconfig: join(data, 'kubeconfig'), workspace, name: 'default' });
    expect(st.nodeFiles).toEqual(expect.any(String));
    for (const k of ['endpoints', 'components', 'problems', 'labs']) expect(st).toHaveProperty(k);

    // sbom --out: written where the learner stands; the publish command with the lesson's real namespace and ConfigMap.
    expect(existsSync(join(workspace, 'prefs-api.cdx.json'))).toBe(true);
    expect(existsSync(join(packageRoot, 'prefs-api.cdx.json'))).toBe(false);
    const sbom = part('sbom.out');
    expect(sbom).toContain(
      'kubectl -n accounts create configmap prefs-api-sbom --from-file=sbom.cdx.json=prefs-api.cdx.json && kubectl -n accounts annotate configmap prefs-api-sbom kube-seclab.dev/image-digest=sha256:',
    );
    expect(sbom).not.toMatch(/<namespace>|NAMESPACE/);

    // build . inside the app folder: that app; the deploy command names the lesson's Deployment.
    const build = part('build.out');
    expect(build).toContain(`built prefs-api from ${join(workspace, 'prefs-api')}`);
    expect(build).toContain('deploy it: kube-seclab build prefs-api --deploy accounts/prefs-api');
    expect(build).not.toMatch(/<namespace>|<name>|<container>/);

    // check --json: the documented shape; a skipped check (requires kind) is told from a failed one by status.
    const check = JSON.parse(part('check'));
    expect(Object.keys(check)).toEqual(['lesson', 'passed', 'durationMs', 'checks']);
    expect(check.passed).toBe(false);
    const skipped = check.checks.find((c: any) => c.id === 'exploit-replayed');
    expect(skipped).toMatchObject({ passed: false, status: 'skipped', requires: 'kind' });
    const failed = check.checks.find((c: any) => c.id === 'running-image-clean');
    expect(failed).toMatchObject({ passed: false, status: 'failed' });
    for (const c of check.checks) expect(Object.keys(c)).toEqual(['id', 'title', 'passed', 'message', 'durationMs', 'requires', 'status']);
    for (const c of check.checks) expect(c.passed).toBe(c.status === 'passed');
  });
});
