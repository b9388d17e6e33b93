import type { Factory } from './factory.js';
import { exitWith } from './exit.js';
import { fastPath } from './fast.js';
import { quietOnBrokenPipe } from '../ui/fd-output.js';
import type { Io } from '../ui/output.js';

/** The full command line (yargs), loaded only when the fast paths do not answer. */
export async function main(argv: string[], io?: Io, factory?: Factory): Promise<number> {
  const m = await import('./main.js');
  return m.main(argv, io, factory);
}

/** Process entry of the full build: run, then exit with the code main() decided (after stdout has drained). */
export async function run(): Promise<void> {
  const argv = process.argv.slice(2);
  // Getters: touching process.stdin creates the stream, which the fast paths never need.
  const io: Io = {
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return quietOnBrokenPipe(process.stdout);
    },
    get stderr() {
      return quietOnBrokenPipe(process.stderr);
    },
    env: process.env,
  };
  const code = (await fastPath(argv, io)) ?? (await main(argv, io));
  // Both: a session's dependencies may write to them without going through io.
  await exitWith(code, [process.stdout, process.stderr]);
}
