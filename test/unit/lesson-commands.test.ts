import { describe, it, expect } from 'vitest';
import { parseArgs } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/paths.js';
import { OPTIONS } from '../../src/cli/main.js';
import { findCommand } from '../../src/cli/usage.js';
import { allCommands, codeOf, commandsIn, subcommandOf } from '../lesson-commands.js';

const VALUE_OPTIONS = new Set(
  Object.entries(OPTIONS)
    .filter(([, o]) => o.type === 'string')
    .map(([k]) => k),
);

describe('the extraction of kube-seclab commands', () => {
  it('reads code, not prose, and splits compound lines', () => {
    const md = [
      'kube-seclab cannot give you a cloud account; `kube-seclab status` prints it.',
      '```sh',
      'kube-seclab build app --deploy ns/app   # a comment; kube-seclab keeps to it',
      'kube-seclab sign --generate-key; kube-seclab sign "$(kubectl get deploy -o jsonpath=\'{..image}\')"',
      '   eval "$(npx kube-seclab env)"',
      'docker exec -it kube-seclab-control-plane bash',
      '```',
      '- `kube-seclab scan --deploy',
      '  catalog/catalog-search` (wrapped)',
    ].join('\n');
    const found = codeOf(md).flatMap((c) => commandsIn(c, 'x'));
    expect(found.map((f) => [f.npx ? 'npx' : '', ...f.args].join(' ').trim())).toEqual([
      'build app --deploy ns/app',
      'sign --generate-key',
      "sign $(kubectl get deploy -o jsonpath='{..image}')",
      'npx env',
      'status',
      'scan --deploy catalog/catalog-search',
    ]);
    expect(subcommandOf(['--name', 'alice', 'up', '--engine', 'existing'], VALUE_OPTIONS)).toEqual({ cmd: 'up', sub: undefined });
    expect(subcommandOf(['progress', 'export', '--out', 'a.json'], VALUE_OPTIONS)).toEqual({ cmd: 'progress', sub: 'export' });
  });
});

describe('every kube-seclab command a learner is told to run', async () => {
  const found = await allCommands(packageRoot);

  it('is found in the README and in the lessons (their texts, hints and objectives)', () => {
    expect(found.filter((f) => f.source === 'README.md').length).toBeGreaterThan(20);
    expect(new Set(found.filter((f) => f.source.startsWith('lessons/')).map((f) => f.source.split('/').slice(0, 3).join('/'))).size).toBeGreaterThanOrEqual(12);
    expect(found.some((f) => /hints\[\d+\]$/.test(f.source))).toBe(true);
  });

  it('names a subcommand that exists and options it accepts', () => {
    const bad: string[] = [];
    for (const f of found) {
      const { cmd, sub } = subcommandOf(f.args, VALUE_OPTIONS);
      try {
        parseArgs({ args: f.args, options: OPTIONS, strict: true, allowPositionals: true });
      } catch (e) {
        bad.push(`${f.source}: \`${f.text}\`: ${(e as Error).message}`);
        continue;
      }
      if (cmd === undefined) continue; // the TUI, --help, --version
      const c = findCommand(cmd);
      if (!c) bad.push(`${f.source}: \`${f.text}\`: no subcommand "${cmd}"`);
      else if (c.subs && sub !== undefined && !c.subs.includes(sub)) bad.push(`${f.source}: \`${f.text}\`: no "${cmd} ${sub}"`);
    }
    expect(bad).toEqual([]);
  });

  it('is never `npx kube-seclab` outside the checkout: lessons never say npx, the README only in its set-up', () => {
    const lessons = found.filter((f) => f.npx && f.source !== 'README.md');
    expect(lessons.map((f) => `${f.source}: ${f.text}`)).toEqual([]);
    // The README: `npx kube-seclab` (the lab) and `eval "$(npx kube-seclab env)"`, before anything tells the reader to leave the checkout.
    const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
    const npx = found.filter((f) => f.npx && f.source === 'README.md').map((f) => f.args.join(' '));
    expect(npx).toEqual(['', 'env']);
    expect(readme.indexOf('eval "$(npx kube-seclab env)"')).toBeLessThan(readme.indexOf('## A first lesson'));
  });

  it("the CLI's own messages never say npx kube-seclab, except the eval line that runs it in the checkout", () => {
    const offenders: string[] = [];
    const files = readdirSync(join(packageRoot, 'src'), { recursive: true, encoding: 'utf8' }).filter(
      (f) => /\.tsx?$/.test(f) && f !== join('core', 'shell.ts'),
    );
    expect(files.length).toBeGreaterThan(50);
    for (const f of files) {
      const text = readFileSync(join(packageRoot, 'src', f), 'utf8');
      // Allowed: `cd <checkout> && npx kube-seclab …`, and "in the kube-seclab folder: eval "$(npx kube-seclab env)"".
      for (const line of text.split('\n'))
        if (/npx kube-seclab/.test(line.replace(/cd \S+ && npx kube-seclab/g, '').replace(/kube-seclab folder: eval "\$\(npx kube-seclab env\)"/g, '')))
          offenders.push(`${f}: ${line.trim()}`);
    }
    expect(offenders).toEqual([]);
  });
});
