#!/usr/bin/env node
// Bundles src/ into dist/ with esbuild. Code splitting keeps the Kubernetes client and the picker
// in chunks that are only loaded by the commands that need them, so start-up stays fast; the
// --help pages are rendered here (scripts/help-pages.mjs) and bundled as text.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chalkNoDetectPlugin } from './chalk-no-detect.mjs';
import { nodeBuiltinsPlugin } from './node-builtins.mjs';
import { helpPagesPlugin, renderHelpPages } from './help-pages.mjs';
import { fastBundlePlugin, fastScriptOptions, writeFastScript } from './fast-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const define = { __NIXRUN_VERSION__: JSON.stringify(pkg.version) };
const pages = await renderHelpPages({ root, define });
const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: false,
  minify: process.env.NIXRUN_NO_MINIFY ? false : true,
  legalComments: 'linked',
  define,
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  banner: { js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);" },
  logLevel: 'warning',
  metafile: true,
};
const builds = await Promise.all([
  // The full build: every command, split into chunks loaded by the commands that need them.
  build({
    ...common,
    entryPoints: { 'kubectl-nixrun': 'src/cli/entry.ts' },
    outdir: 'dist',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [helpPagesPlugin(pages), chalkNoDetectPlugin(), nodeBuiltinsPlugin()],
  }),
  // The fast bundle bin/ loads first: one script for the commands run most (scripts/fast-bundle.mjs).
  build({
    ...common,
    entryPoints: { fast: 'src/cli/fast-entry.ts' },
    outdir: 'dist',
    write: false,
    ...fastScriptOptions(define),
    plugins: [fastBundlePlugin(root), helpPagesPlugin(pages), chalkNoDetectPlugin(), nodeBuiltinsPlugin()],
  }).then((r) => {
    for (const f of r.outputFiles) writeFastScript(f.path, f.contents);
    return r;
  }),
]);
if (process.env.NIXRUN_BUILD_META) console.log(JSON.stringify(builds[0].metafile));
