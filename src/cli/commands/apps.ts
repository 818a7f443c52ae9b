import { join, resolve, sep } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { Lab } from '../../core/lab.js';
import { UserError } from '../../core/errors.js';
import type { lineReporter } from '../reporter.js';
import { style, symbols } from '../style.js';
import { EXIT } from '../exit.js';
import type { CommandOptions } from '../commands.js';
import { writeFileAtomic } from '../../core/fsutil.js';
import { shellQuote } from '../../core/shell.js';
import { out, err } from '../output.js';

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
export async function buildCommand(lab: Lab, args: string[], o: CommandOptions, rep: ReturnType<typeof lineReporter>): Promise<number> {
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
export async function scanCommand(lab: Lab, args: string[], o: CommandOptions): Promise<number> {
  const scan = await import('../../core/scan.js');
  const { appFolder, buildOf, readBuilds, LAB_REGISTRY } = await import('../../core/builds.js');
  if (args.length > 1 || (args.length && o.deploy !== undefined))
    throw new UserError(
      'scan one thing: an image, a folder, or --deploy NS/NAME',
      '`kube-seclab scan catalog-search`, `kube-seclab scan registry.kube-seclab.local/<app>@sha256:…`, `kube-seclab scan --deploy NS/NAME`',
    );
  let report: import('../../core/scan.js').ScanReport;
  if (o.deploy !== undefined) {
    const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)(?::([a-z0-9-]+))?$/.exec(o.deploy);
    if (!m) throw new UserError(`--deploy ${o.deploy}: expected NAMESPACE/DEPLOYMENT[:CONTAINER]`, 'for example --deploy catalog/catalog-search');
    const r = await lab.runningBuild({ namespace: m[1], name: m[2], container: m[3] });
    if ('failure' in r) throw new UserError(r.failure, 'the lab can scan what it built; for any other image use a scanner such as trivy or grype');
    report = await scan.scanBuild(r.build);
  } else if (args[0] && /^[a-z0-9.-]+(:\d+)?\/.+[:@]/.test(args[0]) && !existsSync(args[0])) {
    const build = buildOf(await readBuilds(lab.workspace), args[0], lab.engineName);
    if (!build) {
      throw new UserError(
        `${args[0]} is not an image this lab built on the ${lab.engineName} engine`,
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
export async function sbomCommand(lab: Lab, args: string[], o: CommandOptions): Promise<number> {
  const scan = await import('../../core/scan.js');
  const { appFolder } = await import('../../core/builds.js');
  if (args.length > 1) throw new UserError(`unexpected argument ${args[1]}`, '`kube-seclab sbom [PATH] [--out FILE]`');
  const { app, path, dir } = await appFolder(lab.workspace, appArg(lab.workspace, args[0], 'sbom'));
  const build = await scan.buildOfSources(lab.workspace, dir, lab.engineName);
  const { version } = (await import('../../../package.json', { with: { type: 'json' } })).default;
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
        `  these sources were never built on the ${lab.engineName} engine, so the SBOM describes no image yet: \`kube-seclab build ${app}\`, then generate it again`,
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
export async function signCommand(lab: Lab, args: string[], o: CommandOptions): Promise<number> {
  const { generateSigningKey, signImage } = await import('../../core/signing.js');
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
