import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../support/cli.js';
import { runMain } from '../../support/main.js';

// The built CLI answers --help from pages rendered at build time (scripts/help-pages.mjs,
// src/cli/fast.ts): they must be what yargs prints, byte for byte.
describe('--help pages rendered at build time', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'kubectl-nixrun.js'))) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  }, 120_000);

  it.each([[[]], [['pick']], [['which']], [['gc']], [['config', 'view']], [['completion']], [['table', 'update']]])('%j --help: the built page is yargs\' page', async (words) => {
    const built = await runCli([...words, '--help']);
    const yargs = await runMain([...words, '--help']);
    expect(built.code).toBe(0);
    expect(built.stderr).toBe('');
    expect(built.stdout).toBe(yargs.stdout);
  }, 30_000);
});
