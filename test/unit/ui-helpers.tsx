/**
 * A small render helper over Ink for the TUI's tests: fake stdin/stdout with a chosen terminal
 * size, key presses by name, and "wait for a frame" polling with a deadline instead of sleeps.
 */
import { EventEmitter } from 'node:events';
import React from 'react';
import { render } from 'ink';

class FakeStdout extends EventEmitter {
  isTTY = true;
  frames: string[] = [];
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (s: string) => {
    this.frames.push(s);
    return true;
  };
  lastFrame = () => this.frames[this.frames.length - 1] ?? '';
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  data: string | null = null;
  write = (data: string) => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

export const KEYS = {
  enter: '\r',
  esc: '\x1b',
  up: '\x1b[A',
  down: '\x1b[B',
  pageUp: '\x1b[5~',
  pageDown: '\x1b[6~',
  backspace: '\x7f',
  ctrlC: '\x03',
  home: '\x1b[H',
  end: '\x1b[F',
} as const;

const tick = () => new Promise((r) => setTimeout(r, 0));
export const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07/g, '');

export interface Tui {
  stdout: FakeStdout;
  /** The last frame, escape codes removed. */
  frame(): string;
  /** The last frame as written (with escape codes, if any). */
  rawFrame(): string;
  press(...keys: (keyof typeof KEYS | string)[]): Promise<void>;
  waitFor(what: string | RegExp | ((frame: string) => boolean), opts?: { timeoutMs?: number }): Promise<string>;
  waitForGone(what: string | RegExp, opts?: { timeoutMs?: number }): Promise<string>;
  resize(columns: number, rows: number): void;
  unmount(): void;
}

export async function renderTui(tree: React.ReactElement, opts: { columns?: number; rows?: number } = {}): Promise<Tui> {
  const stdout = new FakeStdout(opts.columns ?? 100, opts.rows ?? 30);
  const stderr = new FakeStdout(opts.columns ?? 100, opts.rows ?? 30);
  const stdin = new FakeStdin();
  const inst = render(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const frame = () => stripAnsi(stdout.lastFrame());
  const matches = (what: string | RegExp | ((f: string) => boolean), f: string) =>
    typeof what === 'function' ? what(f) : typeof what === 'string' ? f.includes(what) : what.test(f);
  const waitFor: Tui['waitFor'] = async (what, o = {}) => {
    const deadline = Date.now() + (o.timeoutMs ?? 3000);
    for (;;) {
      const f = frame();
      if (matches(what, f)) return f;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(what)}; last frame:\n${f}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const t: Tui = {
    stdout,
    frame,
    rawFrame: () => stdout.lastFrame(),
    async press(...keys) {
      for (const k of keys) {
        stdin.write(k in KEYS ? KEYS[k as keyof typeof KEYS] : k);
        // A lone ESC waits briefly for the rest of an escape sequence before it counts as a key.
        await new Promise((r) => setTimeout(r, k === 'esc' ? 60 : 1));
      }
    },
    waitFor,
    waitForGone: (what, o) => waitFor((f) => !matches(what, f), o),
    resize(columns, rows) {
      stdout.columns = columns;
      stdout.rows = rows;
      stdout.emit('resize');
    },
    unmount() {
      inst.unmount();
      inst.cleanup();
    },
  };
  await waitFor((f) => f.trim().length > 0);
  await tick();
  return t;
}
