import { z } from 'zod';
import { createRequire } from 'node:module';
import { readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ESLint as ESLintApi, Linter } from 'eslint';
import type { CheckPrimitive } from './types.js';
import { workspaceFile } from '../workspace.js';

const schema = z
  .object({
    /** The app's folder in the workspace. */
    path: z.string(),
    /** The rules that must report nothing (ids as ESLint prints them: `security/detect-child-process`). */
    rules: z.array(z.string()).min(1),
    /** Rule settings on top of eslint-plugin-security's recommended ones (ESLint rule config, e.g. `no-restricted-syntax`). */
    config: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
type P = z.infer<typeof schema>;

export interface SastFinding {
  file: string;
  line: number;
  rule: string;
  message: string;
}

// Loaded at run time, not bundled: ESLint is big and only the SAST checks need it.
const load = createRequire(import.meta.url);

/**
 * Static analysis of a folder's JavaScript with ESLint and eslint-plugin-security (node_modules left
 * out, as ESLint does). The lab's own settings only: no config file of the folder is read, and inline
 * `eslint-disable` comments count for nothing — a finding is hidden from this check only by fixing it.
 * Returns the findings of `rules`, and files that could not be parsed (an unparsable file hides its sinks).
 */
export async function lintFolder(dir: string, rules: string[], config: Record<string, unknown> = {}): Promise<{ files: number; findings: SastFinding[] }> {
  const { ESLint } = load('eslint') as { ESLint: typeof ESLintApi };
  const security = load('eslint-plugin-security') as { configs: { recommended: Linter.Config } };
  const eslint = new ESLint({
    cwd: dir,
    overrideConfigFile: true,
    allowInlineConfig: false,
    errorOnUnmatchedPattern: false,
    overrideConfig: [
      { files: ['**/*.js', '**/*.cjs'], languageOptions: { ecmaVersion: 'latest', sourceType: 'commonjs' } },
      { files: ['**/*.mjs'], languageOptions: { ecmaVersion: 'latest', sourceType: 'module' } },
      security.configs.recommended,
      { rules: config as Linter.RulesRecord },
    ],
  });
  const results = await eslint.lintFiles(['.']);
  return { files: results.length, findings: findingsOf(results, rules, dir) };
}

/** The messages of the listed rules (and parse errors), as file:line rule — paths relative to `root`. */
export function findingsOf(
  results: { filePath: string; messages: { ruleId: string | null; line?: number; message: string; fatal?: boolean }[] }[],
  rules: string[],
  root: string,
): SastFinding[] {
  const out: SastFinding[] = [];
  for (const r of results) {
    const file = relative(root, r.filePath).split(sep).join('/');
    for (const m of r.messages) {
      if (m.fatal) out.push({ file, line: m.line ?? 0, rule: 'parse error', message: m.message });
      else if (m.ruleId && rules.includes(m.ruleId)) out.push({ file, line: m.line ?? 0, rule: m.ruleId, message: m.message });
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/** `server.js:20 security/detect-child-process (Found child_process.exec() …)`, the first few of them. */
export function formatFindings(app: string, findings: SastFinding[], max = 5): string {
  const shown = findings.slice(0, max).map((f) => `${app}/${f.file}:${f.line} ${f.rule} (${f.message})`);
  const more = findings.length > max ? `; and ${findings.length - max} more` : '';
  return `${shown.join('; ')}${more}`;
}

/** Static analysis (SAST) of an app's sources in the workspace: the listed rules must find nothing. */
export const sast: CheckPrimitive<P> = {
  type: 'sast',
  schema,
  timeoutMs: () => 60_000,
  async run(ctx, p) {
    const dir = workspaceFile(ctx, p.path);
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
      return { passed: false, message: `the workspace has no ${p.path} folder any more — a lesson reset hands its sources out again` };
    }
    const { files, findings } = await lintFolder(dir, p.rules, p.config);
    if (!files) return { passed: false, message: `ESLint found no JavaScript in ${dir} — the app's sources are gone` };
    if (!findings.length) {
      return {
        passed: true,
        message: `ESLint with eslint-plugin-security: none of ${p.rules.join(', ')} reports anything in ${files} file${files > 1 ? 's' : ''} of ${p.path}`,
      };
    }
    const disabled: string[] = [];
    for (const f of new Set(findings.map((x) => x.file))) {
      if (/eslint-disable/.test(await readFile(join(dir, f), 'utf8').catch(() => ''))) disabled.push(f);
    }
    const note = disabled.length
      ? ` — ${disabled.join(', ')} has eslint-disable comments: this check ignores them, only a fix of the code makes a finding go away`
      : '';
    return {
      passed: false,
      message: `ESLint finds ${findings.length} problem${findings.length > 1 ? 's' : ''} in ${p.path}: ${formatFindings(p.path, findings)}${note}`,
    };
  },
};
