import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'bin', 'kubectl-nixrun.js');

/** The built CLI (npm test builds first); fail loudly rather than testing stale code. */
export function ensureBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'kubectl-nixrun.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnedCli {
  child: ChildProcessWithoutNullStreams;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  out(): string;
  err(): string;
}

/**
 * Start the CLI with Node 24 (the repo's pinned node), no TTY; or, with `exe`, another build of it
 * (the standalone binary). With `input` stdin gets that and its end; without, stdin stays open
 * (a session that is attached until a signal arrives).
 */
export function spawnCli(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; exe?: string } = {}): SpawnedCli {
  if (!opts.exe) ensureBuilt();
  const [cmd, argv] = opts.exe ? [opts.exe, args] : [process.execPath, [CLI, ...args]];
  const child = spawn(cmd, argv, { env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  // The CLI may exit (bad input) before it reads stdin.
  child.stdin.on('error', () => {});
  if (opts.input !== undefined) child.stdin.end(opts.input);
  return { child, exited, out: () => stdout, err: () => stderr };
}

/** Run the CLI to completion (stdin: `input`, or empty), killed after `timeoutMs`. */
export async function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; exe?: string } = {}): Promise<CliResult> {
  const run = spawnCli(args, { ...opts, input: opts.input ?? '' });
  const timer = setTimeout(() => run.child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  try {
    const { code, signal } = await run.exited;
    return { code, signal, stdout: run.out(), stderr: run.err() };
  } finally {
    clearTimeout(timer);
  }
}

export function runCliSync(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  ensureBuilt();
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8', input: '' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A `__complete` answer: the candidates, and cobra's directive from the last line. */
export function completionCandidates(stdout: string): { values: string[]; directive: number } {
  const lines = stdout.trimEnd().split('\n');
  const last = lines.pop()!;
  if (!/^:\d+$/.test(last)) throw new Error(`not a cobra completion answer: ${JSON.stringify(stdout)}`);
  return { values: lines, directive: Number(last.slice(1)) };
}
