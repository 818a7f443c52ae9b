import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { component } from '../../lessons/schema.js';
import { KUBELET_CONFIG } from '../../scenarios/objects.js';
import { editManifest } from '../../scenarios/manifest-edit.js';
import { UserError } from '../../errors.js';
import { sleep } from '../../fsutil.js';
import type { StepKind } from '../types.js';

/** A file on the control-plane node: `content` inline, or `file` of this folder. */
export const nodeFile: StepKind<{ path: string; content?: string; file?: string }> = {
  type: 'nodeFile',
  schema: z
    .object({ path: z.string().startsWith('/'), content: z.string().optional(), file: z.string().optional() })
    .strict()
    .refine((p) => (p.content === undefined) !== (p.file === undefined), 'give either content or file'),
  async run(ctx, p) {
    const content = p.content ?? (await readFile(join(ctx.dir, p.file ?? ''), 'utf8'));
    await ctx.engine.writeNodeFile(p.path, content);
  },
  undo: (p) => [{ nodeFile: p.path }],
  files: (p) => (p.file ? [p.file] : []),
};

export const removeNodeFile: StepKind<string> = {
  type: 'removeNodeFile',
  schema: z.string().startsWith('/'),
  async run(ctx, path) {
    await ctx.engine.removeNodeFile(path);
  },
  undo: (path) => [{ nodeFile: path }],
};

/** Change the kubelet's config file (dotted paths → values, null removes) and restart the kubelet (kind). */
export const kubeletConfig: StepKind<{ set: Record<string, unknown>; restart: boolean }> = {
  type: 'kubeletConfig',
  schema: z.object({ set: z.record(z.string(), z.unknown()), restart: z.boolean().default(true) }).strict(),
  async run(ctx, p) {
    if (!ctx.engine.restartKubelet) throw new UserError(`the ${ctx.engine.name} engine has no kubelet to configure`, 'use `--engine kind`');
    const cur = parseDocument((await ctx.engine.readNodeFile(KUBELET_CONFIG)) ?? '{}');
    for (const [path, value] of Object.entries(p.set)) {
      if (value === null) cur.deleteIn(path.split('.'));
      else cur.setIn(path.split('.'), value);
    }
    await ctx.engine.writeNodeFile(KUBELET_CONFIG, cur.toString());
    if (p.restart) await ctx.engine.restartKubelet();
  },
  undo: () => [{ kubelet: true }],
};

const manifestSchema = z
  .object({
    component,
    setFlags: z.record(z.string().regex(/^--/), z.string()).optional(),
    removeFlags: z.array(z.string().regex(/^--/)).optional(),
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
    const cur = await ctx.engine.readManifest(c);
    await ctx.engine.writeManifest(c, editManifest(cur, edit), { wait });
    if (wait === false) await sleep(3000); // let the component restart into its broken state before anything is judged
  },
  undo: (p) => [{ controlPlane: p.component }],
};
