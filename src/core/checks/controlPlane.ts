import { z } from 'zod';
import { parse } from 'yaml';
import type { CheckPrimitive } from './types.js';
import { controlPlaneOf, manifestFlags } from '../engine/index.js';
import { conditionSchema, evaluate } from './path.js';

const component = z.enum(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);

const flagSchema = z
  .object({
    component,
    flag: z.string().regex(/^--/),
    present: z.boolean().optional(),
    equals: z.string().optional(),
    notEquals: z.string().optional(),
    /** For list flags (a,b,c): must include / must not include this item. */
    includes: z.string().optional(),
    excludes: z.string().optional(),
    matches: z.string().optional(),
  })
  .strict();
type Flag = z.infer<typeof flagSchema>;

/** A flag in a control-plane component's static-pod manifest (kube-apiserver.yaml on the node). */
export const controlPlaneFlag: CheckPrimitive<Flag> = {
  type: 'controlPlaneFlag',
  schema: flagSchema,
  controlPlane: true,
  async run(ctx, p) {
    const flags = manifestFlags(await controlPlaneOf(ctx.engine).readManifest(p.component));
    const v = flags.get(p.flag);
    const where = `${p.component}: ${p.flag}`;
    if (p.present === false)
      return v === undefined ? { passed: true, message: `${where} is not set` } : { passed: false, message: `${where} is still set (${v})` };
    if (v === undefined) return { passed: p.present === undefined && p.notEquals !== undefined && !p.equals, message: `${where} is not set` };
    const items = v.split(',');
    if (p.equals !== undefined && v !== p.equals) return { passed: false, message: `${where}=${v}, expected ${p.equals}` };
    if (p.notEquals !== undefined && v === p.notEquals) return { passed: false, message: `${where}=${v}` };
    if (p.includes && !items.includes(p.includes)) return { passed: false, message: `${where}=${v} does not include ${p.includes}` };
    if (p.excludes && items.includes(p.excludes)) return { passed: false, message: `${where}=${v} still includes ${p.excludes}` };
    if (p.matches && !new RegExp(p.matches).test(v)) return { passed: false, message: `${where}=${v} does not match /${p.matches}/` };
    return { passed: true, message: `${where}=${v}` };
  },
};

const fileSchema = z
  .object({
    /** Absolute path on the control-plane node, or `flag:<component>:<--flag>` for the file a flag names. */
    path: z.string(),
    exists: z.boolean().optional(),
    /** Conditions on the file parsed as YAML. */
    assert: z.array(conditionSchema).optional(),
  })
  .strict();
type NodeFile = z.infer<typeof fileSchema>;

/** A file on the control-plane node (an EncryptionConfiguration, an audit policy…), parsed as YAML. */
export const nodeFile: CheckPrimitive<NodeFile> = {
  type: 'nodeFile',
  schema: fileSchema,
  controlPlane: true,
  async run(ctx, p) {
    let path = p.path;
    const m = /^flag:([^:]+):(--.+)$/.exec(path);
    if (m) {
      const v = manifestFlags(await controlPlaneOf(ctx.engine).readManifest(m[1] as any)).get(m[2]);
      if (!v) return { passed: false, message: `${m[1]} has no ${m[2]} flag, so there is no file to look at` };
      path = v;
    }
    const text = await controlPlaneOf(ctx.engine).readNodeFile(path);
    if (p.exists === false)
      return text === undefined ? { passed: true, message: `${path} does not exist` } : { passed: false, message: `${path} still exists` };
    if (text === undefined) return { passed: false, message: `${path} does not exist on the control-plane node` };
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (e) {
      return { passed: false, message: `${path} is not valid YAML: ${(e as Error).message.split('\n')[0]}` };
    }
    for (const c of p.assert ?? []) {
      const why = evaluate(doc, c);
      if (why) return { passed: false, message: `${path}: ${why}` };
    }
    return { passed: true, message: `${path} is as it should be` };
  },
};
