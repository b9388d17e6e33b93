import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { Factory } from '../../src/cli/factory.js';
import type { Io } from '../../src/ui/output.js';

export interface MainResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Every connection a command asked the factory for (none for offline commands). */
  kubeCalls: unknown[];
}

/** A home with nothing in it: no config file, no kubeconfig, no remembered choices, no user table. */
export function emptyHome(): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'nixrun-home-'));
  return { HOME: home, KUBECONFIG: join(home, 'no-kubeconfig'), NO_COLOR: '1' };
}

/** A factory that refuses to connect, remembering that something tried. */
export function recordingFactory(calls: unknown[]): Factory {
  return {
    kube(target) {
      calls.push(target);
      return Promise.reject(new Error('test stand-in: no cluster here'));
    },
  };
}

/**
 * Run the CLI in this process (gh's iostreams.Test(), kubectl's NewTestIOStreams): main(argv, io)
 * with buffers for the streams and exactly `env` as the environment. No build needed. With
 * `terminal`, stdin and stderr claim to be a TTY, so the interactive paths are taken.
 */
export async function runMain(argv: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string; factory?: Factory; terminal?: boolean } = {}): Promise<MainResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  if (opts.terminal) {
    // Looks like a terminal to the CLI (prompts would be drawn), and stays open as one does.
    Object.assign(stdin, { isTTY: true, setRawMode: () => stdin });
    Object.assign(stderr, { isTTY: true });
  } else stdin.end(opts.stdin ?? '');
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const kubeCalls: unknown[] = [];
  const io: Io = { stdin, stdout, stderr, env: opts.env ?? emptyHome() };
  const code = await main(argv, io, opts.factory ?? recordingFactory(kubeCalls));
  // Let the 'data' events of the last writes run.
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out, stderr: err, kubeCalls };
}
