import { spawn, spawnSync } from 'node:child_process';
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

/**
 * Run the CLI to completion with Node 24 (the repo's pinned node), no TTY; or, with `exe`, another
 * build of it (the standalone binary).
 */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; exe?: string } = {}): Promise<CliResult> {
  if (!opts.exe) ensureBuilt();
  return new Promise((resolve, reject) => {
    const [cmd, argv] = opts.exe ? [opts.exe, args] : [process.execPath, [CLI, ...args]];
    const child = spawn(cmd, argv, {
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    // The CLI may exit (bad input) before it reads stdin.
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

export function runCliSync(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  ensureBuilt();
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8', input: '' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
