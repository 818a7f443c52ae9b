import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Lab } from '../../src/core/lab.js';
import { renderManifest } from '../../src/core/scenarios/solution.js';
import { NamespaceRenamer } from '../../src/core/scope/rename.js';
import type { EngineName } from '../../src/core/engine/index.js';
import { engines } from '../../src/engines/index.js';

let data: string;
beforeAll(async () => {
  data = await mkdtemp(join(tmpdir(), 'kube-seclab-solution-'));
});
afterAll(async () => {
  await rm(data, { recursive: true, force: true });
});

async function openLab(engine: EngineName): Promise<Lab> {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBE_SECLAB_DATA: join(data, engine), HOME: data };
  delete env.KUBE_SECLAB_ENGINE;
  delete env.KUBE_SECLAB_NAME;
  delete env.KUBE_SECLAB_WORKSHOP;
  return Lab.open({ engines, env, engine, workshop: null, existing: engine === 'existing' ? { prefix: 'team7', context: 'class' } : undefined });
}

const runs = (steps: ({ run: string } | { todo: string })[]) => steps.map((s) => ('run' in s ? s.run : `BY HAND ${s.todo}`));

describe('renderManifest', () => {
  it("sets the lab's namespaces and labels in the YAML itself, comments and layout kept", () => {
    const text = [
      '# why this Role',
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: RoleBinding',
      'metadata:',
      '  name: reader',
      '  namespace: payroll # here',
      'subjects:',
      '  - {kind: ServiceAccount, name: api, namespace: payroll}',
      '  - {kind: Group, name: "system:serviceaccounts:payroll"}',
      'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}',
      '---',
      'apiVersion: v1',
      'kind: Namespace',
      'metadata:',
      '  name: payroll',
      '  labels:',
      '    pod-security.kubernetes.io/enforce: restricted',
      '',
    ].join('\n');
    const out = renderManifest(text, 'secrets-hygiene', new NamespaceRenamer('team7', ['payroll']));
    expect(out).toContain('# why this Role');
    expect(out).toContain('  namespace: team7-payroll # here');
    const [rb, ns] = parseAllDocuments(out).map((d) => d.toJS());
    expect(rb.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'api', namespace: 'team7-payroll' },
      { kind: 'Group', name: 'system:serviceaccounts:team7-payroll' },
    ]);
    expect(rb.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'kube-seclab', 'kube-seclab.dev/lesson': 'secrets-hygiene' });
    expect(ns.metadata).toEqual({
      name: 'team7-payroll',
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'app.kubernetes.io/managed-by': 'kube-seclab',
        'kube-seclab.dev/lesson': 'secrets-hygiene',
      },
    });
    expect(out).not.toMatch(/namespace: payroll\b|name: payroll\n/);
  });
});

describe('Lab.solution', () => {
  it('on a shared cluster: manifests and commands name the learner’s namespaces; the command applies the saved files as the lab does', async () => {
    const lab = await openLab('existing');
    const s = await lab.solution('secrets-hygiene');
    const manifests = s.files.filter((f) => !/steps\.ya?ml$/.test(f.path));
    expect(manifests.length).toBeGreaterThan(0);
    for (const f of manifests) {
      for (const o of parseAllDocuments(f.text).map((d) => d.toJS())) {
        expect(o.metadata.namespace ?? o.metadata.name, f.path).toMatch(/^team7-/);
        expect(o.metadata.labels['kube-seclab.dev/lesson']).toBe('secrets-hygiene');
      }
      // What the command applies is what was shown.
      expect(await readFile(join(s.dir, f.path.split('/').pop()!), 'utf8')).toBe(f.text);
    }
    // Only manifests in the folder the command applies (kubectl would take a steps file for one).
    expect((await readdir(s.dir)).sort()).toEqual(manifests.map((f) => f.path.split('/').pop()).sort());
    const steps = runs(s.steps);
    expect(steps[0]).toBe(`kubectl apply --server-side --field-manager=kube-seclab --force-conflicts -f ${s.dir}`);
    expect(steps.slice(1).join('\n')).toContain('kubectl -n team7-payroll-backend patch secret accepted-credentials');
    expect(steps.slice(1).join('\n')).not.toMatch(/-n payroll\b/);
    expect(steps.at(-1)).toBe('kubectl -n team7-payroll rollout status deployment/reports --timeout=30s');
  });

  it('a control-plane lesson: no apply command, the node and flag steps as instructions, kubectl steps as commands', async () => {
    const lab = await openLab('local');
    const s = await lab.solution('encryption-at-rest');
    const steps = runs(s.steps);
    expect(steps).toHaveLength(4);
    expect(steps[0]).toMatch(/^BY HAND On the control-plane node .*, write .*\/etc\/kubernetes\/enc\/encryption-config\.yaml/);
    expect(steps[1]).toMatch(/^BY HAND .*edit .*\/etc\/kubernetes\/manifests\/kube-apiserver\.yaml: set --encryption-provider-config=/);
    expect(steps[1]).toContain('mount hostPath /etc/kubernetes/enc at /etc/kubernetes/enc read-only');
    expect(steps[2]).toBe('kubectl -n vault get secret -o json | kubectl replace -f -');
    expect(steps[3]).toBe('kubectl -n vault rollout status deployment/reporting --timeout=30s');
  });

  it('an app lesson: the fixed sources copied from the saved solution into the workspace, then built', async () => {
    const lab = await openLab('local');
    const s = await lab.solution('sast');
    const steps = runs(s.steps);
    expect(steps[0]).toBe(`kubectl apply --server-side --field-manager=kube-seclab --force-conflicts -f ${s.dir}`);
    expect(steps[1]).toBe(
      `mkdir -p ${join(lab.names.workspace, 'logsearch')} && cp ${join(s.dir, 'workspace', 'server.js')} ${join(lab.names.workspace, 'logsearch', 'server.js')}`,
    );
    expect(steps[2]).toBe('kube-seclab build logsearch --deploy support/logsearch');
    const shown = s.files.find((f) => f.path.endsWith('workspace/server.js'))!.text;
    expect(await readFile(join(s.dir, 'workspace', 'server.js'), 'utf8')).toBe(shown);
  });
});
