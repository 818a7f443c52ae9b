// The tmux-driven TUI test (test/e2e/tui.e2e.test.ts) once on kind: provisioning screen, a lesson
// opened, the fix seen without a keypress, the next lesson, a clean quit — against a kind cluster.
process.env.KUBE_SECLAB_E2E_ENGINE = 'kind';
await import('../e2e/tui.e2e.test.js');
