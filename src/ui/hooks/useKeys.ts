import { createContext, useContext, useLayoutEffect, useRef } from 'react';
import { useInput, type Key } from 'ink';

export type KeyHandler = (input: string, key: Key) => void;

/**
 * One stdin subscription for the whole app (made once, at mount), routing each key to the handler
 * of the screen on top. Screens register in a layout effect — synchronously when they are
 * committed — so a key that arrives right after a screen change reaches the new screen, and the
 * handler called is always the latest render's (no stale scroll limits or selection).
 */
export interface KeyRouter {
  stack: { current: KeyHandler }[];
}
export const KeyRouterContext = createContext<KeyRouter>({ stack: [] });

export function useKeys(handler: KeyHandler): void {
  const router = useContext(KeyRouterContext);
  const ref = useRef(handler);
  ref.current = handler;
  useLayoutEffect(() => {
    router.stack.push(ref);
    return () => {
      const i = router.stack.indexOf(ref);
      if (i >= 0) router.stack.splice(i, 1);
    };
  }, [router]);
}

const NO_KEY: Key = {
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

/** Several plain keys in one read (fast typing, tmux send-keys, a paste) become one key each. */
export function splitKeys(input: string, key: Key): [string, Key][] {
  const plain = input.length > 1 && !key.ctrl && !key.meta && !input.includes('\x1b');
  if (!plain) return [[input, key]];
  return [...input].map((ch): [string, Key] => {
    if (ch === '\r' || ch === '\n') return ['', { ...NO_KEY, return: true }];
    if (ch === '\x7f' || ch === '\b') return ['', { ...NO_KEY, backspace: true }];
    if (ch === '\t') return ['', { ...NO_KEY, tab: true }];
    return [ch, { ...NO_KEY, shift: /[A-Z]/.test(ch) }];
  });
}

/** The app root's single subscription: `first` sees every key (ctrl-c), then the top screen. */
export function useKeyRouter(router: KeyRouter, first: KeyHandler): void {
  const firstRef = useRef(first);
  firstRef.current = first;
  useInput((input, key) => {
    for (const [i, k] of splitKeys(input, key)) {
      firstRef.current(i, k);
      router.stack[router.stack.length - 1]?.current(i, k);
    }
  });
}
