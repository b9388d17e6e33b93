import { exitWith } from './exit.js';
import { FastPathUnavailable } from './fast-bail.js';
import { fastPath } from './fast.js';
import { fdIo } from '../ui/fd-output.js';

/**
 * The fast bundle (dist/fast.js, loaded by bin/kubectl-nixrun.js): one script with only what
 * `--help`, `--version`, `which` and an offline `--dry-run` need. Anything else (a run, a
 * prompt, another command) is left to the full build (dist/kubectl-nixrun.js), which starts the
 * command over.
 */
const { io, streams } = fdIo();

/** The command's exit code, or undefined when the full build must answer it. */
export async function answer(argv: string[] = process.argv.slice(2)): Promise<number | undefined> {
  try {
    return await fastPath(argv, io, undefined, { offlineOnly: true });
  } catch (err) {
    // Thrown before any output (run.ts checks before its first message).
    if (err instanceof FastPathUnavailable) return undefined;
    throw err;
  }
}

/** Exit once what the command wrote has been taken. */
export function finish(code: number): Promise<never> {
  return exitWith(code, streams());
}
