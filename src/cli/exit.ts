/**
 * Leave with the code the command decided, once stdout and stderr have taken everything.
 * Some handles (a dangling keep-alive socket, a watch) must not keep the process alive, but
 * process.exit() drops what a pipe has not taken yet (writes to pipes are asynchronous): an
 * empty write's callback runs once everything before it is written. Seen on a loaded machine:
 * 256 KiB through `cat` came back cut at 228 KiB. A stream that was never created has nothing
 * to flush: creating it only to flush it costs a few milliseconds of every start.
 */
export async function exitWith(code: number, streams: NodeJS.WriteStream[]): Promise<never> {
  process.exitCode = code;
  await Promise.all(streams.map(flushed));
  process.exit(code);
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || !stream.writable) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('error', () => resolve());
    stream.write('', () => resolve());
  });
}
