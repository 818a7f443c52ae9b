import { parseDocument, YAMLSeq, isSeq } from 'yaml';
import { takesNext } from '../engine/component.js';

export interface ManifestEdit {
  setFlags?: Record<string, string>;
  /** How set flags are written: `--flag=value` (one list item, the default) or `--flag`, `value` (two). */
  syntax?: 'equals' | 'separate';
  removeFlags?: string[];
  volumes?: { name: string; hostPath: string; mountPath: string; readOnly?: boolean; type?: string }[];
}

/** Edit a static-pod manifest the way a person would: flags in the command list, a hostPath volume + mount. Comments survive. */
export function editManifest(yamlText: string, edit: ManifestEdit): string {
  const doc = parseDocument(yamlText);
  const cmd = doc.getIn(['spec', 'containers', 0, 'command']);
  if (!isSeq(cmd)) throw new Error('the manifest has no spec.containers[0].command list');
  const items = cmd.items as any[];
  const text = (n: any) => String(n?.value ?? n);
  const flagOf = (n: any) => text(n).split('=')[0];
  // A flag written as two items (`--flag`, `value`) takes its value item with it.
  const remove = (i: number) => {
    if (text(items[i]) === flagOf(items[i]) && takesNext(flagOf(items[i]), items[i + 1] === undefined ? undefined : text(items[i + 1]))) cmd.delete(i + 1);
    cmd.delete(i);
  };
  for (const f of edit.removeFlags ?? []) {
    for (let i = items.length - 1; i >= 0; i--) if (flagOf(items[i]) === f) remove(i);
  }
  for (const [f, v] of Object.entries(edit.setFlags ?? {})) {
    // Every earlier occurrence goes (the components read the last one), the new one takes the first's place.
    let i = items.findIndex((n) => flagOf(n) === f);
    for (let j = items.length - 1; j >= 0; j--) if (flagOf(items[j]) === f) remove(j);
    if (i < 0 || i > items.length) i = items.length;
    const nodes = edit.syntax === 'separate' ? [doc.createNode(f), doc.createNode(v)] : [doc.createNode(`${f}=${v}`)];
    items.splice(i, 0, ...nodes);
  }
  for (const v of edit.volumes ?? []) {
    let vols = doc.getIn(['spec', 'volumes']);
    if (!isSeq(vols)) {
      doc.setIn(['spec', 'volumes'], new YAMLSeq());
      vols = doc.getIn(['spec', 'volumes']);
    }
    let mounts = doc.getIn(['spec', 'containers', 0, 'volumeMounts']);
    if (!isSeq(mounts)) {
      doc.setIn(['spec', 'containers', 0, 'volumeMounts'], new YAMLSeq());
      mounts = doc.getIn(['spec', 'containers', 0, 'volumeMounts']);
    }
    const vs = vols as YAMLSeq;
    const ms = mounts as YAMLSeq;
    const vi = vs.items.findIndex((n: any) => n?.get?.('name') === v.name);
    const volNode = doc.createNode({ name: v.name, hostPath: { path: v.hostPath, type: v.type ?? 'DirectoryOrCreate' } });
    if (vi >= 0) vs.set(vi, volNode);
    else vs.add(volNode);
    const mi = ms.items.findIndex((n: any) => n?.get?.('name') === v.name);
    const mountNode = doc.createNode({ name: v.name, mountPath: v.mountPath, ...(v.readOnly ? { readOnly: true } : {}) });
    if (mi >= 0) ms.set(mi, mountNode);
    else ms.add(mountNode);
  }
  return doc.toString();
}
