#!/usr/bin/env node
// Entry point that kubectl finds on PATH as `kubectl-nixrun`. The real code is the esbuild bundles
// in dist/ (npm run build); this file only checks the Node version first, with a clear message.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `error: kubectl-nixrun needs Node.js 22.15 or newer (this is ${process.versions.node})\n` +
      'hint: install a newer Node.js, or use the standalone binary from the release page\n',
  );
  process.exit(125);
}
// Cache V8's compiled code on disk (Node 22.1+). getBuiltinModule, not an import: an imported
// built-in costs a facade module (scripts/node-builtins.mjs).
try {
  process.getBuiltinModule('node:module').enableCompileCache();
} catch {
  // A read-only or missing cache directory only costs speed.
}
// The fast bundle answers --help, --version, which and offline dry runs from one file; it hands
// everything else to the full build (scripts/build.mjs).
const { run } = await import('../dist/fast.js');
await run(new URL('../dist/kubectl-nixrun.js', import.meta.url).href);
