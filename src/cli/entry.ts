import { main } from './main.js';

export { main };

/** Process entry: run, then exit with the code main() decided (after stdout has drained). */
export async function run(): Promise<void> {
  const code = await main(process.argv.slice(2));
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
