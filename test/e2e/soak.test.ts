import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, runCli } from '../support/cli.js';
import { createTestNamespace, e2eEnv, kubeconfigPath, listPods, registryFaults, waitFor } from '../support/cluster.js';

// NIXRUN_SOAK_N=200 for the full soak; CI runs a small N.
const N = Number(process.env.NIXRUN_SOAK_N ?? 12);
const PARALLEL = 3;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGKILL'] as const;

describe(`randomized interruption soak (N=${N})`, () => {
  it('every run interrupted at a random moment with a random signal leaves no pod (after gc for SIGKILL)', async () => {
    const ns = await createTestNamespace('soak');
    const phases: Record<string, number> = {};
    const signals: Record<string, number> = {};
    let seed = Number(process.env.NIXRUN_SOAK_SEED ?? Date.now() % 100000);
    const rand = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    console.log(`soak seed ${seed}`);

    // Every pull of this test's image waits 1.5 s for the "build", so Pending lasts long enough
    // to be hit.
    const reset = await registryFaults({ delayMs: 1500, delayOnly: ['nano'] });
    const TARGETS = ['before-create', 'pending', 'attached', 'exiting'] as const;
    const one = async () => {
      ensureBuilt();
      const target = TARGETS[Math.floor(rand() * TARGETS.length)]!;
      const child = spawn(
        process.execPath,
        [CLI, '--kubeconfig', kubeconfigPath(), '-n', ns, '--no-preflight', '--no-sweep', '--pkgs', 'nano', '--', 'sleep', '1'],
        { stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, ...e2eEnv() } },
      );
      child.stdin.end();
      const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
      const mine = async () => (await listPods(ns)).find((p) => p.metadata?.annotations?.['nixrun.dev/owner-pid'] === String(child.pid));
      // Reach the phase the dice chose, then wait a random moment within it.
      if (target === 'before-create') await new Promise((r) => setTimeout(r, rand() * 150));
      else {
        await waitFor(async () => child.exitCode !== null || ((p) => (target === 'pending' ? p !== undefined : p?.status?.phase === 'Running'))(await mine()), 30_000, target).catch(() => undefined);
        await new Promise((r) => setTimeout(r, target === 'exiting' ? 900 + rand() * 300 : rand() * 400));
      }
      const pod = await mine();
      const phase = child.exitCode !== null ? 'exited' : !pod ? 'before-create' : pod.status?.phase === 'Pending' ? 'pending' : pod.status?.phase === 'Running' ? (target === 'exiting' ? 'exiting' : 'attached') : 'exiting';
      const sig = SIGNALS[Math.floor(rand() * SIGNALS.length)]!;
      phases[phase] = (phases[phase] ?? 0) + 1;
      signals[sig] = (signals[sig] ?? 0) + 1;
      child.kill(sig);
      await exited;
    };
    try {
      for (let i = 0; i < N; i += PARALLEL) await Promise.all(Array.from({ length: Math.min(PARALLEL, N - i) }, one));
    } finally {
      await reset();
    }

    const gc = await runCli(['gc', '--kubeconfig', kubeconfigPath(), '-n', ns], { env: e2eEnv() });
    expect(gc.code, gc.stderr).toBe(0);
    const left = await waitFor(async () => {
      const pods = await listPods(ns);
      return pods.length === 0 ? pods : undefined;
    }, 20_000, 'no pods left').catch(async () => listPods(ns));
    console.log(`soak: N=${N}, phases hit ${JSON.stringify(phases)}, signals ${JSON.stringify(signals)}, orphans ${left.length}`);
    expect(left.map((p) => p.metadata?.name)).toEqual([]);
  }, Math.max(120_000, N * 4000)); // about 1.3 s a run with 3 in parallel; room for a slow machine
});

// Issue 17: the copy and node modes create pods too, and must leave none on any interruption.
const MODES_N = Number(process.env.NIXRUN_SOAK_MODES_N ?? 8);

describe(`randomized interruption soak of --copy and node/NAME (N=${MODES_N})`, () => {
  it('every copy or node run interrupted at a random moment leaves no pod (after gc for SIGKILL)', async () => {
    const ns = await createTestNamespace('soak-modes');
    const { core, testenv } = await import('../support/cluster.js');
    await core().createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'app', labels: { app: 'app' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: `${testenv().registry.host}/shell`, command: ['sleep', '3600'] }] } },
    });
    await waitFor(async () => (await core().readNamespacedPod({ name: 'app', namespace: ns })).status?.phase === 'Running', 30_000, 'the app pod');
    let seed = Number(process.env.NIXRUN_SOAK_SEED ?? Date.now() % 100000);
    const rand = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    console.log(`soak (modes) seed ${seed}`);
    const reset = await registryFaults({ delayMs: 1500, delayOnly: ['nano'] });
    const tally: Record<string, number> = {};
    const one = async () => {
      ensureBuilt();
      const mode = rand() < 0.5 ? 'copy' : 'node';
      const modeArgs = mode === 'copy' ? ['--copy', 'pod/app'] : [`node/${testenv().nodes.real}`];
      const child = spawn(process.execPath, [CLI, '--kubeconfig', kubeconfigPath(), '-n', ns, '--no-preflight', '--no-sweep', ...modeArgs, '--pkgs', 'nano', '--', 'sleep', '1'], {
        stdio: ['pipe', 'ignore', 'ignore'],
        env: { ...process.env, ...e2eEnv() },
      });
      child.stdin.end();
      const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
      const mine = async () => (await listPods(ns)).find((p) => p.metadata?.annotations?.['nixrun.dev/owner-pid'] === String(child.pid));
      const target = (['before-create', 'pending', 'attached'] as const)[Math.floor(rand() * 3)]!;
      if (target === 'before-create') await new Promise((r) => setTimeout(r, rand() * 300));
      else await waitFor(async () => child.exitCode !== null || ((p) => (target === 'pending' ? p !== undefined : p?.status?.phase === 'Running'))(await mine()), 30_000, target).catch(() => undefined);
      const sig = SIGNALS[Math.floor(rand() * SIGNALS.length)]!;
      const key = `${mode}/${child.exitCode !== null ? 'exited' : target}/${sig}`;
      tally[key] = (tally[key] ?? 0) + 1;
      child.kill(sig);
      await exited;
    };
    try {
      for (let i = 0; i < MODES_N; i += PARALLEL) await Promise.all(Array.from({ length: Math.min(PARALLEL, MODES_N - i) }, one));
    } finally {
      await reset();
    }
    const gc = await runCli(['gc', '--kubeconfig', kubeconfigPath(), '-n', ns], { env: e2eEnv() });
    expect(gc.code, gc.stderr).toBe(0);
    const left = await waitFor(async () => {
      const pods = await listPods(ns);
      return pods.length === 0 ? pods : undefined;
    }, 30_000, 'no pods left').catch(async () => listPods(ns));
    console.log(`soak (modes): N=${MODES_N}, ${JSON.stringify(tally)}, orphans ${left.length}`);
    expect(left.map((p) => p.metadata?.name)).toEqual([]);
  }, Math.max(120_000, MODES_N * 6000));
});
