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

/** The container's argv: init, then the gate (when stdin is attached), then the user's command. */
export function containerCommand(command: string[], opts: { init: boolean; gate: boolean }): string[] {
  return [...(opts.init ? INIT_ARGV : []), ...(opts.gate ? GATE_ARGV : []), ...command];
}
