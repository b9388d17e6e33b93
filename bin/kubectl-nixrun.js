#!/usr/bin/env node
// Entry point that kubectl finds on PATH as `kubectl-nixrun`. The real code is the esbuild bundles
// in dist/ (npm run build); this file checks the Node version first, with a clear message, then
// loads the fast bundle, which answers --help, --version, which and offline dry runs and leaves
// everything else to the full build.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `error: kubectl-nixrun needs Node.js 22.15 or newer (this is ${process.versions.node})\n` +
      'hint: install a newer Node.js, or use the standalone binary from the release page\n',
  );
  process.exit(125);
}
// Built-ins through getBuiltinModule, not imports: an imported built-in costs a facade module
// (scripts/node-builtins.mjs).
const builtin = (name) => process.getBuiltinModule(name);
const fs = builtin('node:fs');
const { join } = builtin('node:path');
const { fileURLToPath, pathToFileURL } = builtin('node:url');

// Cache V8's compiled code of the full build's modules on disk (Node 22.1+).
try {
  builtin('node:module').enableCompileCache();
} catch {
  // A read-only or missing cache directory only costs speed.
}

const argv = process.argv.slice(2);
const kind = argv.at(-1) === '--help' ? 'help' : argv[0] === '--version' ? 'version' : argv[0] === 'which' ? 'which' : argv.includes('--dry-run') ? (argv.includes('json') ? 'dry-run-json' : 'dry-run') : undefined;
// A run (not a dry run) and the other commands are the full build's: they skip the fast bundle.
const fast = kind && loadFastBundle(fileURLToPath(new URL('../dist/fast.js', import.meta.url)), kind);
const code = fast ? await fast.bundle.answer() : undefined;
if (code === undefined) {
  const { run } = await import('../dist/kubectl-nixrun.js');
  await run();
} else {
  // After a success only: a command refused early compiles a fraction of what the next one needs.
  if (code === 0) fast.saveCodeCache();
  await fast.bundle.finish(code);
}

/**
 * The fast bundle is a script compiled with node:vm rather than an ES module so that its V8 code
 * cache can be made after the command ran (script.createCachedData()) and hold every function
 * the command compiled. Node's compile cache for modules is made right after compiling, with the
 * top level only: the rest is compiled again on every start (a dry run: 49 ms without, 40 ms
 * with the cache made after the run; bench/RESULTS.md). One cache file per kind of command,
 * made the first time that kind succeeds here, under ${XDG_CACHE_HOME:-~/.cache}/kubectl-nixrun/v8/,
 * keyed by the bundle's hash and Node's version (V8 itself checks only the source's length, and
 * refuses another V8 or other flags: then the file is made again). NODE_DISABLE_COMPILE_CACHE=1
 * turns it off, as it does Node's own.
 */
function loadFastBundle(file, kind) {
  const vm = builtin('node:vm');
  const source = fs.readFileSync(file, 'utf8');
  const hash = /^\/\/ nixrun-fast ([0-9a-f]+)\n/.exec(source)?.[1] ?? 'unknown';
  const disabled = Boolean(process.env.NODE_DISABLE_COMPILE_CACHE);
  const home = process.env.XDG_CACHE_HOME || join(process.env.HOME || builtin('node:os').homedir(), '.cache');
  const dir = join(home, 'kubectl-nixrun', 'v8');
  const cacheFile = join(dir, `fast-${hash}-${process.version}-${process.arch}-${kind}.bin`);
  let cachedData;
  if (!disabled) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      // Not made yet.
    }
  }
  const script = new vm.Script(source, {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const bundle = script.runInThisContext()(builtin('node:module').createRequire(file), pathToFileURL(file).href);
  return {
    bundle,
    saveCodeCache() {
      if (disabled || (cachedData && !script.cachedDataRejected)) return;
      try {
        fs.mkdirSync(dir, { recursive: true });
        // An older bundle's files are of no more use (another Node's are: nvm users switch).
        for (const old of fs.readdirSync(dir)) if (old.startsWith('fast-') && !old.startsWith(`fast-${hash}-`)) fs.rmSync(join(dir, old), { force: true });
        // Written aside and renamed: a concurrent start reads a whole file or none.
        const tmp = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cacheFile);
      } catch {
        // A read-only home only costs speed.
      }
    },
  };
}
