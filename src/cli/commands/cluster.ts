import type { Lab } from '../../core/lab.js';
import { UserError } from '../../core/errors.js';
import type { lineReporter } from '../reporter.js';
import { style, symbols } from '../style.js';
import { EXIT } from '../exit.js';
import type { CommandOptions } from '../commands.js';
import { listLabs, type LabOverview } from '../../core/labs.js';
import { doctor } from '../doctor.js';
import { SHELL_LINE } from '../shell-line.js';
import { out } from '../output.js';

type Reporter = ReturnType<typeof lineReporter>;

/** `up`: create or start the lab's cluster. */
export async function upCommand(lab: Lab, rep: Reporter): Promise<number> {
  await lab.up(rep);
  if (lab.namespacePrefix)
    out(
      `${style.success(symbols.pass)} learner "${lab.namespacePrefix}" is ready in the shared cluster (a ServiceAccount confined to its namespaces). In the learner's shell: ${style.accent(lab.envCommand)}`,
    );
  else out(`${style.success(symbols.pass)} the ${lab.engineName} cluster is ready. ${SHELL_LINE} ${style.accent(lab.envCommand)}`);
  return EXIT.ok;
}

/** `down`: stop and delete it. */
export async function downCommand(lab: Lab, rep: Reporter): Promise<number> {
  await lab.down(rep);
  return EXIT.ok;
}

/** `status [--json]`: the cluster's health, where things are, every lab on this host. */
export async function statusCommand(lab: Lab, env: NodeJS.ProcessEnv, o: CommandOptions): Promise<number> {
  const [st, labs] = await Promise.all([lab.status(), listLabs(env, lab.paths.name, lab.engines)]);
  // Every field the text below shows, by the same names.
  const nodeFiles = st.exists ? lab.nodeAccessHint() : null;
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

/** `doctor [--json]`: what this machine has and lacks for the lab. */
export async function doctorCommand(lab: Lab, o: CommandOptions): Promise<number> {
  const d = await doctor(lab);
  if (o.json) out(JSON.stringify(d, null, 2));
  else
    for (const item of d.items)
      out(
        ` ${item.ok ? style.success(symbols.pass) : item.optional ? style.muted(symbols.skip) : style.error(symbols.fail)} ${item.name.padEnd(20)} ${item.detail}${!item.ok && item.fix ? style.muted(`  ${symbols.arrow} ${item.fix}`) : ''}`,
      );
  return d.items.every((i) => i.ok || i.optional) ? EXIT.ok : EXIT.failed;
}

/** `env`: the shell lines that point kubectl and `kube-seclab` at this lab. */
export async function envCommand(lab: Lab): Promise<number> {
  out((await lab.shellEnv()).script);
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

/** `images list | save FILE | load FILE`: the Docker images a kind classroom needs, on one USB stick. */
export async function imagesCommand(lab: Lab, args: string[], rep: ReturnType<typeof lineReporter>): Promise<number> {
  const { imageCatalogue, saveImages, loadImages, KIND_DEFAULT_NODE_IMAGE, LAB_BASE_IMAGE } = await import('../../engines/kind/images.js');
  const { packageRoot } = await import('../../core/paths.js');
  const { dockerReachable } = await import('../../engines/kind/tools.js');
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
