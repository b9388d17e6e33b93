import { existsSync, mkdirSync, openSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { loadOverrides } from '../resolve/index.js';
import { buildFromNixIndex, buildFromProgramsSqlite } from '../resolve/table-build.js';
import { serializeTable } from '../resolve/table-file.js';
import { Ui, type Io } from '../ui/output.js';
import { tableFiles } from './env.js';

/**
 * `table update [--from FILE]`: build the user's own table from a nix-index database (default
 * ~/.cache/nix-index/files) or a NixOS programs.sqlite; it then takes precedence over the bundled one.
 */
export async function tableUpdate(args: { from?: string; system?: string; quiet: boolean }, io: Io): Promise<number> {
  const ui = new Ui(io, { quiet: args.quiet });
  const from = args.from ?? join(io.env.HOME || homedir(), '.cache', 'nix-index', 'files');
  if (!existsSync(from)) {
    throw new UsageError(`no database at ${from}`, 'pass --from with a nix-index database (nix-index writes ~/.cache/nix-index/files) or a NixOS programs.sqlite');
  }
  const kind = sniff(from);
  if (!kind) throw new UsageError(`${from} is neither a nix-index database nor a programs.sqlite`);
  const t0 = Date.now();
  ui.info(`reading ${kind === 'nix-index' ? 'nix-index database' : 'programs.sqlite'} ${from}…`);
  const today = new Date().toISOString().slice(0, 10);
  const header = { source: `${kind} ${from}`, snapshot: today, generated: new Date().toISOString() };
  const files = tableFiles(io.env);
  const overrides = loadOverrides(files);
  const built = kind === 'nix-index' ? await buildFromNixIndex(from, overrides, header) : await buildFromProgramsSqlite(from, overrides, header, args.system);
  const out = files.userFile!;
  mkdirSync(dirname(out), { recursive: true });
  const bytes = serializeTable(built.table);
  writeFileSync(out, bytes);
  ui.info(
    `wrote ${out}: ${built.table.exes.size} executables, ${built.table.attrs.length} attributes (${built.stats.dropped.length} unreachable through Nixery dropped), ${(bytes.length / 1024).toFixed(0)} KiB in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
  );
  return 0;
}

function sniff(path: string): 'nix-index' | 'programs.sqlite' | undefined {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(16);
    readSync(fd, head, 0, 16, 0);
    if (head.subarray(0, 4).toString('latin1') === 'NIXI') return 'nix-index';
    if (head.toString('latin1').startsWith('SQLite format 3')) return 'programs.sqlite';
    return undefined;
  } finally {
    closeSync(fd);
  }
}
