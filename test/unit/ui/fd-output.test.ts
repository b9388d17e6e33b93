import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FdOutput, isTerminal } from '../../../src/ui/fd-output.js';

const dir = () => mkdtempSync(join(tmpdir(), 'nixrun-fd-'));

describe('isTerminal', () => {
  it('tells a terminal from a file, a FIFO and /dev/null (a character device too)', () => {
    const d = dir();
    const file = openSync(join(d, 'f'), 'w');
    const devNull = openSync('/dev/null', 'r');
    execFileSync('mkfifo', [join(d, 'p')]);
    const fifo = openSync(join(d, 'p'), constants.O_RDONLY | constants.O_NONBLOCK);
    // The master side of a new pseudo-terminal is a terminal to isatty().
    const pty = openSync('/dev/ptmx', 'r+');
    try {
      expect([file, devNull, fifo, pty].map(isTerminal)).toEqual([false, false, false, true]);
      expect(isTerminal(987654)).toBe(false);
    } finally {
      for (const fd of [file, devNull, fifo, pty]) closeSync(fd);
    }
  });
});

describe('FdOutput', () => {
  it('writes everything to a file with plain system calls, no stream', () => {
    const path = join(dir(), 'out');
    const fd = openSync(path, 'w');
    let streams = 0;
    const out = new FdOutput(fd as 1, () => {
      streams++;
      return process.stdout;
    });
    const big = 'x'.repeat(3 << 20);
    let called = false;
    out.write('first line\n');
    out.write(big, () => (called = true));
    let latin1 = false;
    out.write('\u00e9\n', 'latin1', () => (latin1 = true));
    closeSync(fd);
    expect(readFileSync(path, 'latin1')).toBe(`first line\n${big}\u00e9\n`);
    expect(latin1).toBe(true);
    expect(called).toBe(true);
    expect(out.isTTY).toBe(false);
    expect(out.columns).toBeUndefined();
    expect(streams).toBe(0);
    expect(out.created).toBeUndefined();
  });

  it('hands the rest to a stream when a non-blocking descriptor is full (EAGAIN), in order', async () => {
    const d = dir();
    const fifo = join(d, 'p');
    execFileSync('mkfifo', [fifo]);
    // A reader first, so that the non-blocking writer can open; it reads only later, so the
    // pipe's 64 KiB fill up and writeSync gets EAGAIN.
    const rfd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const wfd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    // As process.stdout is for a pipe: a socket on the descriptor, which waits out EAGAIN.
    const out = new FdOutput(wfd as 1, () => new Socket({ fd: wfd, readable: false, writable: true }) as unknown as NodeJS.WriteStream);
    const data = Array.from({ length: 40_000 }, (_, i) => `line ${i}\n`).join('');
    const written = new Promise<void>((resolve) => out.write(data, () => resolve()));
    expect(out.created, 'the stream took over').toBeDefined();
    const chunks: Buffer[] = [];
    const reader = new Socket({ fd: rfd, readable: true, writable: false });
    reader.on('data', (c) => chunks.push(c as Buffer));
    await written;
    out.created!.end();
    await new Promise<void>((resolve) => reader.on('end', () => resolve()));
    expect(Buffer.concat(chunks).toString()).toBe(data);
  });

  it('ends quietly when the reader is gone (EPIPE), like `| head -1`', () => {
    const d = dir();
    const fifo = join(d, 'p');
    execFileSync('mkfifo', [fifo]);
    const rfd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const wfd = openSync(fifo, constants.O_WRONLY);
    closeSync(rfd);
    const out = new FdOutput(wfd as 1, () => process.stdout);
    let called = false;
    expect(() => out.write('nobody reads this\n', () => (called = true))).not.toThrow();
    expect(called).toBe(true);
    expect(() => out.write('nor this\n')).not.toThrow();
    closeSync(wfd);
  });
});
