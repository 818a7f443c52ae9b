/**
 * Attack, then defend — the real binary in tmux against its own local cluster: `a` on the lesson
 * screen shows the attack working (the stolen key redacted), a second shell applies the reference
 * solution, `a` again shows it failing with 403. The full secret value never reaches the screen.
 *
 * Needs: tmux, the Kubernetes binaries in the cache, and a build (`npm run build`; done here unless
 * KUBE_SECLAB_E2E_NO_BUILD=1).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'kube-seclab.js');
const LESSON = 'rbac-least-privilege';
/** What the scenario plants in Secret shop/payment-gateway: never on screen whole. */
const SECRET = /apiKey: (\S+)/.exec(readFileSync(join(ROOT, 'scenarios', LESSON, 'scenario.yaml'), 'utf8'))![1];
const COLS = 100;
const ROWS = 40;

const socket = `ksl-attack-e2e-${process.pid}`;
const session = 'lab';
const data = mkdtempSync(join(tmpdir(), 'kube-seclab-attack-e2e-'));
const env: NodeJS.ProcessEnv = { ...process.env, KUBE_SECLAB_DATA: data, KUBE_SECLAB_ENGINE: 'local', TERM: 'xterm-256color' };
delete env.NO_COLOR;
delete env.FORCE_COLOR;

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env });
/** Every screen captured, to prove the secret never showed on any of them. */
const seen: string[] = [];
const screen = () => {
  const s = tmux('capture-pane', '-p', '-t', session);
  seen.push(s);
  return s;
};
const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { env, cwd: ROOT, maxBuffer: 10 * 1024 * 1024 });

async function waitForScreen(what: string, test: (s: string) => boolean, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = screen();
    if (test(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${last}`);
}
const waitForText = (text: string, timeoutMs = 30_000) => waitForScreen(text, (s) => s.includes(text), timeoutMs);
async function press(...keys: string[]) {
  for (const k of keys) {
    tmux('send-keys', '-t', session, k);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The scrollable area: between the lesson's title row and the Objectives heading. */
function area(s: string): string {
  const lines = s.split('\n');
  return lines
    .slice(
      1,
      lines.findIndex((l) => l.startsWith('Objectives')),
    )
    .join('\n');
}
/** A screen for the log: trailing blanks trimmed. */
const trimmed = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n+$/, '');

describe('attack, then defend: the TUI in tmux against the local engine', () => {
  beforeAll(async () => {
    if (!process.env.KUBE_SECLAB_E2E_NO_BUILD) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    await cli('up', '--engine', 'local');
    tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      String(COLS),
      '-y',
      String(ROWS),
      '-e',
      `KUBE_SECLAB_DATA=${data}`,
      '-e',
      'KUBE_SECLAB_ENGINE=local',
      '-e',
      'TERM=xterm-256color',
      `${process.execPath} ${BIN}; echo "EXIT=$?"; sleep 3600`,
    );
  });

  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {
      /* already gone */
    }
    try {
      await cli('down');
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('a shows the attack working; after the fix from another shell, a shows it failing with 403', async () => {
    await waitForText('j/k move', 60_000);
    await press('/');
    tmux('send-keys', '-t', session, '-l', LESSON);
    await waitForText(`/${LESSON}`, 5_000);
    await press('Enter');
    let s = await waitForScreen(
      'the lesson, watched, with the invitation to attack',
      (x) => x.includes('● watching') && x.includes('Press a to attack first'),
      120_000,
    );
    expect(s).toMatch(/a attack\s+c check\s+w watch on/);

    // 1. Attack the insecure scenario.
    await press('a');
    const before = await waitForText('⇒ The attack WORKS', 60_000);
    expect(before).toMatch(/⇒ The attack WORKS: Read the payment gateway's API key: apiKey: sk_l… \(22 chars\)/);
    expect(area(before)).toMatch(/✓ Bind yourself cluster-admin, for good/);
    expect(before).toContain('Fix the lesson, then press a again: the attack must fail.');
    // The objectives stay in view, untouched by the transcript.
    expect(before).toMatch(/^Objectives/m);
    expect(before).toContain('The api ServiceAccount can no longer read Secrets');
    expect(before).not.toContain('Press a to attack first');
    await press('g');
    const top = await waitForText('Attack: Steal the payment gateway', 5_000);
    expect(area(top)).toMatch(
      /✓ Read the ServiceAccount token mounted in the api pod\n\s+read \/var\/run\/secrets\/kubernetes.io\/serviceaccount\/token in pod api-/,
    );
    expect(area(top)).toContain('token: eyJh… (');
    await press('G');
    console.log(`e2e attack: before the fix (${COLS}x${ROWS}):\n${trimmed(before)}`);

    // 2. Another shell applies the reference solution; watch mode turns the objectives ✓ and opens the debrief.
    await cli('solution', LESSON, '--apply');
    s = await waitForText('press n for the next lesson', 60_000);
    expect(s).toContain('⇒ The attack WORKS'); // the learner was reading the transcript: it stays
    await press('Escape');
    await waitForText('before and after your fix', 10_000);
    // The debrief is longer than the pane: to its end (G), where the before/after line ends.
    await press('G');
    s = await waitForText('after — stopped at', 10_000);
    expect(s).toMatch(
      /before — Read the payment gateway's API key: apiKey: sk_l…\s+\(22 chars\); after — stopped at Read the payment gateway's API key — GET\s+\/api\/v1\/namespaces\/shop\/secrets\/payment-gateway → 403 Forbidden/,
    );

    // 3. Attack again: every goal step stopped with 403.
    await press('a');
    const after = await waitForText('⇒ The attack FAILS', 60_000);
    expect(after).toMatch(
      /⇒ The attack FAILS: stopped at Read the payment gateway's API key — GET\s+\/api\/v1\/namespaces\/shop\/secrets\/payment-gateway → 403 Forbidden/,
    );
    expect(area(after)).toMatch(
      /✗ Bind yourself cluster-admin, for good\n\s+POST \/apis\/rbac.authorization.k8s.io\/v1\/clusterrolebindings \(dry run\) → 403 Forbidden/,
    );
    expect(after).toContain('esc: the debrief');
    await press('g');
    const afterTop = await waitForText('Attack: Steal the payment gateway', 5_000);
    expect(area(afterTop)).toMatch(/✗ List the Secrets of every namespace with it\n\s+GET \/api\/v1\/secrets → 403 Forbidden/);
    console.log(`e2e attack: after the fix:\n${trimmed(after)}`);

    await press('Escape');
    await waitForText('before and after your fix', 10_000);
    await press('q');
    s = await waitForText('EXIT=0', 10_000);
    expect(s).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

    // Not once, on any screen, the whole key.
    expect(seen.length).toBeGreaterThan(10);
    for (const x of seen) expect(x).not.toContain(SECRET);
  });
});
