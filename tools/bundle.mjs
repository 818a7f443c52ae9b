// Bundles the CLI (and, in lazily loaded chunks, the subcommands and the TUI) into dist/bundle/.
// Why: loading @kubernetes/client-node's 800 generated modules costs ~75 MB and ~1 s; the bundle
// keeps only what the lab uses (~23 MB). tsc's dist/ stays for the supervisor process and tests.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
// Chunks are content-named: clear the old ones, so dist/bundle/ holds exactly what this build made.
rmSync('dist/bundle', { recursive: true, force: true });
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
  // React (and Ink) in their production builds: the development build checks every element, keeps
  // owner stacks (console.createTask per element) and cost the TUI about half its CPU while a task
  // list ticked, and memory to match (bench:tui). Tests run the sources, with React's checks.
  define: { 'process.env.NODE_ENV': '"production"' },
  // node-fetch 2 (client-node 1.x's HTTP) calls url.parse(), which Node 24 deprecates for
  // application code only (DEP0169, like punycode's DEP0040 on Node 22): bundled, a dependency's
  // call reads as ours and warns on every command. Loaded from node_modules, it is what it is.
  external: ['react-devtools-core', 'node-fetch'],
  alias: { 'cli-highlight': './tools/no-highlight.mjs' },
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: { js: "import { createRequire as __ksCreateRequire } from 'node:module'; const require = __ksCreateRequire(import.meta.url);" },
});
