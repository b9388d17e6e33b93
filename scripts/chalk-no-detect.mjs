// esbuild plugin: chalk's colour detection (its vendored supports-color) replaced by "no colour".
// The plugin never asks chalk to detect anything: src/ui/output.ts gives every Chalk instance
// its level (colorLevel: a terminal, NO_COLOR, FORCE_COLOR). Detection runs at module load and
// imports node:tty (and with it node:net), which costs a command writing to a file or a pipe
// about 5 ms of its start for nothing.
export function chalkNoDetectPlugin() {
  return {
    name: 'chalk-no-detect',
    setup(b) {
      b.onResolve({ filter: /^#supports-color$/ }, (args) => (/[\\/]chalk[\\/]/.test(args.importer) ? { path: 'supports-color', namespace: 'chalk-no-detect' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'chalk-no-detect' }, () => ({
        contents: 'export default { stdout: false, stderr: false };',
        loader: 'js',
      }));
    },
  };
}
