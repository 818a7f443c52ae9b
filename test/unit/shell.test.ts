import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandDir, commandScript, envCommand, envScript, shellQuote, writeCommand } from '../../src/core/shell.js';
import { packageRoot } from '../../src/core/paths.js';
import { appArg } from '../../src/cli/commands.js';
import { COMMANDS, commandHelp, overview } from '../../src/cli/usage.js';
import { main } from '../../src/cli/main.js';

const bash = (script: string, env: NodeJS.ProcessEnv = {}) =>
  execFileSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', ...env } });

describe("kube-seclab env: the learner's shell", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks shell ')); // a space on purpose: paths are quoted
  const cmdDir = join(dir, 'command dir');
  const script = envScript({ kubeconfig: join(dir, 'kube config'), commandDir: cmdDir, name: 'default' });

  it('exports the kubeconfig and puts the command folder first on PATH, once however often it is evaluated', () => {
    const out = bash(`eval "$S"; eval "$S"; eval "$S"; printf '%s\\n' "$KUBECONFIG" "$PATH"`, { S: script });
    const [kubeconfig, path] = out.trim().split('\n');
    expect(kubeconfig).toBe(join(dir, 'kube config'));
    expect(path.split(':')).toEqual([cmdDir, '/usr/bin', '/bin']);
  });

  it('works with an empty PATH too, and in sh and zsh syntax alike (POSIX case)', () => {
    const out = execFileSync('sh', ['-c', 'PATH=; eval "$S"; /usr/bin/printenv PATH'], { encoding: 'utf8', env: { S: script } });
    expect(out.trim()).toBe(cmdDir);
  });

  it('carries a named lab, the data root and a workshop into the shell; unsets a stale lab name for the default lab', () => {
    const named = envScript({ kubeconfig: '/k', commandDir: '/c', name: 'alice', data: '/d ata', workshop: '/w/class.yaml' });
    expect(bash(`eval "$S"; printf '%s|%s|%s' "$KUBE_SECLAB_NAME" "$KUBE_SECLAB_DATA" "$KUBE_SECLAB_WORKSHOP"`, { S: named })).toBe(
      'alice|/d ata|/w/class.yaml',
    );
    const back = envScript({ kubeconfig: '/k', commandDir: '/c', name: 'default', unsetName: true });
    expect(bash(`KUBE_SECLAB_NAME=alice; eval "$S"; printf '%s' "\${KUBE_SECLAB_NAME-unset}"`, { S: back })).toBe('unset');
  });

  it("the command runs this checkout's launcher with the Node.js that wrote it, arguments intact, from any folder", async () => {
    const fakeNode = join(dir, 'fake node');
    writeFileSync(fakeNode, '#!/bin/sh\nprintf "%s\\n" "$PWD" "$@"\n', { mode: 0o755 });
    const file = await writeCommand(cmdDir, fakeNode, '/checkout/bin/kube-seclab.js');
    expect(statSync(file).mode & 0o111).toBeTruthy();
    const elsewhere = join(dir, 'somewhere');
    mkdirSync(elsewhere);
    const out = bash(`eval "$S"; cd "$W"; command -v kube-seclab; kube-seclab sbom app --out 'my sbom.json'`, { S: script, W: elsewhere });
    expect(out.trim().split('\n')).toEqual([file, elsewhere, '/checkout/bin/kube-seclab.js', 'sbom', 'app', '--out', 'my sbom.json']);
    // Written again only when it would change.
    const before = statSync(file).mtimeMs;
    await writeCommand(cmdDir, fakeNode, '/checkout/bin/kube-seclab.js');
    expect(statSync(file).mtimeMs).toBe(before);
    expect(readFileSync(file, 'utf8')).toBe(commandScript(fakeNode, '/checkout/bin/kube-seclab.js'));
  });

  it('gives each checkout its own command folder under the data root', () => {
    const env = { KUBE_SECLAB_DATA: '/data' };
    expect(commandDir(env, '/a/kube-seclab')).toMatch(/^\/data\/command\/[0-9a-f]{12}$/);
    expect(commandDir(env, '/a/kube-seclab')).not.toBe(commandDir(env, '/b/kube-seclab'));
    // A relative KUBE_SECLAB_DATA still gives a PATH entry that works from every folder.
    expect(commandDir({ KUBE_SECLAB_DATA: 'rel/data' }, '/a')).toBe(join(process.cwd(), 'rel', 'data', 'command', commandDir(env, '/a').split('/').pop()!));
  });

  it('the line to run from any folder evaluates npx inside the checkout only', () => {
    expect(envCommand({ name: 'default', root: '/src/kube-seclab' })).toBe('eval "$(cd /src/kube-seclab && npx kube-seclab env)"');
    expect(envCommand({ name: 'alice', root: "/it's here" })).toBe(`eval "$(cd '/it'\\''s here' && npx kube-seclab --name alice env)"`);
    expect(envCommand({ name: 'default' })).toContain(`cd ${shellQuote(packageRoot)} && npx kube-seclab env`);
  });
});

describe("app folders: relative paths are the learner's", () => {
  const ws = mkdtempSync(join(tmpdir(), 'ks-ws-'));
  mkdirSync(join(ws, 'logsearch'));
  const outside = mkdtempSync(join(tmpdir(), 'ks-out-'));
  mkdirSync(join(outside, 'logsearch'));

  it('a path from where the learner stands, else an app name in the workspace', () => {
    expect(appArg(ws, 'logsearch', 'build', ws)).toBe(join(ws, 'logsearch'));
    expect(appArg(ws, '.', 'build', join(ws, 'logsearch'))).toBe(join(ws, 'logsearch'));
    expect(appArg(ws, '.', 'build', ws)).toBeUndefined(); // the workspace itself: its only app
    expect(appArg(ws, 'logsearch', 'build', tmpdir())).toBe('logsearch'); // no such folder here: the workspace's
    expect(appArg(ws, undefined, 'build', ws)).toBeUndefined();
  });

  it('refuses a folder outside the workspace rather than building another one of the same name', () => {
    expect(() => appArg(ws, 'logsearch', 'build', outside)).toThrow(/is not in the lab's workspace/);
  });
});

describe('every subcommand has its usage', () => {
  const source = readFileSync(join(packageRoot, 'src', 'cli', 'commands.ts'), 'utf8');
  const handled = [...source.slice(source.indexOf('switch (cmd)')).matchAll(/^ {4}case '([a-z-]+)':/gm)].map((m) => m[1]);

  it('the usage table names exactly the subcommands the CLI handles', () => {
    expect(handled.length).toBeGreaterThan(15);
    expect(
      COMMANDS.map((c) => c.name)
        .filter((n) => n !== 'help')
        .sort(),
    ).toEqual([...new Set(handled)].sort());
  });

  it("CMD --help prints that command's usage and exits 0; an unknown command or sub-command exits 2", async () => {
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const werr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => {
      out.push(s);
      return true;
    }) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => {
      out.push(s);
      return true;
    }) as typeof process.stderr.write;
    try {
      for (const c of COMMANDS) {
        out.length = 0;
        expect(await main([c.name, '--help'])).toBe(0);
        expect(out.join('')).toBe(`${c.name === 'help' ? overview() : commandHelp(c)}\n`);
        if (c.name !== 'help') expect(out.join('')).toMatch(new RegExp(`kube-seclab ${c.name}\\b`));
      }
      expect(await main(['progress', 'export', '--help'])).toBe(0);
      expect(await main(['help', 'sbom'])).toBe(0);
      expect(out.join('')).toContain('Usage: kube-seclab sbom [PATH] [--out FILE]');
      out.length = 0;
      expect(await main(['frobnicate', '--help'])).toBe(2);
      expect(out.join('')).toMatch(/unknown command "frobnicate"/);
      expect(await main(['progress', 'import', '--help'])).toBe(2);
      expect(await main(['build', '--deply', 'a/b', '--help'])).toBe(2); // options are checked too
      out.length = 0;
      expect(await main(['--help'])).toBe(0);
      expect(out.join('')).toBe(`${overview()}\n`);
    } finally {
      process.stdout.write = write;
      process.stderr.write = werr;
    }
  });
});

describe('messages that print commands fill in real names', () => {
  /** Run a subcommand in-process from `cwd`, capturing what it prints. */
  async function runIn(cwd: string, env: NodeJS.ProcessEnv, cmd: string, args: string[], o: Record<string, unknown>): Promise<{ code: number; text: string }> {
    const { runCommand } = await import('../../src/cli/commands.js');
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const werr = process.stderr.write.bind(process.stderr);
    const here = process.cwd();
    process.stdout.write = ((s: string) => {
      out.push(s);
      return true;
    }) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => {
      out.push(s);
      return true;
    }) as typeof process.stderr.write;
    process.chdir(cwd);
    try {
      return { code: await runCommand(cmd, args, o, env, 'local'), text: out.join('') };
    } finally {
      process.chdir(here);
      process.stdout.write = write;
      process.stderr.write = werr;
    }
  }

  /** A lab data root whose workspace holds `app` (package.json, a Dockerfile), built on the local engine. */
  async function labWith(app: string): Promise<{ env: NodeJS.ProcessEnv; ws: string; digest: string }> {
    const data = mkdtempSync(join(tmpdir(), 'ks-msg-'));
    const ws = join(data, 'workspace');
    mkdirSync(join(ws, app, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(join(ws, app, 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(ws, app, 'package.json'), JSON.stringify({ name: app, version: '1.0.0', dependencies: { 'left-pad': '1.3.0' } }));
    writeFileSync(join(ws, app, 'node_modules', 'left-pad', 'package.json'), JSON.stringify({ name: 'left-pad', version: '1.3.0' }));
    const { sourceHash } = await import('../../src/core/builds.js');
    const hash = await sourceHash(join(ws, app));
    const digest = `sha256:${hash}`;
    writeFileSync(
      join(data, 'builds.json'),
      JSON.stringify({
        version: 1,
        builds: [
          {
            app,
            path: app,
            image: `registry.kube-seclab.local/${app}@${digest}`,
            digest,
            sourceHash: hash,
            engine: 'local',
            builtAt: '2030-01-01T00:00:00.000Z',
            packages: [],
          },
        ],
      }),
    );
    return { env: { ...process.env, KUBE_SECLAB_DATA: data, KUBE_SECLAB_NAME: undefined, NO_COLOR: '1' }, ws, digest };
  }

  it("sbom: the lesson's namespace and ConfigMap, and --out written where the learner stands", async () => {
    const { env, ws, digest } = await labWith('prefs-api');
    const r = await runIn(ws, env, 'sbom', ['prefs-api'], { out: 'prefs-api.cdx.json' });
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(ws, 'prefs-api.cdx.json'), 'utf8')).bomFormat).toBe('CycloneDX');
    expect(r.text).toContain(
      `kubectl -n accounts create configmap prefs-api-sbom --from-file=sbom.cdx.json=prefs-api.cdx.json && kubectl -n accounts annotate configmap prefs-api-sbom kube-seclab.dev/image-digest=${digest}`,
    );
    expect(r.text).not.toMatch(/<namespace>|NAMESPACE/);
    // Without --out: the command that writes the file, then the same real names.
    const printed = await runIn(join(ws, 'prefs-api'), env, 'sbom', ['.'], {});
    expect(printed.text).toContain(
      '`kube-seclab sbom prefs-api --out prefs-api.cdx.json` (in a folder outside prefs-api/), then kubectl -n accounts create configmap prefs-api-sbom',
    );
  });

  it('sbom of an app no lesson deploys: says how to find the namespace instead of printing a placeholder as if it were one', async () => {
    const { env, ws } = await labWith('my-own-app');
    const r = await runIn(ws, env, 'sbom', ['my-own-app'], { out: '../sbom.json' });
    expect(r.code).toBe(0);
    expect(readFileSync(join(ws, '..', 'sbom.json'), 'utf8')).toContain('CycloneDX');
    expect(r.text).toContain('kubectl -n NAMESPACE create configmap my-own-app-sbom --from-file=sbom.cdx.json=../sbom.json');
    expect(r.text).toContain('NAMESPACE: the namespace of the Deployment that runs registry.kube-seclab.local/my-own-app@sha256:');
    expect(r.text).toContain('`kubectl get deploy -A -o wide | grep my-own-app`');
    expect(r.text).not.toContain('<namespace>');
  });
});
