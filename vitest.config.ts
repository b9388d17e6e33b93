import { defineConfig } from 'vitest/config';

// Three projects: pure unit tests, end-to-end tests against the real local cluster
// (started once per run by the global setup), and terminal tests driven through tmux.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'test/tty/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          // One cluster, shared: files run one after another, because some of them restart the
          // API server or load the 2 cores on purpose.
          maxWorkers: 1,
          fileParallelism: false,
          // A worker thread, not a forked process: the forked worker outlived its files (kept-alive
          // API connections) and vitest warned "Timeout terminating forks worker" after each run.
          pool: 'threads',
          // After the unit tests, so a broken build fails fast before the cluster starts.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
