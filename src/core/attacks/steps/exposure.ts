import { z } from 'zod';
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { AttackStepKind, Evidence } from '../types.js';
import { controlPlaneOf, manifestFlags } from '../../engine/index.js';
import { isLoopbackAddress } from '../../checks/listening.js';
import { kindConfigExposures } from '../../checks/kindClusterConfig.js';
import { workspaceFile } from '../../workspace.js';
import { UserError } from '../../errors.js';

const component = z.enum(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);

const schema = z
  .object({
    /** A control-plane component whose static-pod manifest says where it listens (bind and advertise flags, as the program reads them). */
    component: component.optional(),
    /** A kind cluster config in the lab's workspace: the API server address and port mappings it would publish. */
    kindConfig: z.string().min(1).optional(),
  })
  .strict()
  .refine((p) => !!p.component !== !!p.kindConfig, { message: 'needs exactly one of `component` or `kindConfig`' });
type P = z.infer<typeof schema>;

const host = (a: string) => (a.includes(':') && !a.startsWith('[') ? `[${a}]` : a);
const everywhere = (a: string) => a === '' || a === '0.0.0.0' || a === '::';
const show = (a: string) => (everywhere(a) ? `${a || '""'} (every interface)` : a);

/** Where a component's flags put it beyond loopback (the programs' defaults applied: no bind address = every interface). */
export function flagExposures(c: z.infer<typeof component>, flags: Map<string, string>): string[] {
  const out: string[] = [];
  if (c === 'etcd') {
    for (const f of ['--listen-client-urls', '--listen-peer-urls', '--listen-metrics-urls']) {
      for (const u of (flags.get(f) ?? '').split(',').filter(Boolean)) {
        let h: string;
        try {
          h = new URL(u).hostname;
        } catch {
          continue;
        }
        if (!isLoopbackAddress(`${host(h)}:0`)) out.push(`${f} ${u}${everywhere(h.replace(/^\[|\]$/g, '')) ? ' (every interface)' : ''}`);
      }
    }
    return out;
  }
  const port = flags.get('--secure-port') ?? (c === 'kube-apiserver' ? '6443' : c === 'kube-controller-manager' ? '10257' : '10259');
  const bind = flags.get('--bind-address') ?? '0.0.0.0';
  if (!isLoopbackAddress(`${host(bind)}:0`))
    out.push(`--bind-address ${show(bind)}, port ${port}${flags.has('--bind-address') ? '' : ' (the flag is not set)'}`);
  const adv = flags.get('--advertise-address');
  if (c === 'kube-apiserver' && adv !== undefined && adv !== '' && !isLoopbackAddress(`${host(adv)}:0`))
    out.push(`--advertise-address ${adv}: every node and pod is told to reach the API server there`);
  return out;
}

/**
 * The attacker's scan of the network, answered by the configuration: where a control-plane component
 * is set to listen beyond this machine (its manifest), or what a proposed kind cluster config would
 * publish. The lab itself never listens beyond 127.0.0.1, so no connection from the network is made:
 * the step reads the configuration the lesson's checks read, and says so.
 */
export const exposure: AttackStepKind<P> = {
  type: 'exposure',
  schema,
  controlPlane: true,
  async run(ctx, p) {
    const note = 'the lab itself only ever listens on 127.0.0.1: this is what the configuration offers the network';
    if (p.component) {
      const found = flagExposures(p.component, manifestFlags(await controlPlaneOf(ctx.engine).readManifest(p.component)));
      const evidence: Evidence[] = found.map((f) => ({ label: p.component!, value: f }));
      return found.length
        ? { succeeded: true, message: `${p.component}.yaml puts it beyond this machine (${note})`, evidence }
        : { succeeded: false, message: `${p.component}.yaml keeps it on loopback: nothing to find from the network` };
    }
    const path = workspaceFile(ctx, p.kindConfig!);
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) throw new UserError(`${path} is missing — \`kube-seclab reset\` hands it out again`);
    const doc = parseDocument(text);
    if (doc.errors.length) throw new UserError(`${path}: invalid YAML: ${doc.errors[0].message.split('\n')[0]}`);
    const c = doc.toJS();
    if (!c || c.kind !== 'Cluster') throw new UserError(`${path} is not a kind cluster config (kind: Cluster)`);
    const found = kindConfigExposures(c);
    return found.length
      ? {
          succeeded: true,
          message: `${p.kindConfig} would publish the cluster beyond this machine (${note})`,
          evidence: found.map((f) => ({ label: 'kind config', value: f })),
        }
      : { succeeded: false, message: `${p.kindConfig} keeps the API server and every port mapping on loopback` };
  },
};
