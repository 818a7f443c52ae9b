/**
 * The class report in a real browser: learners' progress exported by the built CLI, merged by
 * `kube-seclab class report --html`, and the page opened in headless Chromium (Debian's
 * /usr/bin/chromium, driven by playwright-core). The charts must render, the table list every
 * learner, and the page must make no request, log no error and run nothing a learner's name carries.
 * A screenshot goes to test-results/class-report.png.
 *
 * Needs: chromium (`apt-get install -y chromium`; .ci/run installs it) and a build (`npm run build`;
 * done here unless KUBE_SECLAB_E2E_NO_BUILD=1). No cluster.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'kube-seclab.js');
const CHROMIUM = process.env.KUBE_SECLAB_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-results');
const work = mkdtempSync(join(tmpdir(), 'kube-seclab-class-e2e-'));
const EVIL = '<script>alert("pwned")</script>';

interface Learner {
  name: string;
  id: string;
  solved: number;
  started: number;
  seed: number;
}
const LEARNERS: Learner[] = [
  { name: 'Ada Lovelace', id: 's-001', solved: 9, started: 11, seed: 1 },
  { name: 'Grace Hopper', id: 's-002', solved: 6, started: 8, seed: 2 },
  { name: 'Alan Turing', id: 's-003', solved: 4, started: 7, seed: 3 },
  { name: EVIL, id: '<img src=x onerror=alert(1)>', solved: 2, started: 5, seed: 4 },
  { name: 'Barbara Liskov', id: 's-005', solved: 12, started: 12, seed: 5 },
  { name: 'Edsger Dijkstra', id: 's-006', solved: 0, started: 2, seed: 6 },
];

async function cli(env: NodeJS.ProcessEnv, ...args: string[]) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env, NO_COLOR: '1' }, cwd: ROOT, maxBuffer: 20 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/** A plausible progress file: the first `solved` lessons done, the next ones started with failing checks. */
function progressFor(l: Learner, lessons: { id: string }[], checkIds: Record<string, string[]>) {
  let r = l.seed * 7919;
  const rnd = () => {
    r = (r * 48271) % 2147483647;
    return r / 2147483647;
  };
  const out: Record<string, unknown> = {};
  lessons.slice(0, l.started).forEach((lesson, i) => {
    const done = i < l.solved;
    const ids = checkIds[lesson.id];
    const failed = done ? [] : ids.filter((_, k) => k === 0 || rnd() < 0.3);
    out[lesson.id] = {
      status: done ? 'done' : 'started',
      startedAt: '2025-03-01T09:00:00.000Z',
      ...(done ? { completedAt: '2025-03-01T10:00:00.000Z' } : {}),
      attempts: 1 + Math.floor(rnd() * (done ? 5 : 9)),
      hintsUsed: Math.floor(rnd() * 3),
      solutionViewed: rnd() < 0.15,
      timeSpentMs: Math.round((3 + rnd() * 40) * 60_000),
      lastActivity: '2025-03-01T10:00:00.000Z',
      lastCheck: {
        at: '2025-03-01T10:00:00.000Z',
        passed: done,
        failed,
        checks: ids.map((id) => ({
          id,
          status: failed.includes(id) ? 'failed' : 'passed',
          message: failed.includes(id) ? `${id}: still insecure <see the hint>` : 'ok',
        })),
      },
    };
  });
  return { version: 1, learner: {}, lessons: out };
}

describe('class report in headless Chromium', () => {
  let context: BrowserContext;
  let page: Page;
  let lessonCount = 0;
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  const reportPath = join(work, 'report.html');
  const junitPath = join(work, 'ada.xml');

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: this test needs a real browser. Install it with \`apt-get install -y chromium\` (.ci/run does), or point KUBE_SECLAB_CHROMIUM at one.`,
      );
    }
    if (!process.env.KUBE_SECLAB_E2E_NO_BUILD) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    const lessons: { id: string }[] = JSON.parse((await cli({ KUBE_SECLAB_DATA: join(work, 'probe') }, 'list', '--json')).stdout);
    lessonCount = lessons.length;
    const { loadCatalogue } = await import('../../src/core/lessons/loader.js');
    const cat = await loadCatalogue(ROOT);
    const checkIds = Object.fromEntries(cat.lessons.map((l) => [l.id, l.checks.map((c) => c.id)]));
    // Each learner: their own lab data, exported by the CLI with --learner/--learner-id.
    await Promise.all(
      LEARNERS.map(async (l, i) => {
        const data = join(work, `learner-${i}`);
        mkdirSync(data, { recursive: true });
        writeFileSync(join(data, 'progress.json'), JSON.stringify(progressFor(l, lessons, checkIds)));
        const r = await cli(
          { KUBE_SECLAB_DATA: data },
          'progress',
          'export',
          '--out',
          join(work, `export-${i}.json`),
          '--learner',
          l.name,
          '--learner-id',
          l.id,
        );
        if (r.code !== 0) throw new Error(`export of ${l.name} failed: ${r.stderr}`);
      }),
    );
    const junit = await cli({ KUBE_SECLAB_DATA: join(work, 'learner-0') }, 'progress', 'export', '--format', 'junit', '--out', junitPath);
    if (junit.code !== 0) throw new Error(junit.stderr);
    // An older export of Ada (the later one must win) and a broken file (reported, the rest merged).
    const old = JSON.parse(readFileSync(join(work, 'export-0.json'), 'utf8'));
    old.exportedAt = '2020-01-01T00:00:00.000Z';
    old.lessons = old.lessons.map((x: Record<string, unknown>) => ({ ...x, status: 'not-started', done: false }));
    writeFileSync(join(work, 'export-0-old.json'), JSON.stringify(old));
    writeFileSync(join(work, 'broken.json'), '{"format":"kube-seclab-progress"');

    const files = [join(work, 'export-0-old.json'), ...LEARNERS.map((_, i) => join(work, `export-${i}.json`)), join(work, 'broken.json')];
    const rep = await cli({ KUBE_SECLAB_DATA: join(work, 'teacher') }, 'class', 'report', ...files, '--html', reportPath);
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.stderr).toMatch(/broken\.json: not JSON/);
    expect(rep.stderr).toMatch(/appears twice: using .*export-0\.json/);
    expect(rep.stdout).toMatch(new RegExp(`^${LEARNERS.length} learners, ${lessonCount} lessons`));

    const userDataDir = mkdtempSync(join(tmpdir(), 'kube-seclab-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1200, height: 900 },
      deviceScaleFactor: 1,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const pageUrl = pathToFileURL(reportPath).href;
    context.on('request', (r) => {
      if (r.url() !== pageUrl) requests.push(r.url());
    });
    await page.goto(pageUrl, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await context?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('draws the three charts: a bar per lesson, with a real size wherever the value is not zero', async () => {
    for (const id of ['chart-completion', 'chart-stuck', 'chart-time']) {
      const box = await page.locator(`svg#${id}`).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.width).toBeGreaterThan(600);
      expect(box!.height).toBeGreaterThan(lessonCount * 20);
    }
    const bars = await page.$$eval('svg rect.bar', (els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return {
          series: e.getAttribute('data-series'),
          value: Number(e.getAttribute('data-value') || 0),
          w: r.width,
          h: r.height,
          fill: getComputedStyle(e).fill,
        };
      }),
    );
    for (const s of ['completion', 'attempts', 'hints', 'time']) expect(bars.filter((b) => b.series === s)).toHaveLength(lessonCount);
    const nonZero = bars.filter((b) => b.value > 0);
    expect(nonZero.length).toBeGreaterThan(lessonCount * 2);
    for (const b of nonZero) {
      expect(b.w).toBeGreaterThan(0);
      expect(b.h).toBeGreaterThan(8);
      expect(b.fill).not.toBe('none');
    }
    // Bars scale with their values: the completion bars' widths are proportional to the completion.
    const comp = bars.filter((b) => b.series === 'completion' && b.value > 0);
    const full = comp.reduce((m, b) => Math.max(m, b.w / b.value), 0);
    for (const b of comp) expect(Math.abs(b.w - b.value * full)).toBeLessThan(1.5);
  });

  it('lists every learner once in the table, the later export winning, names shown as text', async () => {
    const rows = await page.$$eval('#learners tbody tr', (trs) =>
      trs.map((tr) => ({
        name: tr.querySelector('td.name .who')?.textContent,
        id: tr.querySelector('td.name .lid')?.textContent,
        cells: Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? ''),
      })),
    );
    expect(rows).toHaveLength(LEARNERS.length);
    expect(rows.map((r) => r.name).sort()).toEqual(LEARNERS.map((l) => l.name).sort());
    const ada = rows.find((r) => r.name === 'Ada Lovelace')!;
    expect(ada.id).toBe('s-001');
    expect(ada.cells[1]).toBe(`9/${lessonCount}`);
    const evil = rows.find((r) => r.name === EVIL)!;
    expect(evil.id).toBe('<img src=x onerror=alert(1)>');
    // The table fits its card: no horizontal scrolling at a laptop's width.
    expect(await page.$eval('.table-wrap', (d) => d.scrollWidth <= d.clientWidth)).toBe(true);
    expect(await page.locator('#learners tbody tr').first().locator('.cell').count()).toBe(lessonCount);
  });

  it('runs nothing, fetches nothing, logs no error', async () => {
    expect(await page.evaluate(() => document.querySelectorAll('script, img, iframe, object, embed, link').length)).toBe(0);
    expect(dialogs).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('the JUnit export parses as XML in the browser too', async () => {
    const xml = readFileSync(junitPath, 'utf8');
    const r = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      if (doc.getElementsByTagName('parsererror').length) return { error: doc.getElementsByTagName('parsererror')[0].textContent };
      return {
        root: doc.documentElement.nodeName,
        cases: doc.getElementsByTagName('testcase').length,
        tests: Number(doc.documentElement.getAttribute('tests')),
      };
    }, xml);
    expect(r).toEqual({ root: 'testsuites', cases: lessonCount, tests: lessonCount });
  });

  it('saves a screenshot', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'class-report.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
  });
});
