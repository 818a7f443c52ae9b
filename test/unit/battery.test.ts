import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, cpSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalogue, formatProblem } from '../../src/core/lessons/loader.js';
import { packageRoot } from '../../src/core/paths.js';
import { genericShortcuts, TEMPLATES } from '../../src/core/battery/registry.js';
import { loadManifests } from '../../src/core/scenarios/apply.js';
import { renamedCopy, recreatable, COPY_LABEL } from '../../src/core/battery/workloads.js';

const copyOfLessons = () => {
  const root = mkdtempSync(join(tmpdir(), 'lessons-'));
  cpSync(join(packageRoot, 'lessons'), join(root, 'lessons'), { recursive: true });
  cpSync(join(packageRoot, 'scenarios'), join(root, 'scenarios'), { recursive: true });
  return root;
};

describe('the generic shortcut battery', () => {
  it('derives workload shortcuts from every workload check, opt-in ones only where a lesson adds them', async () => {
    const c = await loadCatalogue(packageRoot);
    const l = c.get('rbac-least-privilege')!;
    const api = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'shop' }, spec: {} };
    const names = genericShortcuts({ lesson: l, scenario: [], solution: [], unsolved: [api] }).map((g) => g.name);
    expect(names).toEqual(expect.arrayContaining(['scale-to-zero shop/api', 'delete shop/api', 'recreate-unfixed shop/api']));
    expect(names.some((n) => n.startsWith('insecure-sibling'))).toBe(false);
    const withSibling = { ...l, battery: { add: ['insecure-sibling'], skip: { 'scale-to-zero': 'a reason long enough' } } };
    const names2 = genericShortcuts({ lesson: withSibling, scenario: [], solution: [], unsolved: [api] }).map((g) => g.name);
    expect(names2).toContain('insecure-sibling shop/api');
    expect(names2).not.toContain('scale-to-zero shop/api');
  });

  it("derives NetworkPolicy shortcuts from the namespaces networkReach checks judge and the solution's policies", async () => {
    const c = await loadCatalogue(packageRoot);
    const l = c.get('network-policy')!;
    const np = (name: string, namespace = 'storefront') => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace },
      spec: { podSelector: {} },
    });
    const names = genericShortcuts({ lesson: l, scenario: [], solution: [np('default-deny'), np('db'), np('elsewhere', 'other')], unsolved: [] }).map(
      (g) => g.name,
    );
    expect(names).toEqual(
      expect.arrayContaining([
        'netpol-allow-all ingress storefront',
        'netpol-allow-all egress storefront',
        'netpol-any-namespace storefront',
        'netpol-selects-nothing storefront/default-deny',
        'netpol-selects-nothing storefront/db',
        'netpol-elsewhere storefront',
      ]),
    );
    expect(names.some((n) => n.includes('other/elsewhere'))).toBe(false);
  });

  it('every template has a unique id and a description', () => {
    const ids = TEMPLATES.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const t of TEMPLATES) expect(t.description.length).toBeGreaterThan(10);
  });

  it('a copy under another name gets a selector and pod label of its own, and nothing server-set', () => {
    const live = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'api',
        namespace: 'shop',
        uid: 'u',
        resourceVersion: '7',
        labels: { app: 'api' },
        annotations: { 'deployment.kubernetes.io/revision': '2' },
      },
      spec: { selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [] } } },
      status: { readyReplicas: 2 },
    };
    const c: any = renamedCopy(live, 'api-sibling');
    expect(c.metadata).toEqual({ name: 'api-sibling', namespace: 'shop', labels: { app: 'api', [COPY_LABEL]: 'api-sibling' }, annotations: {} });
    expect(c.spec.selector.matchLabels).toEqual({ app: 'api', [COPY_LABEL]: 'api-sibling' });
    expect(c.spec.template.metadata.labels[COPY_LABEL]).toBe('api-sibling');
    expect(c.status).toBeUndefined();
    expect((recreatable(live) as any).metadata.uid).toBeUndefined();
    expect(live.metadata.uid).toBe('u'); // the original is untouched
  });

  it('a lesson naming an unknown template, or skipping one without a reason, is a load problem with file:line', async () => {
    const root = copyOfLessons();
    const f = join(root, 'lessons', 'cluster', '01-rbac-least-privilege', 'lesson.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace(/^links:/m, 'battery:\n  add: [telepathy]\n  skip: {scale-to-zero: no}\nlinks:'));
    const text = (await loadCatalogue(root)).problems.map(formatProblem).join('\n');
    expect(text).toMatch(/01-rbac-least-privilege\/lesson.yaml:\d+: battery\.skip\.scale-to-zero: say why/);
    writeFileSync(f, readFileSync(f, 'utf8').replace('skip: {scale-to-zero: no}', 'skip: {}'));
    const text2 = (await loadCatalogue(root)).problems.map(formatProblem).join('\n');
    expect(text2).toMatch(/01-rbac-least-privilege\/lesson.yaml:\d+: battery\.add\[0\]: unknown shortcut template telepathy/);
  });

  it('loads alternatives/ folders beside shortcuts/', async () => {
    const root = copyOfLessons();
    const dir = join(root, 'lessons', 'cluster', '01-rbac-least-privilege', 'alternatives', 'cluster-role');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'steps.yaml'), 'description: a ClusterRole bound in the namespace\nsteps: []\n');
    const l = (await loadCatalogue(root)).get('rbac-least-privilege')!;
    expect(l.alternatives.map((a) => [a.name, a.description])).toContainEqual(['cluster-role', 'a ClusterRole bound in the namespace']);
  });
});

describe('the RBAC and secrets templates', () => {
  it('make shortcuts for every lesson judged by permissions and secretValues checks, escalations only where the allow-list does not cover them', async () => {
    const c = await loadCatalogue(packageRoot);
    const input = async (id: string) => {
      const l = c.get(id)!;
      return { lesson: l, scenario: await loadManifests(l.scenarioDir), solution: await loadManifests(l.solution.dir), unsolved: [] };
    };
    const names = async (id: string) => genericShortcuts(await input(id)).map((g) => g.name);
    const rbac = await names('rbac-least-privilege');
    expect(rbac.some((n) => n.includes('the pods of'))).toBe(false); // the pods run as shop/api: judged once
    expect(rbac).toEqual(
      expect.arrayContaining([
        'rbac-other-namespace system:serviceaccount:shop:api',
        'rbac-cluster-binding system:serviceaccount:shop:api',
        'rbac-group system:serviceaccount:shop:api',
        'rbac-aggregated system:serviceaccount:shop:api',
        'rbac-escalation bind system:serviceaccount:shop:api',
        'rbac-escalation pods system:serviceaccount:shop:api',
        'rbac-switch-serviceaccount shop/api',
        'rbac-borrowed-token shop/api',
      ]),
    );
    // the data team may create pods: that escalation is judged by where it leads, not offered as a shortcut
    const team = genericShortcuts(await input('over-broad-groups'));
    expect(team.filter((g) => g.template === 'rbac-escalation').every((g) => g.name.includes('intern@example.com'))).toBe(true);
    expect(await names('secrets-hygiene')).toEqual(
      expect.arrayContaining([
        'secret-moved another-key (the database password)',
        'secret-moved args (the database password)',
        'secret-annotation payroll/payroll-api (the database password)',
      ]),
    );
    expect(TEMPLATES.map((t) => t.id)).toEqual(expect.arrayContaining(['rbac-escalation', 'secret-moved']));
  });
});
