import { vi } from 'vitest';
// Make Ink (chalk) colour whenever it is asked to, so "no escape codes" proves the theme asked for none.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '3';
  delete process.env.NO_COLOR;
});

import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { App, createAppStore } from '../../src/ui/app.js';
import { createTheme, wantsColor } from '../../src/ui/theme.js';
import { renderMarkdown } from '../../src/ui/markdown.js';
import { renderTui, type Tui } from './ui-helpers.js';
import { FakeLab, LESSONS, checkResult } from './ui-fake-lab.js';

const rbac = LESSONS.find((l) => l.id === 'rbac-least-privilege')!;
let open: Tui[] = [];
afterEach(() => {
  for (const t of open) t.unmount();
  open = [];
});

async function walk(env: NodeJS.ProcessEnv): Promise<string[]> {
  const lab = new FakeLab();
  const store = createAppStore({ lab, statusIntervalMs: 0 });
  const t = await renderTui(<App store={store} theme={createTheme(env)} />, { columns: 80, rows: 24 });
  open.push(t);
  const raw: string[] = [];
  await t.waitFor('Take cluster-admin');
  raw.push(t.rawFrame());
  await t.press('/', 'r', 'b', 'a', 'c');
  await t.waitFor('/rbac');
  await t.press('enter');
  await t.waitFor('is not fixed yet', { timeoutMs: 8000 });
  await t.waitFor('Why it matters');
  raw.push(t.rawFrame());
  await t.press('x');
  await t.waitFor('Reset this lesson');
  raw.push(t.rawFrame());
  await t.press('n');
  lab.emit(checkResult(rbac));
  await t.waitFor('press n');
  raw.push(t.rawFrame());
  await t.press('?');
  await t.waitFor('Keys');
  raw.push(t.rawFrame());
  return raw;
}

describe('NO_COLOR', () => {
  it('is honoured: NO_COLOR, FORCE_COLOR=0 and TERM=dumb turn colour off', () => {
    expect(wantsColor({ NO_COLOR: '1' })).toBe(false);
    expect(wantsColor({ NO_COLOR: '' })).toBe(true);
    expect(wantsColor({ FORCE_COLOR: '0' })).toBe(false);
    expect(wantsColor({ TERM: 'dumb' })).toBe(false);
    expect(wantsColor({ TERM: 'xterm-256color' })).toBe(true);
  });

  it('frames carry no escape codes at all with NO_COLOR', async () => {
    for (const f of await walk({ NO_COLOR: '1' })) expect(f).not.toMatch(/\x1b/);
  });

  it('frames are coloured through the theme otherwise (so the test above means something)', async () => {
    const frames = await walk({ TERM: 'xterm-256color' });
    expect(frames.every((f) => /\x1b\[/.test(f))).toBe(true);
  });

  it('markdown is plain text with NO_COLOR, styled otherwise', () => {
    const md = '# Title\n\nSome **bold** and `code` and a [link](https://example.com).\n\n```yaml\nkind: Role\n```\n';
    expect(renderMarkdown(md, 60, createTheme({ NO_COLOR: '1' })).join('\n')).not.toMatch(/\x1b/);
    expect(renderMarkdown(md, 60, createTheme({})).join('\n')).toMatch(/\x1b\[1m/);
  });
});
