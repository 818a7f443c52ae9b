import { createInterface } from 'node:readline/promises';
import { Lab } from '../core/lab.js';
import { UserError } from '../core/errors.js';
import { verifyLesson, type VerifyResult } from '../core/verify.js';
import { formatProblem } from '../core/lessons/loader.js';
import { LAYERS, LAYER_TITLES } from '../core/lessons/schema.js';
import type { LessonResult } from '../core/checks/runner.js';
import type { EngineName } from '../engines/types.js';
import type { ExistingOptions } from '../engines/existing/engine.js';
import { lineReporter } from './reporter.js';
import { style, symbols } from './style.js';
import { doctor } from './doctor.js';
import { EXIT } from './exit.js';
import { listLabs, type LabOverview } from '../core/labs.js';
import { buildExport, resolveLearner, toJunit } from '../core/classroom/export.js';
import { classReport, formatReportText } from '../core/classroom/report.js';
import { renderHtml } from '../core/classroom/html.js';
import { writeFileAtomic } from '../core/fsutil.js';
import { join, resolve, sep } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { SHELL_LINE } from './shell-line.js';
import { shellQuote } from '../core/shell.js';

const out = (s = '') => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(s + '\n');

function printResult(r: LessonResult, title?: string) {
  if (title) out(`${style.bold(r.lesson)} ${style.muted('— ' + title)}`);
  const width = Math.max(...r.checks.map((c) => c.id.length));
  for (const c of r.checks) {
    const sym =
      c.status === 'passed'
        ? style.success(symbols.pass)
        : c.status === 'skipped'
          ? style.muted(symbols.skip)
          : c.status === 'unreachable'
            ? style.warning(symbols.unreachable)
            : style.error(symbols.fail);
    out(` ${sym} ${c.id.padEnd(width)}  ${c.status === 'skipped' ? style.muted(c.message) : c.message} ${style.muted(`${c.durationMs}ms`)}`);
  }
  const n = r.checks.filter((c) => c.status === 'passed').length;
  const runnable = r.checks.filter((c) => c.status !== 'skipped').length;
  if (r.unreachable) out(style.warning(`cluster unreachable — these results say nothing about your fix. Check it with \`kube-seclab status\`.`));
  else if (r.passed) out(style.success(`${symbols.pass} all ${runnable} checks pass`) + style.muted(` (${r.durationMs} ms)`));
  else out(`${n}/${runnable} checks pass ${style.muted(`(${r.durationMs} ms)`)}`);
}

function toJson(r: LessonResult) {
  return {
    lesson: r.lesson,
    passed: r.passed,
    durationMs: r.durationMs,
    checks: r.checks.map((c) => ({
      id: c.id,
      title: c.title,
      passed: c.passed,
      message: c.message,
      durationMs: c.durationMs,
      requires: c.requires,
      status: c.status,
    })),
  };
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new UserError(`${question} needs confirmation`, 'pass --yes to confirm without a prompt');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const a = await rl.question(`${question} [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(a.trim());
}

export interface CommandOptions {
  json?: boolean;
  watch?: boolean;
  yes?: boolean;
  all?: boolean;
  apply?: boolean;
  format?: string;
  out?: string;
  learner?: string;
  'learner-id'?: string;
  html?: string;
  count?: string;
  minutes?: string;
  seed?: string;
  deploy?: string;
  key?: string;
  'generate-key'?: boolean;
  full?: boolean;
}

/** Every subcommand; loaded only when one is asked for, so the TUI starts without it. */
export async function runCommand(
  cmd: string,
  args: string[],
  o: CommandOptions,
  env: NodeJS.ProcessEnv,
  engine: EngineName | undefined,
  existing?: ExistingOptions,
): Promise<number> {
  const lab = await Lab.open({ env, engine, existing });
  for (const p of lab.catalogue.problems) err(style.warning(`warning: lesson not loaded: ${formatProblem(p)}`, process.stderr));
  await lab.progress.load(); // a corrupt file is set aside here, with a warning below
  for (const w of lab.progress.warnings) err(style.warning(`warning: ${w}`, process.stderr));
  const rep = lineReporter();
  // A timed-out exam is graded on the next command, whichever it is.
  if (!['down', 'env', 'doctor', 'dev', 'class', 'exam'].includes(cmd))
    await (await import('./exam.js')).settleExam(lab, rep, (m) => err(style.warning(m, process.stderr)));

  switch (cmd) {
    case 'up': {
      await lab.up(rep);
      if (lab.engine.namespacePrefix)
        out(
          `${style.success(symbols.pass)} learner "${lab.engine.namespacePrefix}" is ready in the shared cluster (a ServiceAccount confined to its namespaces). In the learner's shell: ${style.accent(lab.envCommand)}`,
        );
      else out(`${style.success(symbols.pass)} the ${lab.engine.name} cluster is ready. ${SHELL_LINE} ${style.accent(lab.envCommand)}`);
      return EXIT.ok;
    }
    case 'down':
      await lab.down(rep);
      return EXIT.ok;
    case 'status': {
      const [st, labs] = await Promise.all([lab.engine.status(), listLabs(env, lab.paths.name)]);
      // Every field the text below shows, by the same names.
      const nodeFiles = st.exists ? lab.engine.nodeAccessHint() : null;
      if (o.json) {
        out(JSON.stringify({ ...st, name: lab.paths.name, nodeFiles, workspace: lab.workspace, labs }, null, 2));
        return st.healthy ? EXIT.ok : EXIT.failed;
      }
      out(`${style.bold('engine')}      ${st.engine}${st.exists ? '' : style.muted(' (no cluster)')}`);
      out(`${style.bold('health')}      ${st.healthy ? style.success('healthy') : st.exists ? style.error('unhealthy') : style.muted('not created')}`);
      for (const [k, v] of Object.entries(st.endpoints)) out(`${style.bold(k.padEnd(11))} ${v}`);
      out(`${style.bold('kubeconfig')}  ${st.kubeconfig}`);
      if (nodeFiles) out(`${style.bold('node files')}  ${nodeFiles}`);
      out(`${style.bold('workspace')}   ${lab.workspace} ${style.muted('(files a lesson hands you to review)')}`);
      for (const c of st.components) for (const w of c.warnings) out(style.warning(`${symbols.arrow} ${c.name}: ${w}`));
      for (const c of st.components)
        out(
          ` ${c.healthy ? style.success(symbols.pass) : style.error(symbols.fail)} ${c.name.padEnd(24)} ${c.phase}${c.restarts ? style.muted(` (${c.restarts} restarts)`) : ''}${c.error && !c.healthy ? style.muted(` — ${c.error}`) : ''}`,
        );
      for (const p of st.problems) out(style.warning(`${symbols.arrow} ${p}`));
      printLabs(labs);
      return st.healthy ? EXIT.ok : EXIT.failed;
    }
    case 'list': {
      const items = await lab.list();
      if (o.json) {
        out(
          JSON.stringify(
            items.map(({ id, layer, title, requires, status }) => ({ id, layer, title, requires, status })),
            null,
            2,
          ),
        );
        return EXIT.ok;
      }
      if (lab.workshop) {
        await (await import('./workshop.js')).printWorkshopList(lab, items);
        return EXIT.ok;
      }
      for (const layer of LAYERS) {
        const ls = items.filter((l) => l.layer === layer);
        if (!ls.length) continue;
        out(style.bold(`${LAYER_TITLES[layer]} (${ls.filter((l) => l.status === 'done').length}/${ls.length})`));
        for (const l of ls) {
          const mark =
            l.status === 'done'
              ? style.success(symbols.pass)
              : l.status === 'current'
                ? style.accent('▸')
                : l.status === 'unavailable'
                  ? style.muted(symbols.skip)
                  : ' ';
          out(` ${mark} ${l.id.padEnd(30)} ${l.title}${l.status === 'unavailable' ? style.muted(` (${l.reason ?? 'needs kind'})`) : ''}`);
        }
      }
      const note = lab.namespaceNote();
      if (note) out(style.muted(note));
      return EXIT.ok;
    }
    case 'start': {
      if (!args[0]) throw new UserError('which lesson?', '`kube-seclab list` shows them; then `kube-seclab start <lesson>`');
      const l = await lab.start(args[0], rep);
      out(`${style.bold(l.title)}  ${style.muted(`(${l.layer} · ${l.difficulty})`)}`);
      for (const ob of l.objectives) out(` ${symbols.bullet} ${ob.text}`);
      out(`\n${SHELL_LINE} ${style.accent(lab.envCommand)}`);
      const note = lab.namespaceNote(l);
      if (note) out(style.warning(note));
      const node = lab.nodeAccessLine(l);
      if (node) out(node);
      if (l.reset.workspaceFiles.length) out(`Your files: ${l.reset.workspaceFiles.map((f) => style.accent(join(lab.workspace, f))).join(', ')}`);
      out(`Then \`kube-seclab check\` (or \`check --watch\`), \`kube-seclab hint\` when stuck.`);
      if (lab.workshop) await (await import('./workshop.js')).printWorkshopRules(lab, l.id);
      return EXIT.ok;
    }
    case 'check': {
      if (o.watch) {
        const ac = new AbortController();
        process.once('SIGINT', () => ac.abort());
        let code: number = EXIT.failed;
        await lab.watch(
          args[0] ?? (await lab.progress.load()).current ?? '',
          (r) => {
            if (o.json) out(JSON.stringify(toJson(r)));
            else {
              out(style.muted(`— ${new Date().toLocaleTimeString()}`));
              printResult(r);
            }
            if (r.passed) {
              code = EXIT.ok;
              ac.abort();
            }
          },
          ac.signal,
        );
        return code;
      }
      const r = await lab.check(args[0]);
      if (o.json) out(JSON.stringify(toJson(r)));
      else {
        printResult(r, lab.lesson(r.lesson).title);
        if (r.passed) out('\n' + (await lab.debrief(r.lesson)));
        else if (lab.workshop) await (await import('./workshop.js')).printTimeBox(lab, r.lesson);
      }
      return r.unreachable ? EXIT.usage : r.passed ? EXIT.ok : EXIT.failed;
    }
    case 'hint': {
      const h = await lab.hint(args[0]);
      out(`${style.accent(`Hint ${h.index + 1}/${h.total}`)} ${style.muted(`(${h.lesson})`)}\n${h.text}`);
      return EXIT.ok;
    }
    case 'solution': {
      if (!args[0]) throw new UserError('which lesson?', '`kube-seclab solution <lesson>`');
      const s = await lab.solution(args[0], { apply: o.apply, reporter: rep });
      if (s.description) out(s.description);
      for (const f of s.files) out(`${style.bold(`# ${f.path}`)}\n${f.text.trimEnd()}\n`);
      if (!o.apply) out(solutionHowTo(s, args[0]));
      return EXIT.ok;
    }
    case 'reset': {
      if (o.all) {
        if (!o.yes && !(await confirm("Remove every lesson's objects and forget all progress?"))) {
          err('nothing changed');
          return EXIT.usage;
        }
        await lab.resetAll(rep);
        return EXIT.ok;
      }
      const id = args[0] ?? (await lab.progress.load()).current;
      if (!id) throw new UserError('which lesson?', '`kube-seclab reset <lesson>`, or `reset --all`');
      if (!o.yes && process.stdin.isTTY && !(await confirm(`Reset ${id} to its insecure starting point? Your changes to it are lost.`))) {
        err('nothing changed');
        return EXIT.usage;
      }
      await lab.reset(id, rep);
      return EXIT.ok;
    }
    case 'doctor': {
      const d = await doctor(lab);
      if (o.json) out(JSON.stringify(d, null, 2));
      else
        for (const item of d.items)
          out(
            ` ${item.ok ? style.success(symbols.pass) : item.optional ? style.muted(symbols.skip) : style.error(symbols.fail)} ${item.name.padEnd(18)} ${item.detail}${!item.ok && item.fix ? style.muted(`  ${symbols.arrow} ${item.fix}`) : ''}`,
          );
      return d.items.every((i) => i.ok || i.optional) ? EXIT.ok : EXIT.failed;
    }
    case 'env':
      out((await lab.shellEnv()).script);
      return EXIT.ok;
    case 'images':
      return imagesCommand(lab, args, rep);
    case 'build':
      return buildCommand(lab, args, o, rep);
    case 'scan':
      return scanCommand(lab, args, o);
    case 'sbom':
      return sbomCommand(lab, args, o);
    case 'sign':
      return signCommand(lab, args, o);
    case 'progress':
      return progressCommand(lab, args, o);
    case 'class':
      return classCommand(args, o);
    case 'dev': {
      if (args[0] === 'audit') return devAudit(lab, args.slice(1), o);
      if (args[0] !== 'verify') throw new UserError(`unknown dev command ${args[0] ?? ''}`, 'try `kube-seclab dev verify` or `kube-seclab dev audit`');
      const ids = args.length > 1 ? args.slice(1) : lab.catalogue.lessons.map((l) => l.id);
      const results: VerifyResult[] = [];
      for (const id of ids) {
        if (!o.json) out(style.bold(id));
        const r = await verifyLesson(lab, id, {
          onStep: o.json
            ? undefined
            : (s) =>
                out(
                  ` ${s.ok ? style.success(symbols.pass) : style.error(symbols.fail)} ${s.name} ${style.muted(`${s.durationMs}ms`)}  ${s.ok ? style.muted(s.detail) : s.detail}`,
                ),
        });
        if (r.skipped && !o.json) out(style.muted(` ${symbols.skip} skipped: ${r.skipped}`));
        results.push(r);
      }
      if (o.json) out(JSON.stringify(results, null, 2));
      else out(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length} failed`);
      return results.every((r) => r.ok) && lab.catalogue.problems.length === 0 ? EXIT.ok : EXIT.failed;
    }
    case 'exam':
      return (await import('./exam.js')).examCommand(lab, args, o, rep);
    case 'attack':
      return (await import('./attack.js')).attackCommand(lab, args, o);
    default:
      err(`kube-seclab: unknown command "${cmd}"\n  ${symbols.arrow} see \`kube-seclab --help\``);
      return EXIT.usage;
  }
}

/**
 * `dev audit [lesson…] [--json] [--full]`: independent auditors (kube-score, kube-bench) on each
 * lesson's scenario and solved state, against what its lesson.yaml `audit:` declares. One line per
 * lesson; each declaration that does not hold gets a line naming where it is written. Exit 1 on a
 * failure, 2 when an auditor is not installed.
 */
async function devAudit(lab: Lab, ids: string[], o: CommandOptions): Promise<number> {
  const { auditLesson } = await import('../core/audit/audit.js');
  const { findAuditors } = await import('../core/audit/tools.js');
  const tools = findAuditors(lab.env); // missing → UserError → exit 2 with how to build it
  await lab.cluster(); // no cluster → UserError → exit 2 with `up`
  const list = ids.length ? ids.map((id) => lab.lesson(id).id) : lab.catalogue.lessons.map((l) => l.id);
  const t0 = Date.now();
  const results = [];
  for (const id of list) {
    const r = await auditLesson(lab, id, { tools, full: o.full });
    results.push(r);
    if (o.json) continue;
    const secs = style.muted(`${(r.durationMs / 1000).toFixed(1)} s, auditors ${(r.auditorsMs / 1000).toFixed(1)} s`);
    if (r.skipped) {
      out(` ${style.muted(symbols.skip)} ${id}  ${style.muted(`skipped: ${r.skipped}`)}`);
      continue;
    }
    const said =
      r.errors.length && !r.verdicts.length
        ? 'could not run'
        : [
            r.raised.length ? `raised ${r.raised.join(', ')}` : 'raises nothing declared',
            r.cleared.length ? `cleared ${r.cleared.join(', ')}` : 'clears nothing declared',
          ].join('; ');
    out(` ${r.ok ? style.success(symbols.pass) : style.error(symbols.fail)} ${id}  ${r.ok ? style.muted(said) : said} ${secs}`);
    for (const e of r.errors) out(`     ${style.error(symbols.fail)} ${e}`);
    for (const v of r.verdicts.filter((x) => !x.ok)) out(`     ${style.error(symbols.fail)} ${v.where} ${v.tool} ${v.id}: ${v.detail}`);
    for (const n of r.notes) out(style.muted(`     note: ${n}`));
    if (o.full) {
      const line = (label: string, fs: { tool: string; id: string; object?: string }[] | undefined) =>
        out(
          style.muted(`     ${label}: ${[...new Set((fs ?? []).map((f) => `${f.tool} ${f.id}${f.object ? ` (${f.object})` : ''}`))].join(', ') || 'nothing'}`),
        );
      line('scenario raises', r.scenario);
      line('solved state raises', r.solved);
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  if (o.json) out(JSON.stringify(results, null, 2));
  else
    out(
      `${results.filter((r) => r.ok && !r.skipped).length} passed, ${failed} failed, ${results.filter((r) => r.skipped).length} skipped ${style.muted(`(${secs} s; the auditors themselves ${(results.reduce((n, r) => n + r.auditorsMs, 0) / 1000).toFixed(0)} s)`)}`,
    );
  return failed === 0 && lab.catalogue.problems.length === 0 ? EXIT.ok : EXIT.failed;
}

/**
 * An app folder as the learner names it: a path from where they stand (`.`, `../logsearch`, an
 * absolute one) when that is a folder in the workspace, else a folder name in the workspace
 * (`logsearch`, from anywhere). The workspace folder itself means its only app.
 */
export function appArg(workspace: string, arg: string | undefined, cmd = 'build', cwd: string = process.cwd()): string | undefined {
  if (arg === undefined) return undefined;
  const here = resolve(cwd, arg);
  const ws = resolve(workspace);
  let dir = false;
  try {
    dir = statSync(here).isDirectory();
  } catch {
    /* not a folder here */
  }
  if (!dir) return arg;
  if (here === ws) return undefined;
  if (here.startsWith(ws + sep)) return here;
  throw new UserError(
    `${here} is not in the lab's workspace (${ws})`,
    existsSync(join(ws, arg))
      ? `the workspace's own copy: \`kube-seclab ${cmd} ${join(ws, arg)}\``
      : 'the lab works on the app folders a lesson handed you there: `cd` into the workspace (`kube-seclab status` prints it)',
  );
}

/** How the learner deploys an app's build: the Deployment the lessons run it in, when the lab knows it. */
async function deployHint(lab: Lab, app: string, image: string): Promise<string> {
  const [t, ...more] = await lab.appTargets(app);
  if (!t)
    return `deploy it: \`kube-seclab build ${app} --deploy NAMESPACE/DEPLOYMENT\` (the Deployment that runs ${app}: \`kubectl get deploy -A -o wide | grep ${app}\`), or kubectl set image … ${image}`;
  return `deploy it: kube-seclab build ${app} --deploy ${t.namespace}/${t.name}${more.length ? ` (or ${more.map((m) => `${m.namespace}/${m.name}`).join(', ')})` : ''}`;
}

/** `build [PATH] [--deploy NS/NAME[:CONTAINER]]`: the learner's app sources as the image the cluster runs. */
async function buildCommand(lab: Lab, args: string[], o: CommandOptions, rep: ReturnType<typeof lineReporter>): Promise<number> {
  let deploy: { namespace: string; name: string; container?: string } | undefined;
  if (o.deploy !== undefined) {
    const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)(?::([a-z0-9-]+))?$/.exec(o.deploy);
    if (!m) throw new UserError(`--deploy ${o.deploy}: expected NAMESPACE/DEPLOYMENT[:CONTAINER]`, 'for example --deploy shop/storefront');
    deploy = { namespace: m[1], name: m[2], container: m[3] };
  }
  const { build, deployed } = await lab.build(appArg(lab.workspace, args[0]), { deploy, reporter: o.json ? undefined : rep });
  if (o.json) {
    out(JSON.stringify({ ...build, deployed }, null, 2));
    return EXIT.ok;
  }
  out(`${style.success(symbols.pass)} built ${style.bold(build.app)} from ${join(lab.workspace, build.path)}`);
  out(`  image  ${style.accent(build.image)}`);
  if (deployed)
    out(
      `  ${style.success(symbols.pass)} ${deployed} now runs it ${style.muted(`(watch it roll out: kubectl -n ${deploy!.namespace} rollout status deploy/${deploy!.name})`)}`,
    );
  else out(style.muted(`  ${await deployHint(lab, build.path, build.image)}`));
  return EXIT.ok;
}

/** `scan [IMAGE|PATH] [--deploy NS/NAME[:CONTAINER]] [--json]`: known-vulnerable npm packages, from the lab's offline advisory snapshot. */
async function scanCommand(lab: Lab, args: string[], o: CommandOptions): Promise<number> {
  const scan = await import('../core/scan.js');
  const { appFolder, buildOf, readBuilds, LAB_REGISTRY } = await import('../core/builds.js');
  if (args.length > 1 || (args.length && o.deploy !== undefined))
    throw new UserError(
      'scan one thing: an image, a folder, or --deploy NS/NAME',
      '`kube-seclab scan catalog-search`, `kube-seclab scan registry.kube-seclab.local/<app>@sha256:…`, `kube-seclab scan --deploy NS/NAME`',
    );
  let report: import('../core/scan.js').ScanReport;
  if (o.deploy !== undefined) {
    const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)(?::([a-z0-9-]+))?$/.exec(o.deploy);
    if (!m) throw new UserError(`--deploy ${o.deploy}: expected NAMESPACE/DEPLOYMENT[:CONTAINER]`, 'for example --deploy catalog/catalog-search');
    const { runningBuild } = await import('../core/checks/deployedBuild.js');
    const r = await runningBuild(
      { cluster: await lab.cluster(), engine: lab.engine, workspace: lab.workspace, lessonDir: '', lessonId: '' },
      { namespace: m[1], name: m[2], container: m[3] },
    );
    if ('failure' in r) throw new UserError(r.failure, 'the lab can scan what it built; for any other image use a scanner such as trivy or grype');
    report = await scan.scanBuild(r.build);
  } else if (args[0] && /^[a-z0-9.-]+(:\d+)?\/.+[:@]/.test(args[0]) && !existsSync(args[0])) {
    const build = buildOf(await readBuilds(lab.workspace), args[0], lab.engine.name);
    if (!build) {
      throw new UserError(
        `${args[0]} is not an image this lab built on the ${lab.engine.name} engine`,
        args[0].startsWith(`${LAB_REGISTRY}/`) && args[0].includes('@sha256:')
          ? '`kube-seclab build` prints the images it builds; `kube-seclab scan --deploy NS/NAME` scans what a Deployment runs'
          : `the lab scans the images it built, by digest (${LAB_REGISTRY}/<app>@sha256:…); for any other image use trivy (\`trivy image IMAGE\`) or grype`,
      );
    }
    report = await scan.scanBuild(build);
  } else {
    // A folder from where the learner stands (any folder: scanning reads, never builds), else an app of the workspace.
    const here = args[0] !== undefined ? resolve(args[0]) : undefined;
    const inWorkspace = here !== undefined && (here === resolve(lab.workspace) || here.startsWith(resolve(lab.workspace) + sep));
    const dir = here && existsSync(here) && !inWorkspace ? here : (await appFolder(lab.workspace, appArg(lab.workspace, args[0], 'scan'))).dir;
    report = await scan.scanFolder(dir);
  }
  if (o.json) {
    out(JSON.stringify(report, null, 2));
    return report.findings.length ? EXIT.failed : EXIT.ok;
  }
  out(`${style.bold('scanned')} ${report.target}`);
  out(style.muted(`  packages from ${report.source}`));
  out(style.muted(`  advisories: ${report.advisories.source}, snapshot of ${report.advisories.updated} (${scan.ADVISORIES_FILE})`));
  for (const f of report.findings) {
    const a = f.advisory;
    const sev = a.severity.toUpperCase();
    out(
      `  ${style.error(symbols.fail)} ${['HIGH', 'CRITICAL'].includes(sev) ? style.error(sev) : style.warning(sev)} ${style.bold(`${f.name} ${f.version}`)}  ${a.id}${a.aliases.length ? ` (${a.aliases.join(', ')})` : ''}${a.fixed ? `  fixed in ${style.success(a.fixed)}` : ''}`,
    );
    out(`      ${f.path} — ${a.summary}`);
    out(style.muted(`      ${a.url}`));
  }
  const n = report.packages.length;
  if (report.findings.length)
    out(
      `${style.error(symbols.fail)} ${report.findings.length} known vulnerabilit${report.findings.length === 1 ? 'y' : 'ies'} in ${n} npm package${n === 1 ? '' : 's'}`,
    );
  else
    out(
      `${style.success(symbols.pass)} no known vulnerability in ${n} npm package${n === 1 ? '' : 's'}${n ? `: ${report.packages.map((p) => `${p.name}@${p.version}`).join(', ')}` : ''}`,
    );
  return report.findings.length ? EXIT.failed : EXIT.ok;
}

/** `sbom [PATH] [--out FILE]`: a CycloneDX SBOM of an app folder, and the image (the lab's build of those sources) it describes. */
async function sbomCommand(lab: Lab, args: string[], o: CommandOptions): Promise<number> {
  const scan = await import('../core/scan.js');
  const { appFolder } = await import('../core/builds.js');
  if (args.length > 1) throw new UserError(`unexpected argument ${args[1]}`, '`kube-seclab sbom [PATH] [--out FILE]`');
  const { app, path, dir } = await appFolder(lab.workspace, appArg(lab.workspace, args[0], 'sbom'));
  const build = await scan.buildOfSources(lab.workspace, dir, lab.engine.name);
  const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
  const doc = await scan.generateSbom(dir, { image: build?.image, toolVersion: version });
  const text = JSON.stringify(doc, null, 2) + '\n';
  const note = (s: string) => (o.out ? out(s) : err(s));
  if (o.out) await writeFileAtomic(o.out, text);
  else out(text.trimEnd());
  const components = (doc.components as unknown[]).length;
  note(
    `${style.success(symbols.pass, o.out ? process.stdout : process.stderr)} CycloneDX ${scan.CYCLONEDX_SPEC} SBOM of ${dir}: ${components} component${components === 1 ? '' : 's'}${o.out ? ` → ${o.out}` : ''}`,
  );
  if (!build) {
    note(
      style.warning(
        `  these sources were never built on the ${lab.engine.name} engine, so the SBOM describes no image yet: \`kube-seclab build ${app}\`, then generate it again`,
        o.out ? process.stdout : process.stderr,
      ),
    );
    return EXIT.ok;
  }
  note(
    `  describes ${build.image}  ${style.muted(`(your build of these very sources, ${build.builtAt.replace('T', ' ').slice(0, 19)} UTC)`, o.out ? process.stdout : process.stderr)}`,
  );
  if (o.out && resolve(o.out).startsWith(resolve(dir) + '/'))
    note(style.warning('  the file is inside the app folder: its sources changed, so the next build is a new image — write it outside', process.stdout));
  // The real namespace and ConfigMap where the lessons know them; else how to find the namespace.
  const [t] = await lab.appTargets(path);
  const ns = t?.namespace ?? 'NAMESPACE';
  const cm = t?.configMap ?? `${t?.name ?? app}-sbom`;
  const file = o.out ?? `${app}.cdx.json`;
  const stream = o.out ? process.stdout : process.stderr;
  note(
    style.muted(
      `  publish it next to the Deployment:${o.out ? '' : ` \`kube-seclab sbom ${app} --out ${file}\` (in a folder outside ${app}/), then`} kubectl -n ${ns} create configmap ${cm} --from-file=${scan.SBOM_KEY}=${shellQuote(file)} && kubectl -n ${ns} annotate configmap ${cm} ${scan.SBOM_DIGEST_ANNOTATION}=${build.digest}`,
      stream,
    ),
  );
  if (!t) note(style.muted(`  NAMESPACE: the namespace of the Deployment that runs ${build.image} — \`kubectl get deploy -A -o wide | grep ${app}\``, stream));
  return EXIT.ok;
}

/** `sign [IMAGE] [--key FILE] [--generate-key]`: an ed25519 key pair in the workspace; a signature of IMAGE (by digest) in the lab's signature store. */
async function signCommand(lab: Lab, args: string[], o: CommandOptions): Promise<number> {
  const { generateSigningKey, signImage } = await import('../core/signing.js');
  if (!args[0] && !o['generate-key'])
    throw new UserError('what to sign?', '`kube-seclab sign --generate-key` makes a key pair; `kube-seclab sign REPOSITORY@sha256:DIGEST` signs an image');
  if (args.length > 1) throw new UserError(`unexpected argument ${args[1]}`, '`kube-seclab sign IMAGE [--key FILE] [--generate-key]`');
  if (o['generate-key']) {
    if (o.key) throw new UserError("--generate-key makes the workspace's key; --key names another one: use one of them");
    const k = await generateSigningKey(lab.workspace);
    out(`${style.success(symbols.pass)} new ed25519 key pair ${style.muted(`(key id ${k.keyId})`)}`);
    out(`  private  ${k.key} ${style.muted('(keep it secret: whoever has it can sign)')}`);
    out(`  public   ${style.accent(k.pub)} ${style.muted('(what a verifier trusts)')}`);
  }
  if (!args[0]) return EXIT.ok;
  const s = await signImage({ cluster: await lab.cluster(), workspace: lab.workspace, image: args[0], keyFile: o.key });
  if (o.json) {
    out(
      JSON.stringify(
        { repository: s.ref.repo, digest: s.ref.digest, keyId: s.keyId, key: s.keyPath, store: `${s.store.namespace}/${s.store.name}`, entry: s.entry },
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  out(`${style.success(symbols.pass)} signed ${style.bold(`${s.ref.repo}@${s.ref.digest}`)} with ${s.keyPath} ${style.muted(`(key id ${s.keyId})`)}`);
  out(
    style.muted(
      `  stored as ${s.entry} in ConfigMap ${s.store.namespace}/${s.store.name}: kubectl -n ${s.store.namespace} get configmap ${s.store.name} -o yaml`,
    ),
  );
  return EXIT.ok;
}

/** Every lab on this host after the current one's status: name, engine, whether its cluster runs. */
function printLabs(labs: LabOverview[]) {
  out('');
  out(style.bold(`labs on this host (${labs.length})`));
  const w = Math.max(...labs.map((l) => l.name.length));
  const ew = Math.max(5, ...labs.map((l) => l.engine.length));
  for (const l of labs) {
    const state = l.error
      ? style.warning(l.error)
      : !l.exists
        ? style.muted('no cluster')
        : l.healthy
          ? style.success('running')
          : l.running
            ? style.warning('running, unhealthy')
            : style.muted('stopped');
    out(
      ` ${l.current ? style.accent('▸') : ' '} ${l.name.padEnd(w)}  ${l.engine.padEnd(ew)}  ${state}${l.running && l.apiserver ? style.muted(`  ${l.apiserver}`) : ''}${l.current ? style.muted('  (this lab)') : ''}`,
    );
  }
  if (labs.length > 1 || labs[0]?.name !== 'default') out(style.muted(`  ${symbols.arrow} another lab: kube-seclab --name NAME status`));
}

/** `progress export`: this learner's progress as the documented JSON contract or JUnit XML. */
async function progressCommand(lab: Lab, args: string[], o: CommandOptions): Promise<number> {
  if (args[0] !== 'export')
    throw new UserError(`unknown progress command ${args[0] ?? ''}`.trim(), 'try `kube-seclab progress export [--format json|junit] [--out FILE]`');
  if (args.length > 1)
    throw new UserError(
      `unexpected argument ${args[1]}`,
      '`kube-seclab progress export [--format json|junit] [--out FILE] [--learner NAME] [--learner-id ID]`',
    );
  const format = o.format ?? 'json';
  if (format !== 'json' && format !== 'junit') throw new UserError(`unknown export format "${format}"`, 'use --format json or --format junit');
  const flags = { name: o.learner, id: o['learner-id'] };
  for (const [k, v] of [
    ['--learner', flags.name],
    ['--learner-id', flags.id],
  ] as const)
    if (v !== undefined && !v.trim()) throw new UserError(`${k} is empty`);
  // Flags are remembered, so the next export (and the teacher's report) keeps the same name.
  const progress =
    flags.name !== undefined || flags.id !== undefined
      ? await lab.progress.update((d) => {
          d.learner = { ...d.learner, ...(flags.name ? { name: flags.name.trim() } : {}), ...(flags.id ? { id: flags.id.trim() } : {}) };
        })
      : await lab.progress.load();
  const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
  const exp = buildExport({
    lessons: lab.catalogue.lessons,
    progress,
    learner: resolveLearner(flags, progress, lab.env),
    labVersion: version,
    labName: lab.paths.name,
    engine: lab.engine.name,
  });
  const text = format === 'json' ? JSON.stringify(exp, null, 2) + '\n' : toJunit(exp);
  if (o.out) {
    await writeFileAtomic(o.out, text);
    err(
      `${style.success(symbols.pass, process.stderr)} wrote ${o.out}: ${exp.learner.name}, ${exp.lessons.filter((l) => l.done).length}/${exp.lessons.length} lessons done (${format})`,
    );
  } else process.stdout.write(text);
  return EXIT.ok;
}

/** `class report FILES...`: merge learners' exports; a summary here, the page with --html. */
async function classCommand(args: string[], o: CommandOptions): Promise<number> {
  if (args[0] !== 'report')
    throw new UserError(`unknown class command ${args[0] ?? ''}`.trim(), 'try `kube-seclab class report FILES... [--html report.html] [--json]`');
  const files = args.slice(1);
  if (!files.length)
    throw new UserError('which exports?', 'each learner runs `kube-seclab progress export --out NAME.json`; then `kube-seclab class report *.json`');
  const r = await classReport(files);
  for (const p of r.problems) err(`${style.error('kube-seclab: skipped', process.stderr)} ${p.file}: ${p.message}`);
  if (!r.learners.length) {
    err(
      `${style.error('kube-seclab:', process.stderr)} ${files.length === 1 ? 'the file is not' : `none of the ${files.length} files is`} a usable progress export\n  ${symbols.arrow} each learner runs \`kube-seclab progress export --out NAME.json\``,
    );
    return EXIT.usage;
  }
  for (const n of r.notes) err(style.warning(`note: ${n}`, process.stderr));
  if (o.html) {
    await writeFileAtomic(o.html, renderHtml(r));
    err(`${style.success(symbols.pass, process.stderr)} wrote ${o.html} (${r.learners.length} learner${r.learners.length === 1 ? '' : 's'})`);
  }
  if (o.json) out(JSON.stringify(r, null, 2));
  else for (const line of formatReportText(r)) out(line);
  return EXIT.ok;
}

/** `images list | save FILE | load FILE`: the Docker images a kind classroom needs, on one USB stick. */
async function imagesCommand(lab: Lab, args: string[], rep: ReturnType<typeof lineReporter>): Promise<number> {
  const { imageCatalogue, saveImages, loadImages, KIND_DEFAULT_NODE_IMAGE, LAB_BASE_IMAGE } = await import('../engines/kind/images.js');
  const { packageRoot } = await import('../core/paths.js');
  const { dockerReachable } = await import('../engines/kind/tools.js');
  const [sub, file] = args;
  const images = await imageCatalogue(packageRoot);
  const nodeImage = lab.env.KUBE_SECLAB_KIND_IMAGE || KIND_DEFAULT_NODE_IMAGE;
  if (sub === 'list') {
    for (const r of [nodeImage, LAB_BASE_IMAGE, ...images.map((i) => i.ref)]) out(r);
    return EXIT.ok;
  }
  if ((sub !== 'save' && sub !== 'load') || !file)
    throw new UserError('usage: kube-seclab images list | save FILE | load FILE', "save on a machine with internet, load on each learner's machine");
  const d = await dockerReachable(10_000);
  if (!d.ok) throw new UserError(`images ${sub} needs a running Docker daemon (${d.detail})`, 'start Docker, then run it again');
  if (sub === 'save') {
    const refs = await rep.task(`Build the lab's images and save ${images.length + 2} images to ${file}`, async (update) =>
      saveImages({ images, nodeImage, file, update }),
    );
    const { statSync } = await import('node:fs');
    out(
      `${style.success(symbols.pass)} ${refs.length} images in ${file} (${(statSync(file).size / 2 ** 20).toFixed(0)} MiB): load them with \`kube-seclab images load ${file}\``,
    );
    return EXIT.ok;
  }
  const loaded = await rep.task(`Load the images in ${file} into Docker`, async () => loadImages(file));
  out(`${style.success(symbols.pass)} loaded ${loaded.length} images${loaded.length ? `: ${loaded.join(', ')}` : ''}`);
  return EXIT.ok;
}

/** How to carry out a shown solution: the commands to run (as printed, in a shell `kube-seclab env` set up) and what to do by hand, in order. */
function solutionHowTo(s: { dir: string; steps: ({ run: string } | { todo: string })[] }, id: string): string {
  const lines = [
    style.bold('To carry it out in this lab'),
    style.muted(
      `(in a shell set up by \`eval "$(kube-seclab env)"\`; the files above are saved in ${s.dir}; on the lesson as \`kube-seclab reset ${id}\` sets it up)`,
    ),
    ...s.steps.map((st, i) => `  ${i + 1}. ${'run' in st ? st.run : `${style.muted('by hand:')} ${st.todo}`}`),
    style.muted(`or let the lab do it: kube-seclab solution ${id} --apply`),
  ];
  return lines.join('\n');
}
