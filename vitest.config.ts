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
          // The cluster has 2 cores to share; keep e2e files from starving each other.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});
