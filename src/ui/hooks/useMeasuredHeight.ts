import { useEffect, useRef, useState } from 'react';
import { measureElement, type DOMElement } from 'ink';

/** The height Ink's layout gave a box (after each render), for paging and scroll windows. */
export function useMeasuredHeight(fallback: number): [React.RefObject<DOMElement | null>, number] {
  const ref = useRef<DOMElement | null>(null);
  const [h, setH] = useState(fallback);
  useEffect(() => {
    if (!ref.current) return;
    const m = measureElement(ref.current).height;
    if (m > 0 && m !== h) setH(m);
  });
  return [ref, h];
}
