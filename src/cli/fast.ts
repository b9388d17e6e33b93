import { ExitCode, exitCodeOf, UsageError } from '../errors.js';
import type { Io } from '../ui/output.js';
import type { Factory } from './factory.js';
import { FastPathUnavailable } from './fast-bail.js';

export interface FastOptions {
  /** The fast bundle (fast-entry.ts): only what needs no cluster, a dry run without --pin. */
  offlineOnly?: boolean;
}

/**
 * The commands run most often, answered without building the yargs command tree (that costs more
 * than Node's own start): a --help page rendered at build time, `--version`, and `which NAME…`.
 * Only argument lists whose meaning is plain are taken; anything else returns undefined and goes
 * through yargs (main.ts), which stays the one definition of the command line.
 */
export async function fastPath(argv: string[], io: Io, factory?: Factory, opts: FastOptions = {}): Promise<number | undefined> {
  if (argv.length === 0 || argv[0] === '__complete') return undefined;
  if (argv[argv.length - 1] === '--help') {
    const { HELP_PAGES } = await import('./help-text.js');
    const page = HELP_PAGES?.[helpKey(helpWidth(io.stdout.columns), argv.slice(0, -1))];
    if (page === undefined) return undefined;
    io.stdout.write(`${page}\n`);
    return ExitCode.ok;
  }
  try {
    if (argv.length === 1 && argv[0] === '--version') {
      const { printVersion } = await import('./version-command.js');
      return printVersion(io);
    }
    if (argv[0] === 'which' && argv.length > 1 && argv.slice(1).every(plainWord)) {
      const { whichCommand } = await import('./which.js');
      return whichCommand({ executables: argv.slice(1), all: false, forget: false }, io);
    }
    // The default command (run); parseRunArgs leaves the other commands' words to yargs.
    const { parseRunArgs } = await import('./run-args.js');
    const args = parseRunArgs(argv);
    if (args === undefined) return undefined;
    if (opts.offlineOnly && (!args.dryRun || args.pin)) return undefined;
    const [{ runCommand }, { defaultFactory }] = await Promise.all([import('./run.js'), import('./factory.js')]);
    return await runCommand(args, io, factory ?? defaultFactory, { offlineOnly: opts.offlineOnly });
  } catch (err) {
    if (err instanceof FastPathUnavailable) throw err;
    // As main() reports it.
    const { Ui } = await import('../ui/output.js');
    new Ui(io, { quiet: argv.includes('-q') || argv.includes('--quiet') }).error(err);
    return err instanceof UsageError ? ExitCode.usage : exitCodeOf(err);
  }
  return undefined;
}

/** The width yargs wraps help to (main.ts). */
export function helpWidth(columns: number | undefined): number {
  return Math.min(columns ?? 100, 110);
}

export function helpKey(width: number, words: string[]): string {
  return `${width}|${words.join(' ')}`;
}

/** A word yargs passes through unchanged: not a flag, and nothing it would read as a number. */
export function plainWord(w: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_.+-]*$/.test(w);
}
