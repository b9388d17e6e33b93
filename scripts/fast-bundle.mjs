// The fast bundle (dist/fast.js, src/cli/fast-entry.ts): one file without code splitting holds
// what `--help`, `--version`, `which` and an offline dry run need. It is a classic script, a
// function expression that bin/kubectl-nixrun.js compiles with node:vm and V8's code cache made
// after a run (see there). Without
// splitting esbuild would inline every lazily imported module (the Kubernetes client, the
// picker, yargs: 2.9 MB); instead each dynamic import outside the list below becomes a module
// that throws FastPathUnavailable, and fast-entry.ts hands the command to the full build.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The lazily imported modules the fast commands use (src/cli/fast.ts, run.ts, config.ts). */
const FAST_MODULES = ['cli/help-text', 'cli/version-command', 'cli/which', 'cli/run-args', 'cli/run', 'cli/factory', 'cli/yaml-out', 'cli/yaml', 'ui/output'];

export function fastBundlePlugin(root) {
  const allowed = new Set(FAST_MODULES.map((m) => join(root, 'src', `${m}.js`)));
  const bail = join(root, 'src', 'cli', 'fast-bail.ts');
  return {
    name: 'nixrun-fast-bundle',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== 'dynamic-import' || args.path.startsWith('node:')) return undefined;
        if (args.path.startsWith('.') && allowed.has(join(args.resolveDir, args.path))) return undefined;
        return { path: args.path, namespace: 'fast-bail' };
      });
      b.onLoad({ filter: /.*/, namespace: 'fast-bail' }, (args) => ({
        contents: `import { FastPathUnavailable } from ${JSON.stringify(bail)};\nthrow new FastPathUnavailable(${JSON.stringify(args.path)});\n`,
        loader: 'js',
        resolveDir: root,
      }));
    },
  };
}

/**
 * esbuild options of the fast bundle: an IIFE wrapped in a function of `require` (CommonJS
 * dependencies call it for Node built-ins) and of the bundle's own URL (import.meta has no
 * meaning in a script).
 */
export function fastScriptOptions(define) {
  return {
    format: 'iife',
    globalName: '__nixrunFast',
    define: { ...define, 'import.meta.url': '__nixrunUrl' },
    banner: { js: '(function (require, __nixrunUrl) {' },
    footer: { js: 'return __nixrunFast;\n})' },
    legalComments: 'none',
  };
}

/**
 * The first line names the content's hash: V8 checks a code cache against the source's length
 * only, so bin/ keys its cache files by this hash, not by the file.
 */
export function writeFastScript(path, contents) {
  const hash = createHash('sha256').update(contents).digest('hex').slice(0, 16);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, Buffer.concat([Buffer.from(`// nixrun-fast ${hash}\n`), contents]));
}
