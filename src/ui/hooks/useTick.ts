import { useEffect, useState } from 'react';

/** Re-render every `ms` while `active` (spinners, elapsed time); returns the tick count. */
export function useTick(ms: number, active = true): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setN((x) => x + 1), ms);
    return () => clearInterval(t);
  }, [ms, active]);
  return n;
}
