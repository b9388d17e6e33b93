import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyHome, runMain } from '../../support/main.js';
import { completionCandidates as candidates } from '../../support/cli.js';

describe('__complete (cobra protocol, as kubectl_complete-nixrun answers it)', () => {
  it('--pkgs psq offers postgresql, without a trailing space', async () => {
    const r = await runMain(['__complete', '--pkgs', 'psq']);
    const c = candidates(r.stdout);
    expect(c.values).toContain('postgresql');
    expect(c.directive & 2).toBe(2);
  });

  it('completes the last item of a comma list', async () => {
    const c = candidates((await runMain(['__complete', '-p', 'curl,psq'])).stdout);
    expect(c.values).toContain('curl,postgresql');
  });

  it('profiles, flags, subcommands and executables', async () => {
    expect(candidates((await runMain(['__complete', '--profile', 'net'])).stdout).values).toEqual(['netadmin']);
    expect(candidates((await runMain(['__complete', '--pod-r'])).stdout).values).toEqual(['--pod-running-timeout']);
    const first = candidates((await runMain(['__complete', ''])).stdout).values;
    expect(first).toEqual(expect.arrayContaining(['which', 'gc', 'shell']));
    expect(candidates((await runMain(['__complete', 'psq'])).stdout).values[0]).toBe('psql');
  });

  it('contexts and namespaces come from the kubeconfig, offline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nixrun-kc-'));
    const kc = join(dir, 'config');
    writeFileSync(
      kc,
      'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts:\n- name: prod\n  context: {cluster: c, user: u, namespace: payments}\n- name: staging\n  context: {cluster: c, user: u}\ncurrent-context: prod\n',
    );
    expect(candidates((await runMain(['__complete', '--context', ''], { env: { ...emptyHome(), KUBECONFIG: kc } })).stdout).values).toEqual(['prod', 'staging']);
    expect(candidates((await runMain(['__complete', '-n', 'pay'], { env: { ...emptyHome(), KUBECONFIG: kc } })).stdout).values).toEqual(['payments']);
  });
});

describe('completion offers what --help lists, command by command', () => {
  // Every command's words, as the help's Commands section names them.
  const commands = [[], ['pick'], ['which'], ['gc'], ['config', 'view'], ['completion'], ['table', 'update'], ['image']];

  /** The flags in a help text's option lines ("  -n, --namespace  Namespace …"). */
  function helpFlags(help: string): string[] {
    const options = help.slice(help.indexOf('Options:'), help.indexOf('Examples:') === -1 ? undefined : help.indexOf('Examples:'));
    return [...options.matchAll(/^\s+((?:-\w, )?--[\w-]+)/gm)].flatMap((m) => m[1]!.split(', '));
  }

  it.each(commands)('%j: every flag of its --help', async (...words) => {
    const help = (await runMain([...words, '--help'])).stdout;
    const flags = helpFlags(help);
    expect(flags.length).toBeGreaterThan(3);
    const offered = candidates((await runMain(['__complete', ...words, '-'])).stdout).values;
    for (const f of flags) expect(offered.includes(f) || offered.includes(f.replace(/^--/, '--no-')), `${f} in ${offered.join(' ')}`).toBe(true);
  });

  it('every command word, and the words after it', async () => {
    const help = (await runMain(['--help'])).stdout;
    const section = help.slice(help.indexOf('Commands:'), help.indexOf('Positionals:'));
    const listed = [...new Set([...section.matchAll(/^ {2}kubectl nixrun ([a-z]+)/gm)].map((m) => m[1]!))];
    expect([...listed].sort()).toEqual(['completion', 'config', 'gc', 'image', 'pick', 'table', 'which']);
    const first = candidates((await runMain(['__complete', ''])).stdout).values;
    for (const word of listed) expect(first).toContain(word);
    expect(candidates((await runMain(['__complete', 'table', ''])).stdout).values).toEqual(['update']);
    expect(candidates((await runMain(['__complete', 'config', ''])).stdout).values).toEqual(['view']);
    expect(candidates((await runMain(['__complete', 'completion', ''])).stdout).values).toEqual(['bash', 'zsh', 'fish', 'install']);
  });

  it('a flag value is completed for the command it belongs to', async () => {
    expect(candidates((await runMain(['__complete', 'which', '-o', ''])).stdout).values).toEqual(['json']);
    expect(candidates((await runMain(['__complete', '-o', ''])).stdout).values).toEqual(['yaml', 'json']);
    expect(candidates((await runMain(['__complete', 'table', 'update', '--from', ''])).stdout).directive).toBe(0);
  });
});
