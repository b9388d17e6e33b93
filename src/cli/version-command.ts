import type { Io } from '../ui/output.js';
import { tableFor } from './env.js';
import { VERSION } from './version.js';

/** `--version`: the plugin's version and which lookup table is in use, with its snapshot date. */
export function printVersion(io: Io): number {
  const { info } = tableFor(io.env);
  io.stdout.write(`kubectl-nixrun ${VERSION}\n`);
  io.stdout.write(
    `table: ${info.kind} (${info.source}, snapshot ${info.snapshot}, ${info.systems.join(', ')}; ${info.executables} executables, ${info.attributes} attributes)\n`,
  );
  return 0;
}
