import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { COMMANDS, GLOBAL_FLAGS } from '../../../src/cli/flags.js';
import { parseRunArgs } from '../../../src/cli/run-args.js';
import { runMain } from '../../support/main.js';

// What yargs hands the run command, recorded instead of running it.
const seen: { args?: Record<string, unknown> } = {};
vi.mock('../../../src/cli/run.js', () => ({
  runCommand: (args: Record<string, unknown>) => {
    seen.args = args;
    return Promise.resolve(0);
  },
}));

async function viaYargs(argv: string[]): Promise<Record<string, unknown> | undefined> {
  seen.args = undefined;
  const r = await runMain(argv);
  return r.code === 0 ? seen.args : undefined;
}

const KEYS = [
  'executable',
  '_',
  '--',
  ...[...GLOBAL_FLAGS, ...COMMANDS.run.flags].flatMap((f) => [f.name, f.name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), ...(f.alias ? [f.alias] : [])]),
];
const pick = (a: Record<string, unknown>) => Object.fromEntries(KEYS.map((k) => [k, a[k]]));

async function expectSame(argv: string[]): Promise<boolean> {
  const fast = parseRunArgs(argv);
  if (fast === undefined) return false;
  const slow = await viaYargs(argv);
  expect(slow, `yargs refused ${JSON.stringify(argv)}, the fast parser took it`).toBeDefined();
  expect(pick(fast as unknown as Record<string, unknown>), JSON.stringify(argv)).toEqual(pick(slow!));
  return true;
}

describe('the run command read without yargs (src/cli/run-args.ts)', () => {
  const taken = [
    ['psql'],
    ['--dry-run', '-o', 'yaml', 'psql'],
    ['--dry-run', '--output=json', 'psql'],
    ['-n', 'debug', '--context', 'kind', 'htop'],
    ['--pkgs', 'curl,jq', '-p', 'netcat', 'shell'],
    ['--no-preflight', '--', 'echo', 'hi'],
    ['--no-preflight', '--no-sweep', '-i', '-t', '--', 'sh', '-c', 'exit 3'],
    ['-q', '-v', '--arch', 'arm64', '--profile', 'netadmin', 'tcpdump', '--', 'tcpdump', '-i', 'any', '10'],
    ['--env', 'A=1', '-e', 'B=2', '--labels', 'a=b', '--annotations', 'x=y', 'psql'],
    ['--requests', 'cpu=100m', '--limits', 'memory=1Gi', '--node', 'n1', '--toleration', 'all', 'psql'],
    ['--keep', '--host-network', '--image-pull-policy', 'Always', '--pod-running-timeout', '10s', '--deadline', '1h', 'dig'],
    ['--overrides', '{"spec":{}}', '--registry', 'nixery.example.com', '--tag', 'main', '--service-account', 'sa', 'psql'],
    ['--no-init', '--pick'],
    [],
    ['--', 'sleep', '10'],
  ];
  it.each(taken)('%j: the same arguments as yargs', async (...argv) => {
    expect(await expectSame(argv)).toBe(true);
  });

  const refused = [
    ['-it', 'psql'],
    ['--arch', 'riscv', 'psql'],
    ['-n'],
    ['-n', '--dry-run'],
    ['--nope', 'psql'],
    ['--keep', 'true', 'psql'],
    ['-n', 'a', '-n', 'b', 'psql'],
    ['psql', 'extra'],
    ['7z'],
    ['--version'],
    ['--help'],
    ['-vv', 'psql'],
    ['-o=json', '--dry-run', 'psql'],
  ];
  it.each(refused)('%j is left to yargs', (...argv) => {
    expect(parseRunArgs(argv)).toBeUndefined();
  });

  it("every command main.ts defines is in flags.ts COMMANDS, so its word is never taken for an executable", () => {
    const main = readFileSync(join(__dirname, '../../../src/cli/main.ts'), 'utf8');
    const words = [...main.matchAll(/\.command\(\s*'([^' $]+)/g)].map((m) => m[1]!);
    expect(words.length).toBeGreaterThan(5);
    const known = Object.values(COMMANDS).map((c) => c.words[0]);
    expect(words.filter((w) => !known.includes(w))).toEqual([]);
    for (const w of words) expect(parseRunArgs([w]), w).toBeUndefined();
  });

  it('whatever it takes, yargs reads the same (random argument lists)', async () => {
    const words = ['psql', 'htop', 'shell', '--', '-n', 'ns', '--dry-run', '-o', 'yaml', 'json', '--pkgs', 'curl,jq', '-p', '--keep', '--no-keep', '-q', '-v', '--arch', 'amd64', '--profile', 'baseline', '-e', 'A=1', '--no-preflight', '-i', '--no-tty', 'echo', 'hi', '3', '--context', '--output', '-t', 'true'];
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...words), { maxLength: 8 }), async (argv) => {
        if (await expectSame(argv)) accepted++;
      }),
      { numRuns: 300, seed: 19 },
    );
    expect(accepted).toBeGreaterThan(30);
  });
});
