import { defineConfig } from 'vitest/config';

// unit: pure logic and UI components. integration: one real local cluster per run (test/integration/setup.ts).
// e2e: the built binary driven in tmux against its own local cluster.
// `npm test` runs unit, integration and e2e; the kind project needs Docker and runs with `npm run test:kind`.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.{ts,tsx}'], testTimeout: 20_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      { test: { name: 'e2e', include: ['test/e2e/**/*.e2e.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, fileParallelism: false } },
      // kind: a real kind cluster (Docker + kind + a node image); `npm run test:kind`, run by .ci/run.
      // Its three files run side by side, each with its own kind cluster: the lessons (lessons.test.ts), the
      // control-plane lessons (they restart the API server), the engine's own tests. No more clusters than that: on
      // 2 cores one cluster under `dev verify` keeps the machine ~80 % busy, and every idle cluster beside it costs more.
      { test: { name: 'kind', include: ['test/kind/**/*.test.ts'], testTimeout: 1_200_000, hookTimeout: 1_200_000, fileParallelism: true, maxWorkers: 3 } },
    ],
  },
});
