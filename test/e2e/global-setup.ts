import type { TestProject } from 'vitest/node';
// @ts-expect-error: a plain .mjs script shared with `npm run cluster:up`.
import { down, loadState, up } from '../../scripts/testenv.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    testenvDir: string;
    kubeconfig: string;
  }
}

/**
 * Start the local cluster once per test run (or reuse the one NIXRUN_TESTENV_DIR points at) and
 * fail loudly when it cannot start: e2e tests never skip for want of a cluster.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const reuse = process.env.NIXRUN_TESTENV_DIR;
  const state = reuse ? loadState(reuse) : await up();
  if (!reuse) process.stderr.write(`[testenv] cluster ready in ${(state.readyMs / 1000).toFixed(1)}s (${state.dir})\n`);
  project.provide('testenvDir', state.dir);
  project.provide('kubeconfig', state.kubeconfig);
  return () => {
    if (!reuse) down(state);
  };
}
