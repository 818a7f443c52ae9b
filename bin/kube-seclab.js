#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` via the prepare script).
import { existsSync } from 'node:fs';
import v8 from 'node:v8';
// A terminal app needs no 16 MB young generation: a 1 MB one keeps the lab's footprint ~10 MB smaller.
v8.setFlagsFromString('--max-semi-space-size=1');
v8.setFlagsFromString('--semi-space-growth-factor=1');
// And a heap that grows in small steps and flushes unused code: ~30 MB less at the TUI's peak
// (a first run, then a lesson open with watch on), for a little more GC work (bench:tui).
v8.setFlagsFromString('--optimize-for-size');
import { fileURLToPath } from 'node:url';
const entry = new URL('../dist/bundle/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('kube-seclab: not built yet — run `npm install` (or `npm run build`) in the kube-seclab folder first.\n');
  process.exit(2);
}
await import(entry.href);
