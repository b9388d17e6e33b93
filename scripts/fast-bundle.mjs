// esbuild plugin for the fast bundle (dist/fast.js, src/cli/fast-entry.ts): one file without code
// splitting holds what `--help`, `--version`, `which` and an offline dry run need. Without
// splitting esbuild would inline every lazily imported module (the Kubernetes client, the
// picker, yargs: 2.9 MB); instead each dynamic import outside the list below becomes a module
// that throws FastPathUnavailable, and fast-entry.ts hands the command to the full build.
import { join } from 'node:path';

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
