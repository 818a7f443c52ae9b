import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { dataRoot, DEFAULT_LAB, packageRoot } from './paths.js';
import { writeFileAtomic } from './fsutil.js';

/**
 * The learner's own shell: `eval "$(npx kube-seclab env)"` (run in the checkout) gives it the lab's
 * kubeconfig and the lab's own `kube-seclab` — this checkout's CLI, never a package of that name
 * from a registry — so every command a lesson prints works as written from any folder.
 */

/** The launcher every `kube-seclab` command of this checkout runs. */
export const LAUNCHER = join(packageRoot, 'bin', 'kube-seclab.js');

/** A word for a POSIX shell: as it is when it is plainly safe, else single-quoted. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The folder holding this checkout's `kube-seclab` command: under the lab's data root, one per
 * checkout (by its path), so two checkouts on one machine never run each other's CLI.
 */
export function commandDir(env: NodeJS.ProcessEnv = process.env, root: string = packageRoot): string {
  return join(resolve(dataRoot(env)), 'command', createHash('sha256').update(resolve(root)).digest('hex').slice(0, 12));
}

/** The command file: it runs this checkout's launcher with the Node.js that wrote it, from wherever the learner is. */
export function commandScript(node: string = process.execPath, launcher: string = LAUNCHER): string {
  return [
    '#!/bin/sh',
    "# kube-seclab: the lab's own command, written by `kube-seclab env` (run it again after moving the checkout or Node.js).",
    `exec ${shellQuote(node)} ${shellQuote(launcher)} "$@"`,
    '',
  ].join('\n');
}

/** Write (or refresh) the command in `dir`; returns its path. Left alone when already right. */
export async function writeCommand(dir: string, node: string = process.execPath, launcher: string = LAUNCHER): Promise<string> {
  const file = join(dir, 'kube-seclab');
  const text = commandScript(node, launcher);
  if ((await readFile(file, 'utf8').catch(() => undefined)) !== text) await writeFileAtomic(file, text, 0o755);
  return file;
}

export interface ShellEnv {
  kubeconfig: string;
  /** The folder of the lab's `kube-seclab` command (put first on PATH unless already there). */
  commandDir: string;
  /** The lab's name: exported when not the default one, so `kube-seclab` in that shell means this lab. */
  name: string;
  /** KUBE_SECLAB_NAME was set though the lab is the default one: unset it. */
  unsetName?: boolean;
  /** The workshop file the lab is limited to (absolute), if any. */
  workshop?: string;
  /** A data root chosen with KUBE_SECLAB_DATA, carried over. */
  data?: string;
}

/**
 * What `kube-seclab env` prints: POSIX shell lines for `eval` — idempotent (evaluated twice, PATH
 * still holds the command's folder once).
 */
export function envScript(e: ShellEnv): string {
  const dir = shellQuote(e.commandDir);
  const lines = [`export KUBECONFIG=${shellQuote(e.kubeconfig)}`, `case ":$PATH:" in *:${dir}:*) ;; *) export PATH=${dir}"\${PATH:+:$PATH}" ;; esac`];
  if (e.data) lines.push(`export KUBE_SECLAB_DATA=${shellQuote(e.data)}`);
  if (e.name !== DEFAULT_LAB) lines.push(`export KUBE_SECLAB_NAME=${shellQuote(e.name)}`);
  else if (e.unsetName) lines.push('unset KUBE_SECLAB_NAME');
  if (e.workshop) lines.push(`export KUBE_SECLAB_WORKSHOP=${shellQuote(e.workshop)}`);
  return lines.join('\n');
}

/**
 * The one line a learner runs in their own shell, from any folder: it evaluates `npx kube-seclab
 * env` inside this checkout (the only place where `npx kube-seclab` is this lab).
 */
export function envCommand(o: { name: string; root?: string }): string {
  return `eval "$(cd ${shellQuote(o.root ?? packageRoot)} && npx kube-seclab${o.name === DEFAULT_LAB ? '' : ` --name ${shellQuote(o.name)}`} env)"`;
}
