import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { component } from '../../lessons/schema.js';
import { KUBELET_CONFIG } from '../../scenarios/objects.js';
import { editManifest } from '../../scenarios/manifest-edit.js';
import { UserError } from '../../errors.js';
import { sleep } from '../../fsutil.js';
import type { ByHandContext, StepKind } from '../types.js';
import { controlPlaneOf } from '../../engine/index.js';

/** Where the learner reaches the node, as the start of an instruction. */
const onNode = (h: ByHandContext) => (h.names.node ? `On the control-plane node (${h.names.node.shell})` : 'On the control-plane node');
/** A node path as the learner's shell reaches it. */
const nodePath = (h: ByHandContext, path: string) => `${h.names.node?.root ?? ''}${path}`;

/** A file on the control-plane node: `content` inline, or `file` of this folder. */
export const nodeFile: StepKind<{ path: string; content?: string; file?: string }> = {
  type: 'nodeFile',
  schema: z
    .object({ path: z.string().startsWith('/'), content: z.string().optional(), file: z.string().optional() })
    .strict()
    .refine((p) => (p.content === undefined) !== (p.file === undefined), 'give either content or file'),
  async run(ctx, p) {
    const content = p.content ?? (await readFile(join(ctx.dir, p.file ?? ''), 'utf8'));
    await controlPlaneOf(ctx.engine).writeNodeFile(p.path, content);
  },
  undo: (p) => [{ nodeFile: p.path }],
  byHand: (p, h) => ({
    todo: `${onNode(h)}, write ${nodePath(h, p.path)} with ${p.file ? `the content of ${h.file(p.file)}` : 'the content this step gives in the steps file above'}`,
  }),
  files: (p) => (p.file ? [p.file] : []),
};

export const removeNodeFile: StepKind<string> = {
  type: 'removeNodeFile',
  schema: z.string().startsWith('/'),
  async run(ctx, path) {
    await controlPlaneOf(ctx.engine).removeNodeFile(path);
  },
  undo: (path) => [{ nodeFile: path }],
  byHand: (path, h) => ({ todo: `${onNode(h)}, delete ${nodePath(h, path)}` }),
};

/** Change the kubelet's config file (dotted paths → values, null removes) and restart the kubelet (kind). */
export const kubeletConfig: StepKind<{ set: Record<string, unknown>; restart: boolean }> = {
  type: 'kubeletConfig',
  schema: z.object({ set: z.record(z.string(), z.unknown()), restart: z.boolean().default(true) }).strict(),
  async run(ctx, p) {
    const node = ctx.engine.node;
    if (!node) throw new UserError(`the ${ctx.engine.name} engine has no kubelet to configure`, 'use `--engine kind`');
    const cur = parseDocument((await controlPlaneOf(ctx.engine).readNodeFile(KUBELET_CONFIG)) ?? '{}');
    for (const [path, value] of Object.entries(p.set)) {
      if (value === null) cur.deleteIn(path.split('.'));
      else cur.setIn(path.split('.'), value);
    }
    await controlPlaneOf(ctx.engine).writeNodeFile(KUBELET_CONFIG, cur.toString());
    if (p.restart) await node.restartKubelet();
  },
  undo: () => [{ kubelet: true }],
  byHand: (p, h) => ({
    todo:
      `${onNode(h)}, in ${nodePath(h, KUBELET_CONFIG)} set ${Object.entries(p.set)
        .map(([k, v]) => (v === null ? `remove ${k}` : `${k}: ${JSON.stringify(v)}`))
        .join(', ')}` + (p.restart ? ', then restart the kubelet (systemctl restart kubelet)' : ''),
  }),
};

const manifestSchema = z
  .object({
    component,
    setFlags: z.record(z.string().regex(/^--/), z.string()).optional(),
    removeFlags: z.array(z.string().regex(/^--/)).optional(),
    /** `equals` (default): `--flag=value`; `separate`: `--flag` and `value` as two items, which the components read the same. */
    syntax: z.enum(['equals', 'separate']).optional(),
    volumes: z
      .array(
        z.object({ name: z.string(), hostPath: z.string(), mountPath: z.string(), readOnly: z.boolean().optional(), type: z.string().optional() }).strict(),
      )
      .optional(),
    /** false: do not wait for the component to run healthy (a shortcut that breaks it on purpose). */
    wait: z.boolean().optional(),
  })
  .strict();

/** Edit a control-plane component's static-pod manifest (flags, volumes); the kubelet restarts it. */
export const manifest: StepKind<z.infer<typeof manifestSchema>> = {
  type: 'manifest',
  schema: manifestSchema,
  async run(ctx, p) {
    const { component: c, wait, ...edit } = p;
    const cur = await controlPlaneOf(ctx.engine).readManifest(c);
    await controlPlaneOf(ctx.engine).writeManifest(c, editManifest(cur, edit), { wait });
    if (wait === false) await sleep(3000); // let the component restart into its broken state before anything is judged
  },
  undo: (p) => [{ controlPlane: p.component }],
  byHand: (p, h) => {
    const edits = [
      ...Object.entries(p.setFlags ?? {}).map(([f, v]) => (p.syntax === 'separate' ? `set ${f} ${v} (two list items)` : `set ${f}=${v}`)),
      ...(p.removeFlags ?? []).map((f) => `remove ${f}`),
      ...(p.volumes ?? []).map(
        (v) => `mount hostPath ${v.hostPath} at ${v.mountPath}${v.readOnly ? ' read-only' : ''} (a volume and a volumeMount named ${v.name})`,
      ),
    ];
    return {
      todo: `${onNode(h)}, edit ${nodePath(h, `/etc/kubernetes/manifests/${p.component}.yaml`)}: ${edits.join('; ')} — the kubelet restarts ${p.component} from the edited file`,
    };
  },
};
