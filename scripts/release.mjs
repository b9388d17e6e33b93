#!/usr/bin/env node
// Release build: standalone binaries (no Node needed) for linux/darwin × amd64/arm64, their krew
// archives, SHA256SUMS, and plugin-manifest.yaml rewritten with the version, URLs and sha256s.
//
//   node scripts/release.mjs                          all four targets into release/, update the manifest
//   node scripts/release.mjs --targets linux-amd64    only some targets (the manifest keeps the others)
//   node scripts/release.mjs --out DIR --manifest-out FILE --base-url URL
//
// How a binary is made: esbuild bundles src/standalone/app.ts into one ESM file, with `undici`
// replaced by a small stand-in (Bun ignores undici dispatchers, which carry the kubeconfig's TLS
// settings); a generated entry embeds data/table.br and data/overrides.json; `bun build --compile
// --target=bun-<os>-<arch>` turns it into an executable (Bun fetches the other platforms' runtimes
// from the npm registry). Archives are reproducible: sorted, mtime 0, owner 0, gzip -n.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { parseDocument } from 'yaml';
import { chalkNoDetectPlugin } from './chalk-no-detect.mjs';
import { helpPagesPlugin, renderHelpPages } from './help-pages.mjs';
// A plain string module: Node loads the .ts file directly (type stripping), no build needed.
import { KUBECTL_HELPER } from '../src/cli/kubectl-helper.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL_TARGETS = ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64'];
const BUN_ARCH = { amd64: 'x64', arm64: 'arm64' };
const log = (...a) => process.stderr.write(`[release] ${a.join(' ')}\n`);

function parseArgs(argv) {
  const o = { out: join(ROOT, 'release'), targets: ALL_TARGETS, manifestOut: join(ROOT, 'plugin-manifest.yaml'), baseUrl: undefined };
  for (let i = 0; i < argv.length; i++) {
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return x;
    };
    switch (argv[i]) {
      case '--out':
        o.out = resolve(v());
        break;
      case '--targets':
        o.targets = v().split(',');
        for (const t of o.targets) if (!ALL_TARGETS.includes(t)) throw new Error(`unknown target ${t} (one of ${ALL_TARGETS.join(', ')})`);
        break;
      case '--manifest-out':
        o.manifestOut = resolve(v());
        break;
      case '--base-url':
        o.baseUrl = v().replace(/\/+$/, '');
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return o;
}

/** The host's target name (linux-amd64 …), or undefined on a platform we do not ship. */
export function hostTarget() {
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
  const os = { linux: 'linux', darwin: 'darwin' }[process.platform];
  return arch && os ? `${os}-${arch}` : undefined;
}

/** Bundle once (the JavaScript is the same for every platform); returns the generated entry. */
async function bundle(stage, version) {
  mkdirSync(stage, { recursive: true });
  const define = { __NIXRUN_VERSION__: JSON.stringify(version) };
  const pages = await renderHelpPages({ root: ROOT, define });
  await build({
    entryPoints: [join(ROOT, 'src/standalone/app.ts')],
    outfile: join(stage, 'app.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    minify: true,
    legalComments: 'none',
    alias: { undici: join(ROOT, 'src/standalone/undici-bun.ts') },
    define,
    // Not nodeBuiltinsPlugin: Bun has no ESM facades to avoid, and its getBuiltinModule made the
    // binary's `which` 8 ms slower (bench/RESULTS.md).
    plugins: [helpPagesPlugin(pages), chalkNoDetectPlugin()],
    banner: { js: "import { createRequire as __nixrunCreateRequire } from 'node:module'; const require = __nixrunCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  const entry = join(stage, 'entry.mjs');
  const rel = (p) => JSON.stringify(`./${relative(stage, join(ROOT, p))}`);
  writeFileSync(
    entry,
    [
      `import table from ${rel('data/table.br')} with { type: 'file' };`,
      `import overrides from ${rel('data/overrides.json')} with { type: 'json' };`,
      "import { run, useEmbeddedData } from './app.mjs';",
      'useEmbeddedData({ table, overrides });',
      'await run();',
      '',
    ].join('\n'),
  );
  return entry;
}

/** Compile one target's executable into dir/kubectl-nixrun. */
export function compile(entry, target, dir) {
  const [os, arch] = target.split('-');
  mkdirSync(dir, { recursive: true });
  const bun = join(ROOT, 'node_modules', '.bin', 'bun');
  if (!existsSync(bun)) throw new Error('bun is missing: run npm ci (it is a devDependency)');
  const outfile = join(dir, 'kubectl-nixrun');
  // --bytecode: JavaScriptCore bytecode compiled at build time, so the binary does not parse its
  // 4 MB of JavaScript on each start (start-up ~115 ms → ~55 ms; bench/RESULTS.md).
  execFileSync(bun, ['build', '--compile', '--minify', '--bytecode', '--format=esm', `--target=bun-${os}-${BUN_ARCH[arch]}`, '--outfile', outfile, entry], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return outfile;
}


function archive(dir, file) {
  writeFileSync(join(dir, 'kubectl_complete-nixrun'), KUBECTL_HELPER);
  chmodSync(join(dir, 'kubectl_complete-nixrun'), 0o755);
  copyFileSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'));
  copyFileSync(join(ROOT, 'README.md'), join(dir, 'README.md'));
  const tarFile = file.replace(/\.gz$/, '');
  rmSync(tarFile, { force: true });
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', dir, '-cf', tarFile, 'kubectl-nixrun', 'kubectl_complete-nixrun', 'LICENSE', 'README.md']);
  rmSync(file, { force: true });
  execFileSync('gzip', ['-n', '-9', tarFile]);
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Rewrite version, uri and sha256 of the built platforms, keeping comments and the rest. */
export function updateManifest(text, { version, baseUrl, built }) {
  const doc = parseDocument(text);
  const tag = `v${version}`;
  doc.setIn(['spec', 'version'], tag);
  const platforms = doc.getIn(['spec', 'platforms']);
  for (const p of platforms.items) {
    const os = p.getIn(['selector', 'matchLabels', 'os']);
    const arch = p.getIn(['selector', 'matchLabels', 'arch']);
    const b = built[`${os}-${arch}`];
    if (!b) continue;
    p.set('uri', `${baseUrl}/${tag}/${b.file}`);
    p.set('sha256', b.sha256);
  }
  return doc.toString({ lineWidth: 0 });
}

export async function release(opts) {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const version = pkg.version;
  const baseUrl = opts.baseUrl ?? `${String(pkg.homepage).replace(/#.*$/, '').replace(/\/+$/, '')}/releases/download`;
  mkdirSync(opts.out, { recursive: true });
  const stage = join(opts.out, '.stage');
  rmSync(stage, { recursive: true, force: true });
  const entry = await bundle(join(stage, 'js'), version);
  const built = {};
  for (const target of opts.targets) {
    const t0 = Date.now();
    const dir = join(stage, target);
    const bin = compile(entry, target, dir);
    const [os, arch] = target.split('-');
    const file = `kubectl-nixrun_v${version}_${os}_${arch}.tar.gz`;
    const sha256 = archive(dir, join(opts.out, file));
    built[target] = { file, sha256, binBytes: readFileSync(bin).length, archiveBytes: readFileSync(join(opts.out, file)).length, binary: bin };
    log(`${file}: binary ${(built[target].binBytes / 1e6).toFixed(1)} MB, archive ${(built[target].archiveBytes / 1e6).toFixed(1)} MB, ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
  writeFileSync(join(opts.out, 'SHA256SUMS'), Object.values(built).map((b) => `${b.sha256}  ${b.file}\n`).join(''));
  const manifestIn = existsSync(opts.manifestOut) ? opts.manifestOut : join(ROOT, 'plugin-manifest.yaml');
  writeFileSync(opts.manifestOut, updateManifest(readFileSync(manifestIn, 'utf8'), { version, baseUrl, built }));
  log(`manifest: ${opts.manifestOut}`);
  return { version, built, manifest: opts.manifestOut };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await release(parseArgs(process.argv.slice(2)));
  } catch (err) {
    process.stderr.write(`release: ${err.message}\n`);
    process.exit(1);
  }
}
