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

  it('completion install writes the kubectl helper next to kubectl-nixrun on PATH, never over a foreign file', async () => {
    const { readFileSync, statSync } = await import('node:fs');
    const bin = mkdtempSync(join(tmpdir(), 'nixrun-path-'));
    symlinkSync(join(ROOT, 'bin', 'kubectl-nixrun.js'), join(bin, 'kubectl-nixrun'));
    const PATH = [bin, dirname(process.execPath), '/usr/bin', '/bin'].join(':');
    const ok = await runCli(['completion', 'install'], { env: { PATH } });
    expect(ok.code, ok.stderr).toBe(0);
    const helper = join(bin, 'kubectl_complete-nixrun');
    expect(ok.stderr).toBe(`${helper} is in place\n`);
    expect(readFileSync(helper, 'utf8')).toMatch(/^#!\/bin\/sh\n[\s\S]*exec kubectl-nixrun __complete "\$@"\n$/);
    expect(statSync(helper).mode & 0o111).not.toBe(0);
    // The helper works: it answers the cobra protocol through kubectl-nixrun on PATH.
    const r = spawnSync(helper, ['--pkgs', 'psq'], { env: { PATH }, encoding: 'utf8' });
    expect(candidates(r.stdout).values).toContain('postgresql');
    // Again: fine (ours). A foreign file: refused, exit 2.
    expect((await runCli(['completion', 'install'], { env: { PATH } })).code).toBe(0);
    writeFileSync(helper, '#!/bin/sh\necho something else\n');
    const foreign = await runCli(['completion', 'install'], { env: { PATH } });
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toMatch(/exists and was not written by kubectl-nixrun; not overwriting it/);
    expect(readFileSync(helper, 'utf8')).toBe('#!/bin/sh\necho something else\n');
    // Not on PATH and no --dir: a clear error.
    const nowhere = await runCli(['completion', 'install'], { env: { PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(':') } });
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(/hint: .*--dir/);
  });
});
