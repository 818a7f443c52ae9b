// Bundles the CLI (and, in lazily loaded chunks, the subcommands and the TUI) into dist/bundle/.
// Why: loading @kubernetes/client-node's 800 generated modules costs ~75 MB and ~1 s; the bundle
// keeps only what the lab uses (~23 MB). tsc's dist/ stays for the supervisor process and tests.
import { build } from 'esbuild';
await build({
  entryPoints: { main: 'src/cli/main.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist/bundle',
  sourcemap: true,
  logLevel: 'warning',
  jsx: 'automatic',
  external: ['react-devtools-core'],
  alias: { 'cli-highlight': './tools/no-highlight.mjs' },
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: { js: "import { createRequire as __ksCreateRequire } from 'node:module'; const require = __ksCreateRequire(import.meta.url);" },
});
