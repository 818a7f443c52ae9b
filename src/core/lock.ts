import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { UserError } from './errors.js';
import { sleep } from './fsutil.js';

/** Who holds a lab's lock: shown to the command that waits. */
export interface LockHolder {
  pid: number;
  command: string;
  since: string;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * One lab, one writer: an advisory lock (proper-lockfile: an atomic mkdir, refreshed while held, stale
 * once its holder stops refreshing it) around everything that changes the lab's cluster or lessons.
 * Reading — checks, status, list — never takes it. Re-entrant within one process (a reset inside an
 * exam step). A second writer waits and says for whom; the lock of a holder that was killed goes stale.
 */
export class LabLock {
  private release?: () => Promise<void>;
  private depth = 0;

  constructor(
    private readonly dir: string,
    private readonly command: string,
  ) {}

  private get lockPath() {
    return join(this.dir, 'lab.lock');
  }
  private get infoPath() {
    return join(this.dir, 'lab.lock.json');
  }

  async holder(): Promise<LockHolder | undefined> {
    try {
      return JSON.parse(await readFile(this.infoPath, 'utf8')) as LockHolder;
    } catch {
      return undefined;
    }
  }

  /** Take the lock; while another process has it, wait (telling `onWait` once whom for) up to `timeoutMs`. */
  async acquire(onWait?: (h: LockHolder | undefined) => void, timeoutMs = 20 * 60_000): Promise<void> {
    if (this.depth++ > 0) return;
    await mkdir(this.dir, { recursive: true });
    const end = Date.now() + timeoutMs;
    let told = false;
    for (;;) {
      try {
        this.release = await lockfile.lock(this.dir, {
          lockfilePath: this.lockPath,
          realpath: false,
          retries: 0,
          stale: 20_000,
          update: 5_000,
          // Someone took it from us (our process was frozen past `stale`): finish quietly; the next command sees the state.
          onCompromised: () => {
            this.release = undefined;
          },
        });
        const me: LockHolder = { pid: process.pid, command: this.command, since: new Date().toISOString() };
        await writeFile(this.infoPath, JSON.stringify(me));
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') {
          this.depth--;
          throw e;
        }
        // A holder killed without releasing it stops refreshing the lock: it is stale (and taken) within 20 s.
        const h = await this.holder();
        if (Date.now() > end) {
          this.depth--;
          throw new UserError(
            `the lab is busy: ${h ? `\`${h.command}\` (pid ${h.pid}) has been changing it since ${h.since}` : 'another kube-seclab command is changing it'}`,
            'wait for it to finish, then run this again',
          );
        }
        if (!told) {
          onWait?.(h);
          told = true;
        }
        await sleep(300);
      }
    }
  }

  async releaseLock(): Promise<void> {
    if (this.depth === 0 || --this.depth > 0) return;
    await rm(this.infoPath, { force: true });
    const r = this.release;
    this.release = undefined;
    await r?.().catch(() => undefined);
  }

  /** Run `fn` holding the lock. */
  async with<T>(fn: () => Promise<T>, onWait?: (h: LockHolder | undefined) => void): Promise<T> {
    await this.acquire(onWait);
    try {
      return await fn();
    } finally {
      await this.releaseLock();
    }
  }
}

/** "waiting for `kube-seclab reset` (pid 4242) to finish…" */
export function waitingLine(h: LockHolder | undefined): string {
  if (h && !alive(h.pid)) return `\`${h.command}\` (pid ${h.pid}) stopped without finishing; taking over its lock within 20 s…`;
  return `waiting for ${h ? `\`${h.command}\` (pid ${h.pid})` : 'another kube-seclab command'} to finish…`;
}
