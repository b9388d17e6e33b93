import { exitWith } from './exit.js';
import { FastPathUnavailable } from './fast-bail.js';
import { fastPath } from './fast.js';
import { lazyProcessIo } from './process-io.js';

/**
 * Process entry of the fast bundle (dist/fast.js): one file with only what `--help`, `--version`,
 * `which` and an offline `--dry-run` need, so those load one module instead of a dozen chunks.
 * Anything else (a run, a prompt, yargs) goes to the full build (dist/kubectl-nixrun.js), which
 * starts the command over.
 */
export async function run(fullBuild: string): Promise<void> {
  const argv = process.argv.slice(2);
  const { io, created } = lazyProcessIo();
  let code: number | undefined;
  try {
    code = await fastPath(argv, io, undefined, { offlineOnly: true });
  } catch (err) {
    // Thrown before any output (run.ts checks before its first message).
    if (!(err instanceof FastPathUnavailable)) throw err;
  }
  if (code !== undefined) return exitWith(code, created());
  const full = (await import(fullBuild)) as { run(): Promise<void> };
  await full.run();
}
