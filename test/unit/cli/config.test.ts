import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, resolveSettings } from '../../../src/cli/config.js';
import { configPath } from '../../../src/cli/env.js';
import { emptyHome, runMain } from '../../support/main.js';

function file(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'nixrun-cfg-')), 'config.yaml');
  writeFileSync(p, text);
  return p;
}

describe('config file', () => {
  it('reads every key', async () => {
    const cfg = await loadConfigFile(
      file('registry: nixery.corp\nprofile: baseline\npodRunningTimeout: 10m\ndeadline: 1h\nextraPackages: [tini, fakenss]\nlabels: {team: sre}\naliases:\n  db: postgresql,pgcli\n  net: [curl, netcat]\n'),
    );
    expect(cfg).toEqual({
      registry: 'nixery.corp',
      profile: 'baseline',
      podRunningTimeout: '10m',
      deadline: '1h',
      extraPackages: ['tini', 'fakenss'],
      labels: { team: 'sre' },
      aliases: { db: ['postgresql', 'pgcli'], net: ['curl', 'netcat'] },
    });
  });

  it.each([
    ['registry: nixery.dev\nprofil: baseline\n', /:2: unknown key "profil"/],
    ['profile: root\n', /:1: "profile" must be one of restricted/],
    ['extraPackages: tini\n', /:1: "extraPackages" must be a list/],
    ['registry: [a\n', /invalid YAML/],
    ['- a\n- b\n', /must be a mapping/],
  ])('rejects %j naming the line', async (text, msg) => {
    await expect(loadConfigFile(file(text))).rejects.toThrow(msg);
  });

  it('a missing file is no config', async () => {
    expect(await loadConfigFile('/nonexistent/config.yaml')).toBeUndefined();
  });

  it('precedence: flag > env > file > default, with sources', () => {
    const f = { registry: 'file.example', profile: 'baseline', deadline: '2h' };
    const s = resolveSettings({ registry: 'flag.example' }, { NIXRUN_PROFILE: 'netadmin' }, f, 'x');
    expect(s.registry).toEqual({ value: 'flag.example', source: 'flag' });
    expect(s.profile).toEqual({ value: 'netadmin', source: 'env' });
    expect(s.deadline).toEqual({ value: '2h', source: 'file' });
    expect(s.podRunningTimeout).toEqual({ value: '5m', source: 'default' });
  });

  it('XDG_CONFIG_HOME and NIXRUN_CONFIG choose the path', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x' })).toBe('/x/kubectl-nixrun/config.yaml');
    expect(configPath({ NIXRUN_CONFIG: '/y/c.yaml', XDG_CONFIG_HOME: '/x' })).toBe('/y/c.yaml');
  });
});

describe('config through the CLI', () => {
  it('the file sets registry, profile, labels and extra packages; flags win; aliases expand', async () => {
    const cfg = file('registry: nixery.corp\nprofile: baseline\nextraPackages: [jq]\nlabels: {team: sre}\naliases:\n  db: postgresql,curl\n');
    const env = { ...emptyHome(), NIXRUN_CONFIG: cfg };
    const a = await runMain(['--dry-run', '-o', 'json', 'db'], { env });
    expect(a.code, a.stderr).toBe(0);
    const pod = JSON.parse(a.stdout);
    expect(pod.spec.containers[0].image).toMatch(/^nixery\.corp\/shell\//);
    expect(pod.spec.containers[0].image).toMatch(/curl.*jq.*postgresql/);
    expect(pod.metadata.labels.team).toBe('sre');
    expect(pod.spec.securityContext.runAsUser).toBeUndefined();
    const viaPkgs = await runMain(['--dry-run', '-o', 'json', '--pkgs', 'db,jq', 'shell'], { env });
    expect(viaPkgs.code, viaPkgs.stderr).toBe(0);
    expect(JSON.parse(viaPkgs.stdout).spec.containers[0].image).toMatch(/^nixery\.corp\/shell\/curl\/.*jq\/postgresql/);
    expect(JSON.parse(viaPkgs.stdout).spec.containers[0].image).not.toMatch(/\/db\//);
    const b = await runMain(['--dry-run', '-o', 'json', '--profile', 'restricted', '--registry', 'r.example', 'htop'], { env });
    const pod2 = JSON.parse(b.stdout);
    expect(pod2.spec.containers[0].image).toMatch(/^r\.example\//);
    expect(pod2.spec.securityContext.runAsUser).toBe(65534);
  });

  it('config view shows each value and its source', async () => {
    const cfg = file('profile: baseline\n');
    const r = await runMain(['config', 'view'], { env: { ...emptyHome(), NIXRUN_CONFIG: cfg, NIXRUN_REGISTRY: 'env.example' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/registry: env\.example {2}# env/);
    expect(r.stdout).toMatch(/profile: baseline {2}# file/);
    expect(r.stdout).toMatch(/deadline: 4h {2}# default/);
  });

  it('a bad config file is a one-line usage error', async () => {
    const r = await runMain(['--dry-run', 'htop'], { env: { ...emptyHome(), NIXRUN_CONFIG: file('regstry: x\n') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config\.yaml:1: unknown key "regstry"/);
  });
});
