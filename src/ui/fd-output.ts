import type { Io } from './output.js';

const fs = () => process.getBuiltinModule('node:fs');

/**
 * isatty(fd) without loading node:tty when fstat already tells: node:tty brings node:net and the
 * streams (1.6 ms of a 40 ms start). Files, pipes and sockets are no terminal, nor is /dev/null
 * (a character device, stdin of most CI jobs).
 */
export function isTerminal(fd: number): boolean {
  let rdev: number;
  try {
    const st = fs().fstatSync(fd);
    if (!st.isCharacterDevice()) return false;
    rdev = st.rdev;
  } catch {
    return false;
  }
  try {
    if (rdev === fs().statSync('/dev/null').rdev) return false;
  } catch {
    // No /dev/null to compare with: ask the terminal driver.
  }
  return process.getBuiltinModule('node:tty').isatty(fd);
}

/**
 * stdout or stderr written with fs.writeSync on its file descriptor, for the fast commands
 * (src/cli/fast-entry.ts), which write a few lines and leave: creating process.stdout makes a
 * stream (1.3 ms for a file, 2.9 ms for a terminal, measured), where a write is one system call.
 * A descriptor someone made non-blocking may refuse a write (EAGAIN): the rest then goes through
 * the process's stream, which waits for it. A reader gone (EPIPE, `| head -1`) ends the output
 * quietly, as kubectl's.
 */
export class FdOutput {
  #tty: boolean | undefined;
  #stream: NodeJS.WriteStream | undefined;
  #closed = false;

  constructor(
    readonly fd: 1 | 2,
    private readonly processStream: () => NodeJS.WriteStream,
  ) {}

  get isTTY(): boolean {
    return (this.#tty ??= isTerminal(this.fd));
  }

  /** A terminal's size comes from its stream (an ioctl node:tty does). */
  get columns(): number | undefined {
    return this.isTTY ? this.stream().columns : undefined;
  }

  get rows(): number | undefined {
    return this.isTTY ? this.stream().rows : undefined;
  }

  write(chunk: string | Uint8Array, encodingOrCallback?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    const encoding = typeof encodingOrCallback === 'string' ? encodingOrCallback : undefined;
    const callback = typeof encodingOrCallback === 'function' ? encodingOrCallback : cb;
    if (this.#stream) return this.#stream.write(chunk, encoding ?? 'utf8', callback);
    let data = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    while (data.length > 0 && !this.#closed) {
      try {
        data = data.subarray(fs().writeSync(this.fd, data));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') return this.stream().write(data, callback);
        if (code !== 'EPIPE') throw err;
        this.#closed = true;
      }
    }
    callback?.();
    return true;
  }

  /** The process's stream, once something needs more than a write; a gone reader stays quiet there too. */
  stream(): NodeJS.WriteStream {
    return (this.#stream ??= quietOnBrokenPipe(this.processStream()));
  }

  /** The process's stream if it was needed: what there may be left to flush. */
  get created(): NodeJS.WriteStream | undefined {
    return this.#stream;
  }
}

/**
 * The fast commands' Io: stdout and stderr as FdOutput (they use write, isTTY, columns and rows
 * only), stdin only ever asked whether it is a terminal (a dry run's --tty default).
 */
export function fdIo(): { io: Io; streams: () => NodeJS.WriteStream[] } {
  const stdout = new FdOutput(1, () => process.stdout);
  const stderr = new FdOutput(2, () => process.stderr);
  let stdinTTY: boolean | undefined;
  const stdin = {
    get isTTY() {
      return (stdinTTY ??= isTerminal(0));
    },
  };
  const io = { stdin, stdout, stderr, env: process.env } as unknown as Io;
  return { io, streams: () => [stdout.created, stderr.created].filter((s) => s !== undefined) };
}

const quieted = new WeakSet<NodeJS.WritableStream>();

/**
 * A reader that leaves early (`config view | head -1`) ends the output quietly, as kubectl's,
 * instead of an unhandled EPIPE with a stack trace. Any other error is left to whoever else
 * listens (a session ignores a closed terminal while it cleans up), else it stays fatal as an
 * unhandled 'error' event is.
 */
export function quietOnBrokenPipe<S extends NodeJS.WritableStream>(stream: S): S {
  if (!quieted.has(stream)) {
    quieted.add(stream);
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED' || stream.listenerCount('error') > 1) return;
      throw err;
    });
  }
  return stream;
}
