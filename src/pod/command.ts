/**
 * What wraps the user's command in the container. The init forwards signals and reaps children,
 * so Ctrl-C reaches the command (kubectl#1445).
 */
export const INIT_PACKAGE = 'tini';
const INIT_ARGV = ['tini', '-g', '--'];

/**
 * The gate: the command waits for one byte on stdin before it starts, and the plugin sends that
 * byte (GATE_PREAMBLE, written first by the attach) once it is attached. So no output is lost
 * before the attach, and an interactive prompt appears without "press enter". The script is a
 * constant; the user's command reaches it only as "$@" arguments, never as shell text.
 */
export const GATE_ARGV = ['bash', '-c', 'IFS= read -r -s -n 1 _; exec "$@"', 'nixrun-gate'];
export const GATE_PREAMBLE = Buffer.from('\n');
/** The gate needs bash; Nixery's `shell` meta-package already brings it. */
export const GATE_PACKAGE = 'bash';

/** coreutils' timeout: the bound of an ephemeral container, which has no activeDeadlineSeconds. */
export const TIMEOUT_PACKAGE = 'coreutils';

/**
 * The container's argv: init, then the time bound, then the gate (when stdin is attached), then
 * the user's command. `subreaper`: tini is not PID 1 (an ephemeral container in the target's PID
 * namespace, hostPID, a shared process namespace) and must register as a child subreaper.
 * `timeoutSeconds`: `timeout --foreground` (so an interactive shell keeps the terminal) ends the
 * command at the deadline, and kills it 10 s later if it ignores SIGTERM.
 */
export function containerCommand(command: string[], opts: { init: boolean; gate: boolean; subreaper?: boolean; timeoutSeconds?: number }): string[] {
  const init = opts.init ? (opts.subreaper ? ['tini', '-s', '-g', '--'] : INIT_ARGV) : [];
  const bound = opts.timeoutSeconds !== undefined ? ['timeout', '--foreground', '--kill-after=10', `${opts.timeoutSeconds}s`] : [];
  return [...init, ...bound, ...(opts.gate ? GATE_ARGV : []), ...command];
}
