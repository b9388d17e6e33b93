import { input, search, select } from '@inquirer/prompts';
import { parse as parseShellWords } from 'shell-quote';
import { ExitCode, NixrunError, UsageError } from '../errors.js';
import type { Resolution, Table } from '../resolve/index.js';
import type { Io } from '../ui/output.js';
import { describeEntry, PackageIndex } from './search.js';
import { readJsonFile, writeJsonFile, xdgPath } from '../xdg.js';

const DONE = '\u0000done';
const RECENT_MAX = 20;

export interface Picked {
  packages: string[];
  /** undefined: an interactive shell. */
  command: string[] | undefined;
}

/**
 * The interactive picker: search the table by command or package name, pick several packages,
 * then say what to run (default: an interactive shell). Prompts draw on stderr so stdout stays
 * the container's. Esc or Ctrl-C ends it with exit 130 and nothing created.
 */
export async function pickPackages(table: Table, io: Io): Promise<Picked> {
  const recent = recentStore(io.env);
  const index = new PackageIndex(table, recent.get());
  // ~150 ms over the whole table: spend it while the user reads the prompt, not on the first key.
  setTimeout(() => index.warm(), 20).unref();
  const selected: string[] = [];
  return withCancel(io, async (context) => {
    for (;;) {
      const answer = await search<string>(
        {
          message: selected.length === 0 ? 'Package (type a command or package name)' : `Add another package, or choose "done" [${selected.join(', ')}]`,
          pageSize: 12,
          source: (term) => {
            const done = selected.length > 0 ? [{ name: `✔ done (${selected.length} selected)`, value: DONE }] : [];
            const hits = index
              .search(term ?? '', 30)
              .filter((e) => !selected.includes(e.attr))
              .map((e) => ({ name: describeEntry(e), value: e.attr, ...(e.via !== e.attr && e.via !== 'recent' ? { description: `provides ${e.via}` } : {}) }));
            return term ? [...hits, ...done] : [...done, ...hits];
          },
        },
        context,
      );
      if (answer === DONE) break;
      selected.push(answer);
    }
    const line = await input(
      { message: 'Command to run (empty: an interactive shell)', default: '', validate: (v) => validateCommand(v) ?? true },
      context,
    );
    recent.add(selected);
    return { packages: selected, command: line.trim() === '' ? undefined : toArgv(line) };
  });
}

/**
 * Several packages provide this executable and none clearly wins: ask once, with the ranked
 * default preselected (comma's picker, built in). The answer is remembered by the caller.
 */
export async function chooseProvider(r: Resolution, io: Io): Promise<string> {
  return withCancel(io, (context) =>
    select<string>(
      {
        message: `Several packages provide ${r.input}; which one?`,
        default: r.attr,
        choices: r.candidates.slice(0, 10).map((c) => ({ name: c.attr, value: c.attr, description: c.reasons.join('; ') })),
      },
      context,
    ),
  );
}

type Context = { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; signal: AbortSignal; clearPromptOnDone: boolean };

/** Ctrl-C and Esc at any prompt: exit 130, nothing was created. */
async function withCancel<T>(io: Io, fn: (context: Context) => Promise<T>): Promise<T> {
  const ctrl = new AbortController();
  const onData = (d: Buffer | string) => {
    const b = typeof d === 'string' ? Buffer.from(d) : d;
    if (b.length === 1 && b[0] === 0x1b) ctrl.abort();
  };
  io.stdin.on('data', onData);
  try {
    return await fn({ input: io.stdin, output: io.stderr, signal: ctrl.signal, clearPromptOnDone: false });
  } catch (err) {
    const name = (err as Error | undefined)?.name;
    if (name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError') {
      throw new NixrunError('cancelled', { exitCode: ExitCode.interrupted });
    }
    throw err;
  } finally {
    io.stdin.off('data', onData);
  }
}

/** Split what the user typed into argv: quotes work, shell operators do not (no shell runs it). */
function toArgv(line: string): string[] {
  const err = validateCommand(line);
  if (err) throw new UsageError(err);
  return parseShellWords(line) as string[];
}

function validateCommand(line: string): string | undefined {
  if (line.trim() === '') return undefined;
  let words;
  try {
    words = parseShellWords(line, (k) => `$${k}`);
  } catch {
    return 'cannot parse that command line (unbalanced quotes?)';
  }
  if (words.some((w) => typeof w !== 'string')) return 'pipes, redirects and ; need a shell: type bash -c \'…\'';
  return undefined;
}

function recentStore(env: NodeJS.ProcessEnv) {
  const path = xdgPath('state', 'recent.json', env);
  const get = () => readJsonFile<string[]>(path, []);
  return {
    get,
    add(attrs: string[]) {
      const next = [...attrs, ...get().filter((a) => !attrs.includes(a))].slice(0, RECENT_MAX);
      try {
        writeJsonFile(path, next);
      } catch {
        // Remembering is a convenience; a read-only home must not break the run.
      }
    },
  };
}
