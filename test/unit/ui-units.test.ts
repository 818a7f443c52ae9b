import { describe, expect, it } from 'vitest';
import type { Key } from 'ink';
import { KEYMAP, commandFor, footerItems, keysLabel, LESSON_FOOTER, HELP_ORDER, type KeyContext } from '../../src/ui/keymap.js';
import { initialState, reducer, visibleLessons, layerProgress, objectiveRows, NUDGE_AFTER_FAILED_CHECKS, type State } from '../../src/ui/store.js';
import { wrapAnsi, renderMarkdown, stripAnsi } from '../../src/ui/markdown.js';
import { createTheme } from '../../src/ui/theme.js';
import { toUiError, storeReporter } from '../../src/ui/effects.js';
import { UserError } from '../../src/core/errors.js';
import type { Action } from '../../src/ui/store.js';
import { LESSONS, checkResult } from './ui-fake-lab.js';
import { LAYERS, LAYER_TITLES } from '../../src/core/lessons/schema.js';

const layers = LAYERS.map((layer) => ({ layer, title: LAYER_TITLES[layer] }));

const noKey: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};
const key = (k: Partial<Key> = {}): Key => ({ ...noKey, ...k });

describe('keymap', () => {
  it('maps keys to named commands per context', () => {
    expect(commandFor(['lesson', 'scroll', 'global'], 'c', key())).toBe('lesson.check');
    expect(commandFor(['lesson', 'scroll'], 'c', key({ ctrl: true }))).toBeUndefined();
    expect(commandFor(['global'], 'c', key({ ctrl: true }))).toBe('app.interrupt');
    expect(commandFor(['lesson', 'scroll', 'global'], 'j', key())).toBe('scroll.down');
    expect(commandFor(['lesson', 'scroll', 'global'], '', key({ pageDown: true }))).toBe('scroll.pageDown');
    expect(commandFor(['home', 'global'], '', key({ return: true }))).toBe('home.open');
    expect(commandFor(['confirm'], 'n', key())).toBe('confirm.no');
    expect(commandFor(['lesson', 'scroll', 'global'], 'n', key())).toBe('lesson.next');
  });

  it('never binds one key to two commands of screens active together', () => {
    const together: KeyContext[][] = [['lesson', 'scroll', 'global'], ['home', 'global'], ['help', 'scroll'], ['confirm'], ['error', 'global']];
    for (const ctxs of together) {
      const seen = new Map<string, string>();
      for (const b of KEYMAP.filter((x) => ctxs.includes(x.context))) {
        for (const s of b.keys) {
          const id = `${s.ctrl ? 'ctrl+' : ''}${s.key ?? s.input}`;
          // The help screen closes with ? and q, which are global elsewhere: the first context wins by design.
          if (seen.has(id) && !(ctxs[0] === 'help')) throw new Error(`${id} is bound to ${seen.get(id)} and ${b.command} in ${ctxs.join('+')}`);
          seen.set(id, b.command);
        }
      }
    }
  });

  it('the lesson footer is single keys, distinct from the scroll keys', () => {
    const footer = footerItems(LESSON_FOOTER);
    expect(footer.map((f) => f.key)).toEqual(['a', 'c', 'w', 'h', 's', 'x', 'n', 'l', '?', 'q']);
    const scrollKeys = KEYMAP.filter((b) => b.context === 'scroll').flatMap((b) => b.keys.map((k) => k.input ?? k.key));
    for (const f of footer) expect(scrollKeys).not.toContain(f.key);
  });

  it('every binding appears in the help order and has a label', () => {
    for (const b of KEYMAP) {
      expect(HELP_ORDER).toContain(b.context);
      expect(keysLabel(b.command).length).toBeGreaterThan(0);
    }
  });
});

describe('store', () => {
  const lessons = LESSONS.map((l) => ({
    id: l.id,
    layer: l.layer,
    title: l.title,
    requires: l.requires,
    status: l.requires === 'kind' ? ('unavailable' as const) : ('todo' as const),
  }));
  const opened = (): State =>
    reducer(initialState(), { type: 'lab/opened', engine: 'local', kubeconfig: '/k', layers, catalogue: LESSONS, lessons, current: 'pod-security-standards' });
  const run = (s: State, ...as: Action[]) => as.reduce(reducer, s);

  it('preselects the current lesson (resume) and moves within the filtered list', () => {
    let s = opened();
    expect(s.home.selected).toBe('pod-security-standards');
    s = run(s, { type: 'home/filterStart' }, { type: 'home/filterSet', text: 'cloud' });
    expect(visibleLessons(s).map((l) => l.id)).toEqual(['encryption-at-rest', 'node-hardening']);
    expect(s.home.selected).toBe('encryption-at-rest');
    s = run(s, { type: 'home/move', delta: 5 });
    expect(s.home.selected).toBe('node-hardening');
    s = run(s, { type: 'home/filterCancel' });
    expect(visibleLessons(s)).toHaveLength(4);
  });

  it('counts layer progress, with lessons that need kind apart', () => {
    const p = layerProgress(layers, [{ ...lessons[0], status: 'done' }, ...lessons.slice(1)]);
    expect(p.find((l) => l.layer === 'cloud')).toMatchObject({ done: 1, total: 2, available: 1 });
    expect(p.find((l) => l.layer === 'image')).toMatchObject({ done: 0, total: 0 });
  });

  it('derives objectives from check results: ✓ only when all its checks pass', () => {
    const l = LESSONS[2];
    expect(objectiveRows(l.objectives, undefined).map((r) => r.state)).toEqual(['pending', 'pending']);
    const rows = objectiveRows(l.objectives, checkResult(l, { 'reads-configmaps': 'cannot list configmaps' }));
    expect(rows.map((r) => r.state)).toEqual(['passed', 'failed']);
    expect(rows[1].reasons).toEqual(['cannot list configmaps']);
    expect(objectiveRows(l.objectives, checkResult(l, {}, { unreachable: true }))[0].state).toBe('unreachable');
  });

  it('counts failed checks (not the first one on opening), and switches to the debrief on success', () => {
    const l = LESSONS[2];
    let s = run(opened(), { type: 'lesson/opened', id: l.id, phase: 'ready' });
    const fail = checkResult(l, { 'no-secrets': 'still allowed' });
    s = run(s, { type: 'check/result', id: l.id, result: fail, reason: 'start', manual: false, at: 1 });
    expect(s.lesson!.failedChecks).toBe(0);
    // Watch events that do not change the outcome are not new attempts; a changed outcome or c is.
    s = run(s, { type: 'check/result', id: l.id, result: fail, reason: 'MODIFIED', manual: false, at: 2 });
    expect(s.lesson!.failedChecks).toBe(0);
    const other = checkResult(l, { 'reads-configmaps': 'cannot list configmaps' });
    s = run(s, { type: 'check/result', id: l.id, result: other, reason: 'MODIFIED', manual: false, at: 2 });
    s = run(s, { type: 'check/result', id: l.id, result: fail, reason: 'MODIFIED', manual: false, at: 2 });
    s = run(s, { type: 'check/result', id: l.id, result: fail, reason: 'check', manual: true, at: 2 });
    expect(s.lesson!.failedChecks).toBe(NUDGE_AFTER_FAILED_CHECKS);
    s = run(s, { type: 'check/result', id: l.id, result: checkResult(l, {}, { unreachable: true }), reason: 'x', manual: true, at: 3 });
    expect(s.lesson!.failedChecks).toBe(NUDGE_AFTER_FAILED_CHECKS);
    s = run(s, { type: 'lesson/scroll', to: 7, max: 20 }, { type: 'check/result', id: l.id, result: checkResult(l), reason: 'MODIFIED', manual: false, at: 4 });
    expect(s.lesson).toMatchObject({ completed: true, view: 'debrief', scroll: 0 });
  });

  it('ignores results for a lesson that is no longer open', () => {
    const s = run(opened(), { type: 'lesson/opened', id: 'pod-security-standards', phase: 'ready' });
    expect(run(s, { type: 'check/result', id: 'rbac-least-privilege', result: checkResult(LESSONS[2]), reason: 'x', manual: false, at: 1 })).toBe(s);
  });
});

describe('errors and the task reporter', () => {
  it("keeps a UserError's message and next step; a bug becomes one line", () => {
    expect(toUiError(new UserError('no local cluster', 'run `kube-seclab up`'), 'T')).toMatchObject({
      message: 'no local cluster',
      hint: 'run `kube-seclab up`',
      bug: false,
    });
    const bug = toUiError(new Error('boom\n    at x (y.js:1:1)'), 'T');
    expect(bug.message).toBe('boom');
    expect(bug.bug).toBe(true);
  });

  it('feeds tasks into the store: start, detail, end; remembers the failed step', async () => {
    const acts: Action[] = [];
    const rep = storeReporter({ dispatch: (a) => acts.push(a) }, () => 42);
    await rep.task('one', async (u) => {
      u('half way');
    });
    await expect(
      rep.task('two', async () => {
        throw new Error('x');
      }),
    ).rejects.toThrow('x');
    rep.info('note');
    expect(acts.map((a) => a.type)).toEqual(['task/start', 'task/update', 'task/end', 'task/start', 'task/end', 'task/info']);
    expect(rep.lastFailed).toBe('two');
  });
});

describe('markdown', () => {
  it('wraps to the width, hanging list items, and closes styles on every line', () => {
    const lines = wrapAnsi('  1. \x1b[1mbold words that go on\x1b[22m and on and on past the edge of the screen', 20);
    for (const l of lines) expect(stripAnsi(l).length).toBeLessThanOrEqual(20);
    expect(stripAnsi(lines[1]).startsWith('     ')).toBe(true);
    // A style open at a break is closed there and reopened on the next line.
    expect(lines[0].endsWith('\x1b[0m')).toBe(true);
    expect(lines[1]).toContain('\x1b[1m');
  });

  it('renders lesson markdown within the width, plain under NO_COLOR', () => {
    const md = LESSONS[2].markdown + '\n\n```yaml\nmetadata:\n  name: a-very-long-name-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on\n```\n';
    for (const w of [40, 78]) {
      const lines = renderMarkdown(md, w, createTheme({ NO_COLOR: '1' }));
      for (const l of lines) expect([...l].length).toBeLessThanOrEqual(w);
      expect(lines.join('\n')).toContain('THE-END-OF-THE-LESSON');
      expect(lines.join('\n')).not.toMatch(/\x1b/);
    }
  });
});
