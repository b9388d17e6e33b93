import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../../src/errors.js';
import { imageFor } from '../../../src/image/index.js';
import { resolvePlan, splitCommaList, validateFlags, type RunFlags } from '../../../src/plan/index.js';
import { GATE_ARGV, podFor } from '../../../src/pod/index.js';
import { loadTable } from '../../../src/resolve/index.js';

const table = loadTable();
const owner = { host: 'h', pid: 1, user: 'u', startedAt: '2026-01-01T00:00:00Z', session: 's' };

function raw(over: Partial<RunFlags> = {}): RunFlags {
  return {
    arch: 'auto',
    registry: 'nixery.dev',
    configPackages: [],
    profile: 'restricted',
    podRunningTimeout: '5m',
    deadline: '4h',
    init: true,
    preflight: true,
    sweep: true,
    keep: false,
    dryRun: true,
    quiet: false,
    ...over,
  };
}
const ctx = (tty = false) => ({ stdinIsTTY: tty, stdoutIsTTY: tty });
/** Validate, then resolve: what runCommand does around its prompts. */
const planRun = (flags: RunFlags, terminal: { stdinIsTTY: boolean; stdoutIsTTY: boolean }) => resolvePlan(validateFlags(flags, terminal), { table });

describe('validateFlags + resolvePlan: what to run', () => {
  it('psql -- psql -h my-db: resolves the executable, runs the command after --', () => {
    const p = planRun(raw({ executable: 'psql', '--': ['psql', '-h', 'my-db'] }), ctx());
    expect(p.packages).toEqual(['postgresql']);
    expect(p.command).toEqual(['psql', '-h', 'my-db']);
    expect(p.exe).toBe('psql');
    expect(p.shell).toBe(false);
    expect(p.addedPackages).toEqual(expect.arrayContaining(['fakenss', 'tini', 'bash']));
  });

  it('htop with no -- runs the executable itself', () => {
    const p = planRun(raw({ executable: 'htop' }), ctx());
    expect(p.command).toEqual(['htop']);
  });

  it('--pkgs curl,netcat shell: shell meta-package, bash, no extra bash package', () => {
    const p = planRun(raw({ executable: 'shell', pkgs: ['curl,netcat'] }), ctx(true));
    expect(p.shell).toBe(true);
    expect(p.command).toEqual(['bash']);
    expect(p.packages).toEqual(['curl', 'netcat']);
    expect(p.addedPackages).not.toContain('bash');
    expect(imageFor(p, 'amd64').path.split('/')[0]).toBe('shell');
  });

  it('--pkgs jq -- echo hi: the command’s executable comes too when no listed package provides it', () => {
    expect(planRun(raw({ pkgs: ['jq'], '--': ['echo', 'hi'] }), ctx()).packages).toEqual(['jq', 'coreutils']);
    // jq provides jq; netcat provides nc: nothing else is added.
    expect(planRun(raw({ pkgs: ['jq'], '--': ['jq', '.'] }), ctx()).packages).toEqual(['jq']);
    expect(planRun(raw({ pkgs: ['netcat'], '--': ['nc', '-zv', 'db', '5432'] }), ctx()).packages).toEqual(['netcat']);
    // A name the table does not know (a script in the image) is left to the packages.
    expect(planRun(raw({ pkgs: ['jq'], '--': ['./check.sh'] }), ctx()).packages).toEqual(['jq']);
  });

  it('-- psql … without a positional takes the executable from the command', () => {
    const p = planRun(raw({ '--': ['psql', '-h', 'db'] }), ctx());
    expect(p.packages).toEqual(['postgresql']);
    expect(p.exe).toBe('psql');
  });

  it('--pkgs alone gives an interactive shell with those packages', () => {
    const p = planRun(raw({ pkgs: ['curl', 'jq'] }), ctx(true));
    expect(p.shell).toBe(true);
    expect(p.packages).toEqual(['curl', 'jq']);
  });

  it('a command starting with sh or bash brings in the shell meta-package', () => {
    const p = planRun(raw({ pkgs: ['curl'], '--': ['sh', '-c', 'curl -s x | wc -l'] }), ctx());
    expect(p.shell).toBe(true);
    expect(p.command).toEqual(['sh', '-c', 'curl -s x | wc -l']);
  });

  it('nothing to run is a usage error with a hint', () => {
    expect(() => planRun(raw(), ctx())).toThrow(/nothing to run/);
  });

  it('unknown executables exit 127 with a --pkgs hint', () => {
    try {
      planRun(raw({ executable: 'no-such-tool-qq' }), ctx());
      expect.unreachable();
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(ExitCode.notFound);
      expect((e as { hint: string }).hint).toMatch(/--pkgs/);
    }
  });
});

describe('validateFlags + resolvePlan: terminal and stdin', () => {
  it('a TTY only when stdin and stdout are terminals', () => {
    expect(planRun(raw({ executable: 'htop' }), ctx(true)).tty).toBe(true);
    expect(planRun(raw({ executable: 'htop' }), { ...ctx(false), stdinIsTTY: true }).tty).toBe(false);
    expect(planRun(raw({ executable: 'htop' }), ctx(false)).tty).toBe(false);
  });

  it('-t without a terminal warns and runs without a TTY, like kubectl', () => {
    const p = planRun(raw({ executable: 'htop', tty: true }), ctx(false));
    expect(p.tty).toBe(false);
    expect(p.warnings.join()).toMatch(/unable to use a TTY/);
  });

  it('a TTY needs stdin', () => {
    expect(() => planRun(raw({ executable: 'htop', tty: true, stdin: false }), ctx(true))).toThrow(UsageError);
  });

  it('--stdin=false drops the start gate and its bash', () => {
    const p = planRun(raw({ executable: 'htop', stdin: false }), ctx());
    expect(p.addedPackages).not.toContain('bash');
    const pod = podFor(p, { image: 'x', arch: 'amd64', owner });
    expect(pod.spec!.containers[0]!.command).toEqual(['tini', '-g', '--', 'htop']);
  });
});

describe('validateFlags + resolvePlan: profiles, init and flags', () => {
  it('the command runs under tini and the gate, in that order', () => {
    const p = planRun(raw({ executable: 'psql', '--': ['psql', '-c', 'select 1; drop table x'] }), ctx());
    const pod = podFor(p, { image: 'x', arch: 'amd64', owner });
    expect(pod.spec!.containers[0]!.command).toEqual(['tini', '-g', '--', ...GATE_ARGV, 'psql', '-c', 'select 1; drop table x']);
  });

  it('--no-init runs the command without tini', () => {
    const p = planRun(raw({ executable: 'htop', init: false, stdin: false }), ctx());
    expect(p.addedPackages).not.toContain('tini');
    expect(podFor(p, { image: 'x', arch: 'amd64', owner }).spec!.containers[0]!.command).toEqual(['htop']);
  });

  it('only the restricted profile adds fakenss', () => {
    expect(planRun(raw({ executable: 'htop' }), ctx()).addedPackages).toContain('fakenss');
    expect(planRun(raw({ executable: 'htop', profile: 'netadmin' }), ctx()).addedPackages).not.toContain('fakenss');
  });

  it('tcpdump under restricted warns and suggests --profile netadmin', () => {
    expect(planRun(raw({ executable: 'tcpdump' }), ctx()).warnings.join()).toMatch(/--profile netadmin/);
    expect(planRun(raw({ executable: 'tcpdump', profile: 'netadmin' }), ctx()).warnings).toEqual([]);
  });

  it('--keep marks the pod so gc leaves it', () => {
    const p = planRun(raw({ executable: 'htop', keep: true }), ctx());
    expect(podFor(p, { image: 'x', arch: 'amd64', owner }).metadata!.annotations!['nixrun.dev/keep']).toBe('true');
  });

  it('--pkgs arm64 with --arch amd64 conflicts; alone it selects arm64', () => {
    expect(() => planRun(raw({ executable: 'htop', arch: 'amd64', pkgs: ['arm64'] }), ctx())).toThrow(/conflicts/);
    expect(planRun(raw({ executable: 'htop', pkgs: ['arm64'] }), ctx()).arch).toBe('arm64');
  });

  it.each([
    [{ output: 'yaml' as const, dryRun: false }, /needs --dry-run/],
    [{ profile: 'root' }, /unknown profile/],
    [{ env: ['1X=2'] }, /--env/],
    [{ namespace: 'Team_A' }, /--namespace/],
    [{ podRunningTimeout: '0s' }, /longer than 0s/],
    [{ registry: 'https://nixery.dev' }, /host, not a URL/],
    [{ _: ['extra'] }, /unexpected argument "extra"/],
  ])('rejects %j before any I/O', (over, msg) => {
    expect(() => planRun(raw({ executable: 'htop', ...over }), ctx())).toThrow(msg);
  });

  it('validation needs no table: bad flags fail before any lookup or prompt', () => {
    expect(() => validateFlags(raw({ executable: 'no-such-tool-qq', env: ['BAD'] }), ctx())).toThrow(/--env/);
    expect(() => validateFlags(raw({ pkgs: ['a b'] }), ctx())).toThrow(/invalid package name/);
    expect(() => validateFlags(raw({ tag: '-x', executable: 'htop' }), ctx())).toThrow(/invalid --tag/);
    expect(validateFlags(raw(), ctx()).requested).toEqual([]); // nothing named: the picker may still add it
  });

  it.each([
    ['{"spec":{"restartPolicy":"Always"}}', /spec\.restartPolicy/],
    ['{"metadata":{"name":"other"}}', /metadata\.name/],
    ['{"spec":{"containers":[{"name":"nixrun","command":null}]}}', /the command of container "nixrun"/],
    ['{"spec":{"containers":[{"name":"nixrun","$patch":"delete"}]}}', /the container "nixrun"/],
  ])('--overrides %s that would break the session is refused before any I/O', (overrides, msg) => {
    expect(() => planRun(raw({ executable: 'htop', overrides }), ctx())).toThrow(msg);
  });
});

describe('splitCommaList', () => {
  it('splits repeated, comma-separated values and drops empties', () => {
    expect(splitCommaList(['a,b', 'c', 'd,,', ' e '])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(splitCommaList(undefined)).toEqual([]);
  });
});
