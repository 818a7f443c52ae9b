import { z } from 'zod';
import type { Component, Engine } from '../engine/index.js';
import { parse } from 'yaml';
import type { CheckPrimitive } from './types.js';
import { controlPlaneOf, flagBool, manifestFlags, toNodePath } from '../engine/index.js';
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
    /** A whole number of at least this (a retention or size limit: 0 usually means "no limit"). */
    atLeast: z.number().int().optional(),
    /** Said after a failing value: what it means for the learner (e.g. "0 keeps every file forever"). */
    why: z.string().optional(),
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
    const why = p.why ? ` — ${p.why}` : '';
    // A boolean flag reads as Go's ParseBool does: --client-cert-auth, =true, =True and =1 all mean true.
    const wantBool = p.equals === 'true' || p.equals === 'false' ? p.equals === 'true' : undefined;
    if (wantBool !== undefined && flagBool(v) !== undefined) {
      if (flagBool(v) !== wantBool) return { passed: false, message: `${where}=${v}, expected ${p.equals}${why}` };
    } else if (p.equals !== undefined && v !== p.equals) return { passed: false, message: `${where}=${v}, expected ${p.equals}${why}` };
    if (p.atLeast !== undefined) {
      if (!/^\d+$/.test(v)) return { passed: false, message: `${where}=${v} is not a whole number` };
      if (Number(v) < p.atLeast) return { passed: false, message: `${where}=${v}, expected at least ${p.atLeast}${why}` };
    }
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
      const found = await flagFile(ctx.engine, m[1] as Component, m[2]);
      if ('problem' in found) return { passed: false, message: found.problem };
      path = found.nodePath;
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

/**
 * The node file a component's flag names (`--encryption-provider-config`, `--audit-policy-file`…):
 * the flag's value is a path inside the static pod's container, which reaches the node only through
 * a hostPath volume mounted there — the same mapping the kubelet makes.
 */
export async function flagFile(engine: Engine, component: Component, flag: string): Promise<{ nodePath: string; containerPath: string } | { problem: string }> {
  const manifest = await controlPlaneOf(engine).readManifest(component);
  const v = manifestFlags(manifest).get(flag);
  if (!v || v === 'true') return { problem: `${component} has no ${flag} flag, so there is no file to look at` };
  const { nodePath } = toNodePath(manifest, v);
  if (!nodePath)
    return {
      problem: `${flag}=${v} is in no hostPath volume mounted into the ${component} static pod, so ${component} looks for it inside its own container and cannot read it — mount its folder (volumes + volumeMounts)`,
    };
  return { nodePath, containerPath: v };
}

const encryptionSchema = z
  .object({
    /** The resource whose writes must be encrypted (a core-group resource such as secrets). */
    resource: z.string().default('secrets'),
  })
  .strict();
type Encryption = z.infer<typeof encryptionSchema>;

const WRITING_PROVIDERS = ['aescbc', 'aesgcm', 'secretbox', 'kms'];

/**
 * How the API server writes a resource, read from its EncryptionConfiguration as the API server reads
 * it: the first entry whose `resources` covers the resource (by name, `*.` for the core group or
 * `*.*`) decides, and that entry's first provider is the one that writes. Entries for other resources,
 * and providers after the first (kept to read older data), do not matter here.
 */
export const encryptionConfig: CheckPrimitive<Encryption> = {
  type: 'encryptionConfig',
  schema: encryptionSchema,
  controlPlane: true,
  async run(ctx, p) {
    const found = await flagFile(ctx.engine, 'kube-apiserver', '--encryption-provider-config');
    if ('problem' in found) return { passed: false, message: found.problem };
    const text = await controlPlaneOf(ctx.engine).readNodeFile(found.nodePath);
    const where = found.nodePath === found.containerPath ? found.nodePath : `${found.containerPath} (node path ${found.nodePath})`;
    if (text === undefined) return { passed: false, message: `${where} does not exist on the control-plane node` };
    let cfg: any;
    try {
      cfg = parse(text);
    } catch (e) {
      return { passed: false, message: `${where} is not valid YAML: ${(e as Error).message.split('\n')[0]}` };
    }
    return judgeEncryption(cfg, p.resource, where);
  },
};

/** The verdict on a parsed EncryptionConfiguration for one resource (see encryptionConfig). */
export function judgeEncryption(cfg: any, resource: string, where: string): { passed: boolean; message: string } {
  if (cfg?.kind !== 'EncryptionConfiguration' || cfg?.apiVersion !== 'apiserver.config.k8s.io/v1')
    return { passed: false, message: `${where} is not an EncryptionConfiguration (apiVersion apiserver.config.k8s.io/v1)` };
  const entries: any[] = Array.isArray(cfg.resources) ? cfg.resources : [];
  const covers = (e: any) => Array.isArray(e?.resources) && e.resources.some((r: unknown) => r === resource || r === '*.' || r === '*.*');
  const at = entries.findIndex(covers);
  if (at < 0) return { passed: false, message: `no entry of ${where} covers ${resource}, so they are written to etcd in plain text` };
  const first = entries[at]?.providers?.[0];
  const name = first && typeof first === 'object' ? Object.keys(first)[0] : undefined;
  const entry = `entry ${at + 1} (resources: ${entries[at].resources.join(', ')})`;
  if (!name) return { passed: false, message: `${entry} of ${where} has no provider` };
  if (name === 'identity')
    return {
      passed: false,
      message: `${entry} of ${where}, the one that covers ${resource}, lists identity first — the first provider is the one that writes, so ${resource} are still stored in plain text; put secretbox, aesgcm or aescbc first and keep identity after it`,
    };
  if (!WRITING_PROVIDERS.includes(name)) return { passed: false, message: `${entry} of ${where}: ${name} is not a provider kube-apiserver knows` };
  if (name !== 'kms' && !first[name]?.keys?.[0]?.secret) return { passed: false, message: `${entry} of ${where}: its ${name} provider has no key` };
  return { passed: true, message: `${resource} are written with ${name} (${entry} of ${where})` };
}
