import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, cp, mkdir, symlink, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../src/core/lab.js';
import { packageRoot } from '../../src/core/paths.js';
import { loadLesson, formatProblem } from '../../src/core/lessons/loader.js';
import { placeholderProblems, renderText } from '../../src/core/lessons/placeholders.js';
import type { EngineName } from '../../src/core/engine/index.js';
import { engines } from '../../src/engines/index.js';

/** Names only the default lab has: a command naming them fails in any other lab. */
const DEFAULT_NAMES = [
  'kube-seclab-control-plane', // the default kind lab's node and container
  '.local/share/kube-seclab/engines', // the default lab's node folder (local engine)
  '.local/share/kube-seclab/workspace', // the default lab's workspace
];

const LAB = 'alice';
const PREFIX = 'team7';

let data: string;
beforeAll(async () => {
  data = await mkdtemp(join(tmpdir(), 'kube-seclab-names-'));
});
afterAll(async () => {
  await rm(data, { recursive: true, force: true });
});

async function openLab(engine: EngineName): Promise<Lab> {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBE_SECLAB_DATA: join(data, engine), KUBE_SECLAB_NAME: LAB, HOME: data };
  delete env.KUBE_SECLAB_ENGINE;
  delete env.KUBE_SECLAB_WORKSHOP;
  return Lab.open({ engines, env, engine, workshop: null, existing: engine === 'existing' ? { prefix: PREFIX, context: 'class' } : undefined });
}

/** Everything a learner reads of a lesson in this lab: text, debrief, hints, checks, the reference solution. */
async function texts(lab: Lab, id: string): Promise<{ where: string; text: string }[]> {
  const l = lab.lesson(id);
  const out = [
    { where: 'lesson.md', text: l.markdown },
    { where: 'debrief.md', text: await lab.debrief(id) },
    { where: 'title', text: l.title },
    { where: 'guide', text: l.guide },
    ...l.objectives.map((o) => ({ where: `objective ${o.id}`, text: o.text })),
    ...l.hints.map((h, i) => ({ where: `hints[${i}]`, text: h })),
    ...l.checks.map((c) => ({ where: `check ${c.id}`, text: c.title })),
    ...l.links.map((k) => ({ where: 'link', text: k.title })),
  ];
  const s = await lab.solution(id);
  if (s.description) out.push({ where: 'solution description', text: s.description });
  for (const f of s.files) out.push({ where: f.path, text: f.text });
  s.steps.forEach((st, i) => out.push({ where: `solution step ${i + 1}`, text: 'run' in st ? st.run : st.todo }));
  const node = lab.nodeAccessLine(l);
  if (node) out.push({ where: 'start: node access', text: node });
  return out;
}

describe('lesson text names the lab it runs in', () => {
  for (const engine of ['local', 'kind', 'existing'] as EngineName[]) {
    it(`every lesson a named lab on ${engine} can run reads with that lab's names`, async () => {
      const lab = await openLab(engine);
      const lessons = lab.allLessons.lessons.filter((l) => engine !== 'existing' || !lab.unavailableReason(l));
      expect(lessons.length).toBeGreaterThanOrEqual(engine === 'existing' ? 5 : 20);
      const bad: string[] = [];
      let nodeTexts = 0;
      for (const l of lessons) {
        const all = await texts(lab, l.id);
        for (const { where, text } of all) {
          if (text.includes('{{')) bad.push(`${l.id} ${where}: unfilled ${text.slice(text.indexOf('{{'), text.indexOf('{{') + 30)}`);
          for (const d of DEFAULT_NAMES) if (text.includes(d)) bad.push(`${l.id} ${where}: names the default lab's ${d}`);
        }
        const joined = all.map((t) => t.text).join('\n');
        if (engine === 'kind' && l.nodeAccess) {
          nodeTexts += 1;
          expect(joined, l.id).toContain(`kube-seclab-${LAB}-control-plane`);
        }
        if (engine === 'local' && l.nodeAccess && l.requires === 'api') {
          nodeTexts += 1;
          expect(joined, l.id).toContain(join(data, 'local', 'labs', LAB, 'engines', 'local', 'node'));
        }
        if (engine === 'existing') {
          // Commands that name one of the lesson's namespaces name it as the shared cluster does.
          const own = lab.shared!.lessons.get(l.id)!.namespaces.filter((n) => !n.startsWith('kube-seclab-'));
          for (const ns of own) {
            const bare = new RegExp(`(?:-n |--namespace[= ]|\\bns |serviceaccount:|namespace \`)${ns}(?![a-z0-9-])`);
            for (const { where, text } of all)
              if (bare.test(text)) bad.push(`${l.id} ${where}: names namespace ${ns} without the prefix (${bare.exec(text)![0]})`);
          }
          if (own.length)
            expect(
              own.some((n) => joined.includes(`${PREFIX}-${n}`)),
              l.id,
            ).toBe(true);
        }
      }
      expect(bad).toEqual([]);
      if (engine !== 'existing') expect(nodeTexts).toBeGreaterThanOrEqual(engine === 'kind' ? 6 : 4);
    });
  }

  it('the start line tells every lesson that works on the node how to reach it, and only those', async () => {
    const lab = await openLab('kind');
    const withNode = lab.allLessons.lessons.filter((l) => lab.nodeAccessLine(l)).map((l) => l.id);
    for (const id of ['encryption-at-rest', 'etcd-tls', 'anonymous-access', 'audit-logging', 'kubelet-authentication', 'api-server-exposure', 'runtime-class'])
      expect(withNode).toContain(id);
    expect(withNode).not.toContain('rbac-least-privilege');
    expect(lab.nodeAccessLine(lab.lesson('kubelet-authentication'))).toContain(`docker exec -it kube-seclab-${LAB}-control-plane bash`);
  });
});

describe('placeholders', () => {
  const names = { node: { node: 'n1', shell: 'docker exec -it n1 bash', root: '' }, nodeAccess: 'open n1', workspace: '/w', ns: (n: string) => `p-${n}` };

  it('fills the documented set', () => {
    expect(renderText('`{{nodeShell}}`, {{nodeRoot}}/etc, {{node}}, {{ns:shop}}, {{workspace}}/x, {{nodeAccess}}', names)).toBe(
      '`docker exec -it n1 bash`, /etc, n1, p-shop, /w/x, open n1',
    );
    expect(renderText('{{node}}', { ...names, node: undefined })).toBe('(no node access on this engine)');
  });

  it('names what it cannot fill, with its line', () => {
    expect(placeholderProblems('ok {{node}}\n{{nodename}} and {{ns:}}\nlone {{ here')).toEqual([
      expect.objectContaining({ line: 2, placeholder: '{{nodename}}' }),
      expect.objectContaining({ line: 2, placeholder: '{{ns:}}' }),
      expect.objectContaining({ line: 3, placeholder: '{{' }),
    ]);
    expect(placeholderProblems('{{ node }} {{ns:payroll-backend}} {{workspace}}')).toEqual([]);
  });

  it('an unknown placeholder is a lesson load error naming the file and the placeholder', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kube-seclab-names-root-'));
    try {
      const dir = join(root, 'lessons', 'cluster', '08-kubelet-authentication');
      await mkdir(join(root, 'lessons', 'cluster'), { recursive: true });
      await cp(join(packageRoot, 'lessons', 'cluster', '08-kubelet-authentication'), dir, { recursive: true });
      await mkdir(join(root, 'scenarios'));
      await symlink(join(packageRoot, 'scenarios', 'kubelet-authentication'), join(root, 'scenarios', 'kubelet-authentication'));
      expect((await loadLesson(dir, root, 'cluster')).problems).toEqual([]);
      const md = await readFile(join(dir, 'lesson.md'), 'utf8');
      await writeFile(join(dir, 'lesson.md'), md.replace('{{nodeShell}}', '{{nodeContainer}}'));
      const steps = join(dir, 'solution', 'steps.yaml');
      await writeFile(steps, (await readFile(steps, 'utf8')) + 'description: "open {{node}}"\n');
      const r = await loadLesson(dir, root, 'cluster');
      expect(r.lesson).toBeUndefined();
      const lines = r.problems.map(formatProblem);
      expect(
        lines.some((p) => /^lessons\/cluster\/08-kubelet-authentication\/lesson\.md:\d+: \{\{nodeContainer\}\}: unknown placeholder/.test(p)),
        lines.join('\n'),
      ).toBe(true);
      expect(
        lines.some((p) => /solution\/steps\.yaml:\d+: a placeholder in a solution file must sit in a comment/.test(p)),
        lines.join('\n'),
      ).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
