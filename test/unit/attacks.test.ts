import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync, cpSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalogue, formatProblem, ATTACK_CHECK_ID } from '../../src/core/lessons/loader.js';
import { loadAttack } from '../../src/core/attacks/loader.js';
import { redact, showEvidence } from '../../src/core/attacks/redact.js';
import { readOutput } from '../../src/core/attacks/steps/pod.js';
import { packageRoot } from '../../src/core/paths.js';

const attackDir = (yaml: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'attack-'));
  mkdirSync(join(dir, 'attack'));
  writeFileSync(join(dir, 'attack', 'attack.yaml'), yaml);
  return dir;
};

describe('attack files', () => {
  it('loads steps, their needs, the goal and what the goal needs from the engine', async () => {
    const dir = attackDir(`title: T\nstory: S\ngoal: [read]\nsteps:\n  - id: tok\n    try: take\n    token: {serviceAccount: shop/api}\n  - id: read\n    try: read\n    needs: [tok]\n    api: {as: tok, path: /api/v1/secrets}\n  - id: shell\n    try: shell\n    exec: {workload: {namespace: shop, name: api}, command: [id]}\n`);
    const { attack, problems } = await loadAttack(dir, dir);
    expect(problems).toEqual([]);
    expect(attack!.goal).toEqual(['read']);
    expect(attack!.requires).toBe('api');
    expect(attack!.steps.map((s) => [s.id, s.type, s.requires])).toEqual([['tok', 'token', 'api'], ['read', 'api', 'api'], ['shell', 'exec', 'kind']]);
  });
  it('a goal that only runs on a real node makes the attack need kind', async () => {
    const dir = attackDir(`title: T\nstory: S\nsteps:\n  - id: shell\n    try: shell\n    exec: {workload: {namespace: shop, name: api}, command: [id]}\n`);
    expect((await loadAttack(dir, dir)).attack!.requires).toBe('kind');
  });
  it('names file, line and field of a malformed attack: unknown kind, a write that is not a dry run, a missing need', async () => {
    const dir = attackDir(`title: T\nstory: S\nsteps:\n  - id: a\n    try: x\n    telepathy: {}\n  - id: b\n    try: y\n    api: {as: anonymous, method: POST, path: /api/v1/namespaces}\n  - id: c\n    try: z\n    needs: [nope]\n    api: {as: anonymous, path: /version}\n`);
    const text = (await loadAttack(dir, '/')).problems.map(formatProblem).join('\n');
    expect(text).toMatch(/attack\/attack.yaml:6: steps\[0\]\.telepathy: unknown attack step kind/);
    expect(text).toMatch(/attack\/attack.yaml:9: steps\[1\]\.api: a write must be a dry run/);
    expect(text).toMatch(/attack\/attack.yaml:\d+: steps\[2\]\.needs: needs nope, which is not an earlier step/);
  });
  it('gives every lesson with an attack its attack-fails check, and refuses one written by hand', async () => {
    const c = await loadCatalogue(packageRoot);
    const l = c.get('rbac-least-privilege')!;
    expect(l.attack).toBeDefined();
    expect(l.checks.find((x) => x.id === ATTACK_CHECK_ID)).toMatchObject({ type: 'attack', requires: 'api', objective: 'no-admin' });
    const root = mkdtempSync(join(tmpdir(), 'lessons-'));
    cpSync(join(packageRoot, 'lessons'), join(root, 'lessons'), { recursive: true });
    cpSync(join(packageRoot, 'scenarios'), join(root, 'scenarios'), { recursive: true });
    const f = join(root, 'lessons', 'cluster', '01-rbac-least-privilege', 'lesson.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace(/^checks:\n/m, 'checks:\n  - id: mine\n    title: mine\n    objective: no-admin\n    attack: {}\n'));
    const text = (await loadCatalogue(root)).problems.map(formatProblem).join('\n');
    expect(text).toMatch(/01-rbac-least-privilege\/lesson.yaml:\d+: checks\[0\]: the attack check is added from attack\/attack.yaml/);
  });
});

describe('what a transcript shows', () => {
  it('redacts secrets to their first characters and length, less for short ones', () => {
    expect(redact('sk_live_do_not_leak_me')).toBe('sk_l… (22 chars)');
    expect(redact('hunter22')).toBe('hu… (8 chars)');
    expect(redact('abc')).toBe('… (3 chars)');
    expect(showEvidence({ label: 'apiKey', value: 'sk_live_do_not_leak_me', secret: true })).toBe('apiKey: sk_l… (22 chars)');
    expect(showEvidence({ label: 'user', value: 'root' })).toBe('user: root');
  });
  it('reads evidence lines out of a command\'s output and keeps the last plain line as the message', () => {
    const r = readOutput('trying…\nevidence: uid=0\nsecret: token=eyJhbGciOi1234567890\nread the node\'s /etc/shadow\n');
    expect(r.last).toBe('read the node\'s /etc/shadow');
    expect(r.evidence).toEqual([{ label: 'uid', value: '0', secret: false }, { label: 'token', value: 'eyJhbGciOi1234567890', secret: true }]);
  });
});
