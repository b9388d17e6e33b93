import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../support/cli.js';
import { createTestNamespace, expectNoPodsLeft, kubeconfigPath, testenv } from '../support/cluster.js';
import { Tmux } from '../support/tmux.js';

// Each test has its own state directory (remembered choices, recent packages).
const freshEnv = () => ({ XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'nixrun-state-')), NIXRUN_REGISTRY: '', NO_COLOR: '1' });
const node = process.execPath;

describe('the interactive package picker, driven in a real terminal', () => {
  it('type psq → postgresql on top; pick it and curl; default command; the dry-run reference', async () => {
    const t = new Tmux([node, CLI, '--dry-run', '-o', 'yaml'], { env: freshEnv(), height: 40 });
    try {
      await t.waitForScreen(/Package \(type a command or package name\)/);
      t.type('psq');
      const s = await t.waitForScreen(/❯ postgresql — /);
      expect(s).toMatch(/❯ postgresql — .*psql/);
      t.send('Enter');
      await t.waitForScreen(/Add another package/);
      t.type('curl');
      await t.waitForScreen(/❯ curl/);
      t.send('Enter');
      await t.waitForScreen(/❯ ✔ done \(2 selected\)/);
      t.send('Enter');
      await t.waitForScreen(/Command to run/);
      t.send('Enter');
      // The reference goes to stderr first, then the manifest to stdout: wait for both.
      const out = await t.waitForScreen(/kind: Pod/);
      expect(out).toMatch(/^image: nixery\.dev\/shell\/curl\/fakenss\/postgresql\/tini$/m); // the message
      expect(out).toMatch(/^ +image: nixery\.dev\/shell\/curl\/fakenss\/postgresql\/tini$/m); // the manifest
      expect(await t.exitCode()).toBe(0);
    } finally {
      t.kill();
    }
  });

  it('Ctrl-C at the prompt exits 130 with nothing on stdout', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'nixrun-out-')), 'stdout');
    const t = new Tmux([node, CLI, '--dry-run', '-o', 'json'], { env: freshEnv(), stdoutFile: out });
    try {
      await t.waitForScreen(/Package \(type a command/);
      t.type('cur');
      await t.waitForScreen(/curl/);
      t.send('C-c');
      expect(await t.exitCode()).toBe(130);
      expect(readFileSync(out, 'utf8')).toBe('');
    } finally {
      t.kill();
    }
  });

  it('Esc at the prompt exits 130 too', async () => {
    const t = new Tmux([node, CLI, 'pick', '--dry-run'], { env: freshEnv() });
    try {
      await t.waitForScreen(/Package \(type a command/);
      t.send('Escape');
      expect(await t.exitCode()).toBe(130);
    } finally {
      t.kill();
    }
  });

  it('several providers on a terminal: one question, the ranked default preselected, the answer remembered', async () => {
    // `amber`: two unrelated projects (the Amber language, and amber the secrets manager) ship it,
    // and nothing tells which one is meant.
    const env = freshEnv();
    const t = new Tmux([node, CLI, '--dry-run', '-o', 'json', 'amber'], { env, height: 40 });
    try {
      const s = await t.waitForScreen(/Several packages provide amber; which one\?/);
      expect(s).toMatch(/❯ amber-lang/);
      t.send('Down');
      await t.waitForScreen(/❯ amber-secret/);
      t.send('Enter');
      await t.waitForScreen(/"image": "nixery\.dev\/amber-secret/);
      expect(await t.exitCode()).toBe(0);
    } finally {
      t.kill();
    }
    // Without a terminal the tie is an error… unless the choice was remembered.
    const r = await runCli(['--dry-run', '-o', 'json', 'amber'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).spec.containers[0].image).toMatch(/^nixery\.dev\/amber-secret\//);
    const fresh = await runCli(['--dry-run', 'amber'], { env: freshEnv(), timeoutMs: 10_000 });
    expect(fresh.code).toBe(2);
    expect(fresh.stderr).toMatch(/"amber" is provided equally by amber-lang, amber-secret: choose one/);
    expect(fresh.stderr).toMatch(/hint: kubectl nixrun --pkgs amber-lang -- amber/);
    const forget = await runCli(['which', '--forget', 'amber'], { env });
    expect(forget.code).toBe(0);
    expect((await runCli(['--dry-run', 'amber'], { env })).code).toBe(2);
  });

  it('through to a shell on the local cluster: pick curl, get bash, `exit 4` → exit 4, no pod left', async () => {
    const ns = await createTestNamespace('picker');
    const t = new Tmux([node, CLI, '--kubeconfig', kubeconfigPath(), '-n', ns, '--no-preflight', '--no-sweep'], { env: { ...freshEnv(), NIXRUN_REGISTRY: testenv().registry.host } });
    try {
      await t.waitForScreen(/Package \(type a command/);
      t.type('curl');
      await t.waitForScreen(/❯ curl/);
      t.send('Enter');
      await t.waitForScreen(/❯ ✔ done/);
      t.send('Enter');
      await t.waitForScreen(/Command to run/);
      t.send('Enter');
      await t.waitForScreen(/[#$]\s*$/m);
      t.line('echo picked-$((2*21))');
      await t.waitForScreen(/^picked-42$/m);
      t.line('exit 4');
      expect(await t.exitCode()).toBe(4);
    } finally {
      t.kill();
    }
    await expectNoPodsLeft(ns);
  });
});
