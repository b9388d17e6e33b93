#!/usr/bin/env node
// Rewrite a table file in the current format (src/resolve/table-file.ts), same content, no
// download: `node scripts/convert-table.mjs [IN] [OUT]` (default data/table.br in place). Used to
// move data/table.br from format 1 to format 2 without rebuilding it from nix-index; the decoded
// lines are compared before anything is written.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const input = process.argv[2] ?? join(ROOT, 'data', 'table.br');
const output = process.argv[3] ?? input;
const entry = join(tmpdir(), `nixrun-convert-table-${process.pid}.mjs`);
await build({ stdin: { contents: "export * from './src/resolve/table-file.ts';", resolveDir: ROOT, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', outfile: entry, logLevel: 'warning' });
const { parseTable, parseHints, serializeTable } = await import(entry).finally(() => rmSync(entry, { force: true }));

const before = parseTable(readFileSync(input));
const exes = new Map();
const distro = new Map();
for (const line of before.exeSection.split('\n')) {
  if (!line) continue;
  const [exe, idx, hints] = line.split('\t');
  exes.set(exe, idx.split(',').map(Number));
  if (hints) distro.set(exe, parseHints(hints));
}
const bytes = serializeTable({ header: before.header, attrs: before.attrs, exes, distro });
const after = parseTable(bytes);
if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error('the converted table does not read back the same');
writeFileSync(output, bytes);
console.log(`${output}: ${exes.size} executables, ${before.attrs.length} attributes, ${(readFileSync(input).length / 1024).toFixed(0)} → ${(bytes.length / 1024).toFixed(0)} KiB`);
