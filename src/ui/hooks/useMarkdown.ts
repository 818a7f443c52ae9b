import { useEffect, useMemo, useState } from 'react';
import type { Theme } from '../theme.js';

type Renderer = typeof import('../markdown.js');
let loaded: Renderer | undefined;
let loading: Promise<Renderer> | undefined;

/** marked + marked-terminal are loaded on first use, so they cost nothing before the first frame. */
export function loadMarkdown(): Promise<Renderer> {
  loading ??= import('../markdown.js').then((m) => (loaded = m));
  return loading;
}

/** The markdown rendered for the terminal as lines of at most `width` columns (undefined while loading). */
export function useMarkdownLines(markdown: string, width: number, theme: Theme): string[] | undefined {
  const [, setReady] = useState(!!loaded);
  useEffect(() => {
    if (!loaded) void loadMarkdown().then(() => setReady(true));
  }, []);
  return useMemo(() => (loaded ? loaded.renderMarkdown(markdown, width, theme) : undefined), [markdown, width, theme, loaded]);
}
