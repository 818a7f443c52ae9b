import { useEffect, useState } from 'react';
import { useStdout } from 'ink';

export interface TerminalSize {
  columns: number;
  rows: number;
}

/** The terminal's size, updated on resize (Ink re-lays out; screens re-plan their heights). */
export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const read = (): TerminalSize => ({ columns: Math.max(20, stdout.columns || 80), rows: Math.max(8, stdout.rows || 24) });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const on = () =>
      setSize((prev) => {
        const next = read();
        return next.columns === prev.columns && next.rows === prev.rows ? prev : next;
      });
    stdout.on('resize', on);
    on();
    return () => {
      stdout.off('resize', on);
    };
  }, [stdout]);
  return size;
}
