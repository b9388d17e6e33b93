#!/usr/bin/env node
// What each ranking signal is worth: resolves the everyday list (test/unit/resolve/everyday-list.ts)
// against the bundled table with all signals, then with each one switched off, and prints the
// share right and the names that flip. Usage: node bench/rank-signals.mjs [--table data/table.br]
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bench', 'out');
mkdirSync(out, { recursive: true });
await build({
  stdin: {
    contents: `export { loadTable, resolveExecutable } from './src/resolve/index.ts';
export { DISABLED } from './src/resolve/rank.ts';
export { EVERYDAY } from './test/unit/resolve/everyday-list.ts';`,
    resolveDir: root,
    loader: 'ts',
  },
  outfile: join(out, 'rank-signals-lib.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  logLevel: 'warning',
});
const { loadTable, resolveExecutable, DISABLED, EVERYDAY } = await import(pathToFileURL(join(out, 'rank-signals-lib.mjs')).href);
const i = process.argv.indexOf('--table');
const table = loadTable({ path: i > 0 ? process.argv[i + 1] : join(root, 'data', 'table.br') });

const picks = () => new Map(EVERYDAY.map(([exe]) => [exe, table.candidates(exe)[0]?.attr ?? '(none)']));
const score = (p) => EVERYDAY.filter(([exe, ok]) => ok.includes(p.get(exe))).length;
const pct = (n) => `${((100 * n) / EVERYDAY.length).toFixed(1)}%`;
const all = picks();
const right = score(all);
console.log(`all signals: ${right}/${EVERYDAY.length} = ${pct(right)}`);
console.log(`  wrong: ${EVERYDAY.filter(([exe, ok]) => !ok.includes(all.get(exe))).map(([exe, ok]) => `${exe} → ${all.get(exe)} (want ${ok.join('|')})`).join('; ') || 'none'}`);
// Each alone off, then each off together with Debian's (what the structural signals do on their
// own, for tables built without Debian's index, e.g. `table update`).
const runs = ['distro', 'namesake', 'sameRelease', 'reimplementation', 'central', 'familyBase', 'pnameVariant'].flatMap((s) => [[s], ...(s === 'distro' ? [] : [['distro', s]])]);
for (const off of runs) {
  DISABLED.clear();
  for (const s of off) DISABLED.add(s);
  const signal = off.join(' + ');
  const p = picks();
  const n = score(p);
  const flips = EVERYDAY.filter(([exe]) => p.get(exe) !== all.get(exe)).map(([exe, ok]) => `${exe} → ${p.get(exe)}${ok.includes(p.get(exe)) ? '' : ' ✗'}`);
  console.log(`without ${signal}: ${n}/${EVERYDAY.length} = ${pct(n)} (${n - right >= 0 ? '+' : ''}${n - right}); flips: ${flips.join(', ') || 'none'}`);
}
DISABLED.clear();
