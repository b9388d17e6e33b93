import { plainWord } from './fast.js';
import { COMMANDS, GLOBAL_FLAGS, type Flag } from './flags.js';
import type { RawRunArgs } from './run.js';

/**
 * The run command's arguments read straight from the flag table, for the common shapes only:
 * `--flag value`, `--flag=value`, `-x value`, booleans as `--flag`/`--no-flag`/`-x`, one plain
 * executable word, and anything after `--`. Whatever else, or anything yargs would judge (an
 * unknown flag, a value outside the choices, a missing value, a flag given twice, a word that
 * looks like a number or a flag), returns undefined and goes through yargs, which stays the one
 * definition of the command line (test/unit/cli/run-args.test.ts checks both agree).
 */
export function parseRunArgs(argv: string[]): RawRunArgs | undefined {
  const flags = runFlags();
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const positionals: string[] = [];
  let rest: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (!arg.startsWith('-')) {
      if (!plainWord(arg)) return undefined;
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else if (arg.length === 2) name = arg.slice(1);
    else return undefined; // -it, -vv, -nfoo: yargs' short-option groups
    let negated = false;
    let flag = flags.get(name);
    if (!flag && name.startsWith('no-') && inline === undefined) {
      flag = flags.get(name.slice(3));
      negated = flag?.type === 'boolean';
      if (!negated) return undefined;
    }
    if (!flag || flag.name === 'version' || flag.name === 'help') return undefined;
    if (seen.has(flag.name) && !flag.array) return undefined;
    seen.add(flag.name);
    if (flag.type === 'boolean') {
      // `--keep true` and `--keep=false` are yargs' to read.
      if (inline !== undefined || argv[i + 1] === 'true' || argv[i + 1] === 'false') return undefined;
      set(out, flag, !negated);
    } else if (flag.type === 'count') {
      if (inline !== undefined || seen.has(`count:${flag.name}`)) return undefined;
      seen.add(`count:${flag.name}`);
      set(out, flag, 1);
    } else {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '' || value.startsWith('-')) return undefined;
      if (flag.choices && !flag.choices.includes(value)) return undefined;
      if (!flag.type && looksNumeric(value)) return undefined;
      if (flag.array) set(out, flag, [...((out[camel(flag.name)] as string[] | undefined) ?? []), value]);
      else set(out, flag, value);
    }
  }
  // Another command's word (or a word yargs reads as a command: help, completion…) is yargs' job.
  if (positionals.length > 1 || (positionals[0] !== undefined && commandWords().has(positionals[0]))) return undefined;
  for (const f of new Set(flags.values())) {
    if (seen.has(f.name)) continue;
    if (f.default !== undefined) set(out, f, f.default);
    else if (f.type === 'count') set(out, f, 0);
  }
  if (positionals[0] !== undefined) out.executable = positionals[0];
  out._ = [];
  // As yargs: no '--' key when nothing follows it, and number-like words become numbers.
  if (rest !== undefined && rest.length > 0) out['--'] = rest.map((w) => (yargsNumber(w) ? Number(w) : w));
  return out as unknown as RawRunArgs;
}

/** The first word of every command but run (flags.ts COMMANDS), and yargs' own. */
function commandWords(): Set<string> {
  return new Set([...Object.values(COMMANDS).flatMap((c) => c.words.slice(0, 1)), 'help', 'completion', '__complete']);
}

let table: Map<string, Flag> | undefined;
function runFlags(): Map<string, Flag> {
  if (table) return table;
  table = new Map();
  for (const f of [...GLOBAL_FLAGS, ...COMMANDS.run.flags]) {
    table.set(f.name, f);
    if (f.alias !== undefined) table.set(f.alias, f);
  }
  return table;
}

/** As yargs hands a flag over: under its name, its camel-cased name and its alias. */
function set(out: Record<string, unknown>, f: Flag, value: unknown): void {
  out[f.name] = value;
  out[camel(f.name)] = value;
  if (f.alias !== undefined) out[f.alias] = value;
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** yargs-parser's looksLikeNumber and its safe-integer check (maybeCoerceNumber). */
function yargsNumber(x: string): boolean {
  const looks = /^0x[0-9a-f]+$/i.test(x) || (!/^0[^.]/.test(x) && /^[-]?(?:\d+(?:\.\d*)?|\.\d+)(e[-+]?\d+)?$/.test(x));
  return looks && Number.isSafeInteger(Math.floor(parseFloat(x)));
}

function looksNumeric(v: string): boolean {
  return /^[-+]?(\d|\.\d)/.test(v) || /^0x/i.test(v);
}
