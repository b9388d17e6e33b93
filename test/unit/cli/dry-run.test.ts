import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { emptyHome, runMain } from '../../support/main.js';

// No cluster and no network: every config source points at nothing.
const offline = emptyHome();

describe('--dry-run (in process)', () => {
  it('prints the pod for `psql -- psql -h my-db` as JSON on stdout', async () => {
    const r = await runMain(['--dry-run', '-o', 'json', 'psql', '--', 'psql', '-h', 'my-db'], { env: offline });
    expect(r.code, r.stderr).toBe(0);
    const pod = JSON.parse(r.stdout) as V1Pod;
    const c = pod.spec!.containers[0]!;
    expect(c.image).toMatch(/^nixery\.dev\/(.+\/)?postgresql(\/.*)?$/);
    expect(c.command!.slice(-3)).toEqual(['psql', '-h', 'my-db']);
    expect(pod.spec!.restartPolicy).toBe('Never');
    expect(pod.metadata!.name).toMatch(/^nixrun-psql-[a-z0-9]{5}$/);
    expect(pod.metadata!.labels!['app.kubernetes.io/managed-by']).toBe('kubectl-nixrun');
  });

  it('`--pkgs curl,netcat shell` gives the shell meta-package first and bash as the command', async () => {
    const r = await runMain(['--dry-run', '-o', 'yaml', '--pkgs', 'curl,netcat', 'shell'], { env: offline });
    expect(r.code, r.stderr).toBe(0);
    const pod = parse(r.stdout) as V1Pod;
    const c = pod.spec!.containers[0]!;
    const path = c.image!.replace(/^nixery\.dev\//, '').split('/');
    expect(path[0]).toBe('shell');
    expect(path).toContain('curl');
    expect(path).toContain('netcat');
    expect(path.slice(1)).toEqual([...path.slice(1)].sort());
    expect(c.command!.at(-1)).toBe('bash');
  });

  it('stdout holds only the manifest; notes go to stderr', async () => {
    const r = await runMain(['--dry-run', 'htop'], { env: offline });
    expect(r.code, r.stderr).toBe(0);
    expect(() => parse(r.stdout)).not.toThrow();
    expect((parse(r.stdout) as V1Pod).kind).toBe('Pod');
  });

  it('--arch arm64 puts the arm64 meta-package in and pins the node arch', async () => {
    const r = await runMain(['--dry-run', '-o', 'json', '--arch', 'arm64', 'htop'], { env: offline });
    expect(r.code, r.stderr).toBe(0);
    const pod = JSON.parse(r.stdout) as V1Pod;
    expect(pod.spec!.containers[0]!.image).toMatch(/^nixery\.dev\/arm64\//);
    expect(pod.spec!.nodeSelector!['kubernetes.io/arch']).toBe('arm64');
  });

  it('--arch arm64 warns about packages nixpkgs does not build for aarch64-linux (not for amd64)', async () => {
    const arm = await runMain(['--dry-run', '--arch', 'arm64', '--pkgs', 'cpuid,i7z,htop', 'shell'], { env: offline });
    expect(arm.code, arm.stderr).toBe(0);
    expect(arm.stderr).toMatch(/warning: cpuid, i7z are not built for aarch64-linux in nixpkgs \(per the package table\): Nixery will likely fail to build this arm64 image; use --arch amd64/);
    expect(arm.stderr).not.toMatch(/htop.*not built/);
    const amd = await runMain(['--dry-run', '--arch', 'amd64', '--pkgs', 'cpuid', 'shell'], { env: offline });
    expect(amd.stderr).not.toMatch(/not built/);
    const fine = await runMain(['--dry-run', '--arch', 'arm64', 'psql'], { env: offline });
    expect(fine.stderr).not.toMatch(/not built/);
  });

  it('NIXRUN_REGISTRY changes the registry, --registry wins over it', async () => {
    const a = await runMain(['--dry-run', '-o', 'json', 'htop'], { env: { ...offline, NIXRUN_REGISTRY: 'nixery.example.com' } });
    expect(JSON.parse(a.stdout).spec.containers[0].image).toMatch(/^nixery\.example\.com\//);
    const b = await runMain(['--dry-run', '-o', 'json', '--registry', 'images.example.org:5000', 'htop'], { env: { ...offline, NIXRUN_REGISTRY: 'nixery.example.com' } });
    expect(JSON.parse(b.stdout).spec.containers[0].image).toMatch(/^images\.example\.org:5000\//);
  });
});

describe('bad input: one line, exit 2 (127 for unknown executables), nothing on stdout', () => {
  it.each([
    [['--dry-run', '--', ''], 2],
    [['--dry-run', '-e', 'NOEQUALS', 'htop'], 2],
    [['--dry-run', '--profile', 'root', 'htop'], 2],
    [['--dry-run', '--overrides', '{not json', 'htop'], 2],
    [['--dry-run', '--pod-running-timeout', 'soon', 'htop'], 2],
    [['--dry-run', '-l', 'bad key=x', 'htop'], 2],
    [['-o', 'yaml', 'htop'], 2],
    [['--dry-run', '--no-such-flag', 'htop'], 2],
    [['--dry-run', '$(reboot)'], 2],
    [['--dry-run', ';rm -rf /'], 2],
    [['--dry-run', '../x'], 2],
    [['--dry-run', '-p', 'haskellPackages.QuickCheck', 'shell'], 2],
    [['--dry-run', '-p', 'a b', 'shell'], 2],
    [['--dry-run', 'x'.repeat(300)], 2],
    [['--dry-run', '--tty', '--stdin=false', 'htop'], 2],
    [['--dry-run', 'psql', 'extra-arg'], 2],
    [['--dry-run', 'definitely-not-a-command-xyz'], 127],
  ])('%j → exit %i', async (args, code) => {
    const r = await runMain(args, { env: offline });
    expect(r.code, r.stderr).toBe(code);
    expect(r.kubeCalls).toEqual([]);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^error: /);
    expect(lines.length).toBeLessThanOrEqual(2);
  });
});

describe('Complete → Validate → Run: every flag is checked before anything is asked', () => {
  it.each([
    [['pick', '--env', 'BAD']],
    [['--env', 'BAD']], // nothing named on a terminal: the picker would start
    [['pick', '--overrides', '{"spec":{"restartPolicy":"Always"}}', '--dry-run']],
    [['-p', 'a b', 'nc']], // nc has several providers: the provider question would come first
  ])('%j on a terminal: the usage error, and no prompt drawn', async (args) => {
    const r = await runMain(args, { env: offline, terminal: true });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: [^\n]+\n(hint: [^\n]+\n)?$/);
  });

  it('the picker needs a terminal', async () => {
    const r = await runMain(['pick', '--dry-run'], { env: offline });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: the picker needs a terminal/);
  });
});

describe('pick', () => {
  it('`pick` is not a stray argument of its own command; strays after it are', async () => {
    const r = await runMain(['pick', '--dry-run', 'extra'], { env: offline, terminal: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown argument: extra/);
  });
});
