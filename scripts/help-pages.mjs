// The --help pages rendered at build time: yargs renders each command's help once here, and the
// bundle's src/cli/help-text.ts is replaced by the result, so `--help` at run time is one write
// (src/cli/fast.ts) instead of building yargs' command tree. The pages are what main() prints,
// byte for byte (test/unit/cli/smoke.test.ts compares the built binary with the in-process yargs).
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';

/** The words of every command with a help page (src/cli/flags.ts COMMANDS, in main.ts's order). */
export const HELP_COMMANDS = [[], ['pick'], ['completion'], ['table', 'update'], ['config', 'view'], ['which'], ['gc']];
/** Widths main.ts wraps to: a pipe (100), a terminal of 110+ columns (110), a classic 80. */
export const HELP_WIDTHS = [80, 100, 110];

/** Bundle src/cli/main.ts on its own, run `… --help` through it at each width; returns the pages. */
export async function renderHelpPages({ root, define }) {
  const dir = mkdtempSync(join(tmpdir(), 'nixrun-help-'));
  try {
    await build({
      entryPoints: [join(root, 'src/cli/main.ts')],
      outfile: join(dir, 'main.mjs'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      define,
      banner: { js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);" },
      logLevel: 'warning',
    });
    const { main } = await import(pathToFileURL(join(dir, 'main.mjs')).href);
    const pages = {};
    for (const width of HELP_WIDTHS) {
      for (const words of HELP_COMMANDS) {
        const stdout = Object.assign(new PassThrough(), { columns: width });
        const stderr = new PassThrough();
        let out = '';
        stdout.on('data', (d) => (out += d));
        const stdin = new PassThrough();
        stdin.end();
        const code = await main([...words, '--help'], { stdin, stdout, stderr, env: { NO_COLOR: '1' } });
        await new Promise((r) => setImmediate(r));
        if (code !== 0 || !out.endsWith('\n')) throw new Error(`help for ${JSON.stringify(words)} failed (exit ${code})`);
        pages[`${width}|${words.join(' ')}`] = out.slice(0, -1);
      }
    }
    return pages;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** esbuild plugin: src/cli/help-text.ts becomes the rendered pages. */
export function helpPagesPlugin(pages) {
  return {
    name: 'nixrun-help-pages',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]cli[\\/]help-text\.ts$/ }, () => ({
        contents: `export const HELP_PAGES = ${JSON.stringify(pages)};\n`,
        loader: 'js',
      }));
    },
  };
}
