#!/usr/bin/env node
// Resolution benchmark: table load time (in a fresh process, as a run pays it), 1,000 lookups of
// executables drawn from the table, and the picker's per-keystroke search latency over the whole
// table (what @inquirer's search prompt calls on each key). Usage: node bench/lookup.mjs [--runs 15]
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
const out = join(root, 'bench', 'out');
mkdirSync(out, { recursive: true });

// The real modules, bundled as the plugin bundles them.
await build({
  stdin: {
    contents: `export { loadTable, resolveExecutable } from './src/resolve/index.ts';
export { PackageIndex } from './src/picker/search.ts';`,
    resolveDir: root,
    loader: 'ts',
  },
  outfile: join(out, 'lookup-lib.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
const lib = join(out, 'lookup-lib.mjs');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

// 1. Load + one lookup in a fresh process (the cost a run pays), median of `runs`.
const probe = `
const t0 = performance.now();
const { loadTable, resolveExecutable } = await import(${JSON.stringify(pathToFileURL(lib).href)});
const t1 = performance.now();
const table = loadTable();
const t2 = performance.now();
const r = resolveExecutable(table, 'psql');
const t3 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, loadMs: t2 - t1, firstLookupMs: t3 - t2, attr: r.attr ?? r.candidates?.[0]?.attr }));
`;
const loads = [];
for (let i = 0; i < runs; i++) loads.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', env: { ...process.env, NIXRUN_TABLE: '' } })));

// 1b. The picker as it opens: a fresh process loads the table and builds the index on the first
// key (no lookup before it), median of `runs`. The in-process figure below comes after 1,000
// lookups, so it also depends on how much the young generation has grown by then.
const pickerProbe = `
const { loadTable, PackageIndex } = await import(${JSON.stringify(pathToFileURL(lib).href)});
const t0 = performance.now();
new PackageIndex(loadTable(), []).search('p', 30);
console.log(performance.now() - t0);
`;
const pickerFresh = [];
for (let i = 0; i < runs; i++) pickerFresh.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', pickerProbe], { encoding: 'utf8', env: { ...process.env, NIXRUN_TABLE: '' } })));

// 2. 1,000 lookups in one process, over executables sampled evenly from the table.
const { loadTable, resolveExecutable, PackageIndex } = await import(pathToFileURL(lib).href);
const table = loadTable();
const all = table.executables();
const sample = Array.from({ length: 1000 }, (_, i) => all[Math.floor((i * all.length) / 1000)]);
const batches = [];
for (let b = 0; b < runs; b++) {
  const t0 = performance.now();
  for (const exe of sample) resolveExecutable(table, exe);
  batches.push(performance.now() - t0);
}

// 3. Picker: type queries one key at a time; the first search builds the index (timed apart).
const index = new PackageIndex(table, []);
const t0 = performance.now();
index.search('p', 30);
const firstSearch = performance.now() - t0;
const keys = [];
for (const q of ['psql', 'postgres', 'curl', 'netcat', 'kubectl', 'tcpdump', 'dig', 'openssl', 'redis-cli', 'mongosh', 'htop', 'jq', 'zzz']) {
  for (let i = 1; i <= q.length; i++) {
    const s = performance.now();
    index.search(q.slice(0, i), 30);
    keys.push(performance.now() - s);
  }
}

console.log(`# lookup benchmark, ${new Date().toISOString()}, node ${process.versions.node}, table: ${all.length} executables`);
console.log(`table load (fresh process), median of ${runs}: import ${median(loads.map((l) => l.importMs)).toFixed(1)} ms, load ${median(loads.map((l) => l.loadMs)).toFixed(1)} ms, first lookup ${median(loads.map((l) => l.firstLookupMs)).toFixed(2)} ms (psql → ${loads[0].attr})`);
console.log(`1,000 lookups, median of ${runs} batches: ${median(batches).toFixed(1)} ms (${((median(batches) / 1000) * 1000).toFixed(1)} µs each)`);
console.log(`picker, fresh process: table load + index + first search, median of ${runs}: ${median(pickerFresh).toFixed(1)} ms`);
console.log(`picker: first search (builds the index, after the lookups above) ${firstSearch.toFixed(1)} ms; per keystroke over ${keys.length} keys: median ${median(keys).toFixed(2)} ms, p95 ${pct(keys, 95).toFixed(2)} ms, max ${Math.max(...keys).toFixed(2)} ms`);
