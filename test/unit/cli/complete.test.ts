import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../support/cli.js';

function candidates(stdout: string): { values: string[]; directive: number } {
  const lines = stdout.trimEnd().split('\n');
  const last = lines.pop()!;
  expect(last).toMatch(/^:\d+$/);
  return { values: lines, directive: Number(last.slice(1)) };
}

describe('__complete (cobra protocol, as kubectl_complete-nixrun answers it)', () => {
  it('--pkgs psq offers postgresql, without a trailing space', async () => {
    const r = await runCli(['__complete', '--pkgs', 'psq']);
    const c = candidates(r.stdout);
    expect(c.values).toContain('postgresql');
    expect(c.directive & 2).toBe(2);
  });

  it('completes the last item of a comma list', async () => {
    const c = candidates((await runCli(['__complete', '-p', 'curl,psq'])).stdout);
    expect(c.values).toContain('curl,postgresql');
  });

  it('profiles, flags, subcommands and executables', async () => {
    expect(candidates((await runCli(['__complete', '--profile', 'net'])).stdout).values).toEqual(['netadmin']);
    expect(candidates((await runCli(['__complete', '--pod-r'])).stdout).values).toEqual(['--pod-running-timeout']);
    const first = candidates((await runCli(['__complete', ''])).stdout).values;
    expect(first).toEqual(expect.arrayContaining(['which', 'gc', 'shell']));
    expect(candidates((await runCli(['__complete', 'psq'])).stdout).values[0]).toBe('psql');
  });

  it('contexts and namespaces come from the kubeconfig, offline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nixrun-kc-'));
    const kc = join(dir, 'config');
    writeFileSync(
      kc,
      'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts:\n- name: prod\n  context: {cluster: c, user: u, namespace: payments}\n- name: staging\n  context: {cluster: c, user: u}\ncurrent-context: prod\n',
    );
    expect(candidates((await runCli(['__complete', '--context', ''], { env: { KUBECONFIG: kc } })).stdout).values).toEqual(['prod', 'staging']);
    expect(candidates((await runCli(['__complete', '-n', 'pay'], { env: { KUBECONFIG: kc } })).stdout).values).toEqual(['payments']);
  });

  it('kubectl itself finds kubectl_complete-nixrun on PATH and relays it', () => {
    const kubectl = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
    expect(kubectl, 'kubectl (1.26+) must be on PATH: .ci/run installs it').not.toBe('');
    const bin = mkdtempSync(join(tmpdir(), 'nixrun-path-'));
    symlinkSync(join(ROOT, 'bin', 'kubectl-nixrun.js'), join(bin, 'kubectl-nixrun'));
    symlinkSync(join(ROOT, 'bin', 'kubectl_complete-nixrun.js'), join(bin, 'kubectl_complete-nixrun'));
    const env = { ...process.env, PATH: [bin, dirname(process.execPath), process.env.PATH].join(':') };
    const r = spawnSync(kubectl, ['__complete', 'nixrun', '--pkgs', 'psq'], { env, encoding: 'utf8' });
    expect(r.stdout.split('\n')).toContain('postgresql');
  });
});
