import type { Factory } from './factory.js';
import { fastPath } from './fast.js';
import type { Io } from '../ui/output.js';

/** The full command line (yargs), loaded only when the fast paths do not answer. */
export async function main(argv: string[], io?: Io, factory?: Factory): Promise<number> {
  const m = await import('./main.js');
  return m.main(argv, io, factory);
}

/** Process entry: run, then exit with the code main() decided (after stdout has drained). */
export async function run(): Promise<void> {
  const argv = process.argv.slice(2);
  // Getters: touching process.stdin creates the stream, which the fast paths never need.
  const io: Io = {
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    env: process.env,
  };
  const code = (await fastPath(argv, io)) ?? (await main(argv));
  process.exitCode = code;
  // Some handles (a dangling keep-alive socket, a watch) must not keep the process alive, but
  // process.exit() drops what a pipe has not taken yet (writes to pipes are asynchronous): an
  // empty write's callback runs once everything before it is written. Seen on a loaded machine:
  // 256 KiB through `cat` came back cut at 228 KiB.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || !stream.writable) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('error', () => resolve());
    stream.write('', () => resolve());
  });
}
