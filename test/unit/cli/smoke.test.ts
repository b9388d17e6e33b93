import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { completionCandidates, ROOT, runCli } from '../../support/cli.js';

// The in-process tests cover the commands; these few run the built binary, as kubectl does.
const candidates = completionCandidates;

describe('the built binary (smoke)', () => {
  // `npm test` builds first; `vitest run --project unit` on a fresh clone builds here (esbuild, seconds).
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'kubectl-nixrun.js'))) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  }, 120_000);

  it('--help goes to stdout with exit 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Examples:$/m);
  });

  it('--dry-run prints the pod, and bad input is one line with exit 2', async () => {
    const offline = { HOME: mkdtempSync(join(tmpdir(), 'nixrun-home-')), KUBECONFIG: '/nonexistent', NIXRUN_REGISTRY: '' };
    const ok = await runCli(['--dry-run', '-o', 'json', 'psql'], { env: offline });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).spec.restartPolicy).toBe('Never');
    const bad = await runCli(['--dry-run', '-e', 'NOEQUALS', 'htop'], { env: offline });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: invalid --env "NOEQUALS"/);
  });

  it('__complete answers the cobra protocol', async () => {
    expect(candidates((await runCli(['__complete', '--pkgs', 'psq'])).stdout).values).toContain('postgresql');
  });

  it('completion install writes the kubectl helper next to kubectl-nixrun on PATH, never over a foreign file', async () => {
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

  // The fast bundle (dist/fast.js, a script bin/ compiles with node:vm, so no module) answers the
  // commands run most, and hands the rest to the full build, which starts the command over.
  it('the fast commands load no module of dist/; the others reach the full build', () => {
    const offline = { HOME: mkdtempSync(join(tmpdir(), 'nixrun-home-')), KUBECONFIG: '/nonexistent', NIXRUN_REGISTRY: '', NO_COLOR: '1' };
    const traced = (args: string[]) => {
      const r = spawnSync(process.execPath, ['--import', join(ROOT, 'bench', 'trace-loads.mjs'), join(ROOT, 'bin', 'kubectl-nixrun.js'), ...args], { env: { ...process.env, ...offline }, encoding: 'utf8' });
      const loaded = (r.stderr.split('\n').find((l) => l.startsWith('[loaded]')) ?? '').split(' ').slice(1).filter(Boolean);
      return { code: r.status, stdout: r.stdout, stderr: r.stderr.replace(/^\[loaded\].*\n/m, ''), loaded };
    };
    for (const args of [['--help'], ['--version'], ['which', 'psql'], ['--dry-run', '-o', 'yaml', 'psql'], ['--dry-run', '--node-shell', 'n1']]) {
      const r = traced(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.loaded, args.join(' ')).toEqual([]);
    }
    // Unknown executable: the same error and exit code from the fast bundle.
    const unknown = traced(['which', 'nosuchexecutablexyz']);
    expect(unknown.code).toBe(127);
    expect(unknown.stderr).toMatch(/^error: no package in nixpkgs provides the executable "nosuchexecutablexyz"/);
    expect(unknown.loaded).toEqual([]);
    // Needs a cluster (--target reads the pod), yargs (another command), or is a real run: the
    // full build answers, and only its error is printed (nothing doubled from the fast bundle).
    for (const [args, message] of [
      [['--dry-run', '--target', 'pod/web', 'psql'], /^error: no kubeconfig file found in KUBECONFIG/],
      [['psql'], /^error: no kubeconfig file found in KUBECONFIG/],
      [['config', 'view'], /^registry: nixery.dev/m],
    ] as const) {
      const r = traced([...args]);
      expect(r.loaded, args.join(' ')).toContain('dist/kubectl-nixrun.js');
      expect(`${r.stdout}${r.stderr}`, args.join(' ')).toMatch(message);
      expect(r.stderr.match(/^error:/gm)?.length ?? 0, r.stderr).toBeLessThanOrEqual(1);
    }
  });

  it('a reader that is gone (`| head -1`) ends the output quietly, in both builds', () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'nixrun-pipe-')), 'p');
    execFileSync('mkfifo', [fifo]);
    for (const args of [['--help'], ['--dry-run', '-o', 'yaml', 'psql'], ['config', 'view']]) {
      // stdout: a pipe nobody reads any more, so the first write fails with EPIPE.
      const rfd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      const wfd = openSync(fifo, constants.O_WRONLY);
      closeSync(rfd);
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'kubectl-nixrun.js'), ...args], { stdio: ['ignore', wfd, 'pipe'], encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', KUBECONFIG: '/nonexistent' } });
      closeSync(wfd);
      expect(r.stderr, args.join(' ')).not.toMatch(/EPIPE|Error/);
      expect(r.status, args.join(' ')).toBe(0);
    }
  });

  // bin/ compiles dist/fast.js with a V8 code cache it makes after the first success of each kind
  // of command; a cache V8 refuses (another Node, damage) is made again, never trusted.
  it('the fast bundle\'s code cache: made after a success, reused, remade when refused, off on request', () => {
    const cacheHome = mkdtempSync(join(tmpdir(), 'nixrun-cache-'));
    const dirV8 = join(cacheHome, 'kubectl-nixrun', 'v8');
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync(process.execPath, [join(ROOT, 'bin', 'kubectl-nixrun.js'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: cacheHome, KUBECONFIG: '/nonexistent', ...env } });
    const files = () => (existsSync(dirV8) ? readdirSync(dirV8).sort() : []);

    expect(run(['--dry-run', '-e', 'BAD', 'psql']).status).toBe(2);
    expect(files(), 'nothing after a refused command').toEqual([]);
    expect(run(['which', 'psql'], { NODE_DISABLE_COMPILE_CACHE: '1' }).stdout).toBe('postgresql\n');
    expect(files(), 'nothing when turned off').toEqual([]);

    const first = run(['which', 'psql']);
    expect(first.stdout).toBe('postgresql\n');
    expect(files()).toEqual([expect.stringMatching(/^fast-[0-9a-f]{16}-v[\d.]+-\w+-which\.bin$/)]);
    const file = join(dirV8, files()[0]!);
    const made = readFileSync(file);
    expect(made.length).toBeGreaterThan(10_000);
    expect(run(['which', 'psql']).stdout).toBe('postgresql\n');
    expect(readFileSync(file).equals(made), 'reused as it is').toBe(true);

    // Damaged (same length, other bytes): V8 refuses it, the answer is the same, the file is remade.
    const damaged = Buffer.alloc(made.length, 7);
    writeFileSync(file, damaged);
    expect(run(['which', 'psql']).stdout).toBe('postgresql\n');
    const remade = readFileSync(file);
    expect(remade.equals(damaged)).toBe(false);
    expect(remade.length).toBeGreaterThan(10_000);
    expect(run(['which', 'psql']).stdout).toBe('postgresql\n');
    expect(readFileSync(file).equals(remade), 'and reused').toBe(true);

    const dry = run(['--dry-run', '-o', 'json', 'psql']);
    expect(JSON.parse(dry.stdout).spec.restartPolicy).toBe('Never');
    expect(files().map((f) => f.replace(/^.*-/, ''))).toEqual(['json.bin', 'which.bin']);
  });
});
