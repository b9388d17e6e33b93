import { ExitCode, isNixrunError, UsageError } from '../errors.js';
import { fileChoiceStore, resolveExecutable, type Resolution } from '../resolve/index.js';
import { Ui, type Io } from '../ui/output.js';
import { checkExecutableName } from '../plan/names.js';
import { tableFor } from './env.js';

export interface WhichArgs {
  executables: string[];
  output?: 'json';
  all: boolean;
  forget: boolean;
}

/**
 * `which psql grep nc`: one attribute per line on stdout, in the order asked. Unknown names are
 * reported on stderr (with did-you-mean) and make the exit code 127, like a shell's `which`.
 */
export function whichCommand(args: WhichArgs, io: Io): number {
  const ui = new Ui(io);
  const choices = fileChoiceStore(io.env);
  if (args.forget) {
    if (args.executables.length === 0) choices.forget();
    for (const exe of args.executables) choices.forget(exe);
    ui.info(args.executables.length === 0 ? 'forgot all remembered choices' : `forgot the choice for ${args.executables.join(', ')}`);
    return ExitCode.ok;
  }
  if (args.executables.length === 0) throw new UsageError('which needs at least one executable name', 'e.g. kubectl nixrun which psql');
  for (const exe of args.executables) checkExecutableName(exe);

  const table = tableFor(io.env);
  const results: Resolution[] = [];
  let exit: number = ExitCode.ok;
  for (const exe of args.executables) {
    try {
      results.push(resolveExecutable(table, exe, { choices }));
    } catch (err) {
      if (!isNixrunError(err)) throw err;
      ui.error(err);
      exit = err.exitCode;
    }
  }

  if (args.output === 'json') {
    const json = results.map((r) => ({
      executable: r.input,
      attribute: r.attr,
      via: r.via,
      clearCut: r.clearCut,
      candidates: r.candidates.map((c, i) => ({ rank: i + 1, attribute: c.attr, nixery: c.nixery, reasons: c.reasons, notBuiltFor: c.notBuiltFor })),
    }));
    io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else if (args.all) {
    for (const r of results) for (const c of r.candidates) io.stdout.write(`${r.input}\t${c.attr}\n`);
  } else {
    for (const r of results) io.stdout.write(`${r.attr}\n`);
  }
  return exit;
}
