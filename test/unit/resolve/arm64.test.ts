import { describe, expect, it } from 'vitest';
import { imageFor } from '../../../src/image/index.js';
import { planForArch } from '../../../src/plan/arch.js';
import { resolvePlan, validateFlags, type RunFlags } from '../../../src/plan/index.js';
import { podFor } from '../../../src/pod/index.js';
import { loadTable, preferBuiltFor, resolveExecutable } from '../../../src/resolve/index.js';

// elogtool (coreboot's event log tool): the default provider, coreboot-utils, is not built for
// aarch64-linux in nixpkgs; cbfstool (from the same coreboot tree) is. On arm64 the pick changes.
const table = loadTable();
const raw = (over: Partial<RunFlags> = {}): RunFlags => ({
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
});
const planRun = (flags: RunFlags) => resolvePlan(validateFlags(flags, { stdinIsTTY: false, stdoutIsTTY: false }), { table });
const owner = { host: 'h', pid: 1, user: 'u', startedAt: '2026-01-01T00:00:00Z', session: 's' };

describe('arm64 prefers a provider nixpkgs builds for aarch64-linux', () => {
  it('the ranking: elogtool → coreboot-utils on x86_64, cbfstool on arm64, with the reason', () => {
    const x86 = resolveExecutable(table, 'elogtool');
    expect(x86.attr).toBe('coreboot-utils');
    expect(x86.candidates[0]!.notBuiltFor).toContain('aarch64-linux');
    const arm = resolveExecutable(table, 'elogtool', { system: 'aarch64-linux' });
    expect(arm.attr).toBe('cbfstool');
    expect(arm.candidates[0]!.notBuiltFor ?? []).not.toContain('aarch64-linux');
    expect(arm.candidates.find((c) => c.attr === 'coreboot-utils')!.reasons.join()).toMatch(/not built for aarch64-linux/);
    // The everyday picks are built for both: arm64 changes nothing there.
    for (const exe of ['psql', 'curl', 'nsenter', 'dig', 'kubectl']) expect(resolveExecutable(table, exe, { system: 'aarch64-linux' }).attr).toBe(resolveExecutable(table, exe).attr);
  });

  it('--arch arm64: the plan resolves for aarch64-linux, and nothing is left to warn about', () => {
    const p = planRun(raw({ arch: 'arm64', executable: 'elogtool' }));
    expect(p.packages).toEqual(['cbfstool']);
    expect(p.notOnArm64).toEqual([]);
    expect(imageFor(p, 'arm64').warnings.join()).not.toMatch(/not built for aarch64-linux/);
  });

  it('--arch auto on an arm64 cluster: the image and the pod take the aarch64-linux provider', () => {
    const p = planRun(raw({ executable: 'elogtool' }));
    expect(p.packages).toEqual(['coreboot-utils']);
    const armPick = 'cbfstool';
    expect(planForArch(p, 'arm64').packages).toEqual([armPick]);
    expect(imageFor(p, 'arm64').packages).toContain(armPick);
    expect(imageFor(p, 'arm64').packages).not.toContain('coreboot-utils');
    expect(imageFor(p, 'amd64').packages).toContain('coreboot-utils');
    expect(JSON.stringify(podFor(p, { image: 'x', arch: 'arm64', owner }))).not.toMatch(/coreboot-utils/);
    // A package named by attribute is the user's choice: kept, and warned about.
    const named = planRun(raw({ pkgs: ['coreboot-utils'], executable: 'shell' }));
    expect(preferBuiltFor(named.resolutions[0]!, 'aarch64-linux').attr).toBe('coreboot-utils');
    expect(imageFor(named, 'arm64').warnings.join()).toMatch(/coreboot-utils is not built for aarch64-linux/);
  });
});
