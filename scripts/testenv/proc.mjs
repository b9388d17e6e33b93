// Processes of the local cluster: started detached with their output in a log file, recorded in
// the cluster's state so another process (a test worker, `cluster:down`) can stop them.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const log = (...a) => process.stderr.write(`[testenv] ${a.join(' ')}\n`);

/** Start `bin args…` detached (its own process group), output appended to DIR/NAME.log. */
export function startProcess(state, name, bin, args, opts = {}) {
  const logFile = join(state.dir, 'logs', `${name}.log`);
  const fd = openSync(logFile, 'a');
  // `wrap` runs the process inside the node's network namespace (nsenter --net=…).
  const [cmd, argv] = opts.wrap ? [opts.wrap[0], [...opts.wrap.slice(1), bin, ...args]] : [bin, args];
  const child = spawn(cmd, argv, { detached: true, stdio: ['ignore', fd, fd], env: opts.env ?? process.env });
  closeSync(fd);
  child.unref();
  state.procs[name] = { pid: child.pid, bin: cmd, args: argv, log: logFile, ...(opts.env ? { env: opts.env } : {}) };
  return child;
}

export function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A child of this process that exited stays a zombie until the event loop reaps it, and
  // stopProcess waits synchronously: count a zombie as gone, or every stop waits its full timeout.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

/** SIGTERM the process group, wait up to `graceMs`, then SIGKILL it. */
export function stopProcess(p, signal = 'SIGTERM', graceMs = 5000) {
  if (!p?.pid || !alive(p.pid)) return;
  const kill = (sig) => {
    try {
      process.kill(-p.pid, sig);
    } catch {
      try {
        process.kill(p.pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  kill(signal);
  const deadline = Date.now() + graceMs;
  while (alive(p.pid) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
  if (alive(p.pid)) kill('SIGKILL');
}

export function tail(file, n = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Poll `fn` every 100 ms until it returns something truthy; on timeout show the logs' tails. */
export async function waitFor(what, fn, timeoutMs, state) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const tails = state
    ? Object.entries(state.procs)
        .map(([n, p]) => `--- ${n}.log (tail)\n${tail(p.log)}`)
        .join('\n')
    : '';
  throw new Error(`testenv: ${what} not ready after ${timeoutMs / 1000}s${lastErr ? ` (${lastErr.message})` : ''}\n${tails}`);
}

/** Run a command to completion; throw with its stderr when it fails. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${(r.stderr || r.stdout || '').trim()}`);
  return r;
}
