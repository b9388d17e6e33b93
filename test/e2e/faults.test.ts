import { describe, expect, it } from 'vitest';
import { runCli, spawnCli as spawnSession } from '../support/cli.js';
import { createTestNamespace, e2eEnv, expectNoPodsLeft, kubeconfigPath, listPods, registryFaults, restartApiserver, testenv, waitFor } from '../support/cluster.js';

const env = e2eEnv();
const base = () => ['--kubeconfig', kubeconfigPath(), '--no-sweep'];

const spawnCli = (args: string[], input?: string, extraEnv: NodeJS.ProcessEnv = {}) => spawnSession(args, { env: { ...env, ...extraEnv }, ...(input === undefined ? {} : { input }) });

describe('API and registry faults: a clear message, the right exit code, no orphan', () => {
  it('a server certificate the kubeconfig does not trust: one clear error, no retries, no pod', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'other-ca-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'c'), '-days', '1', '-subj', '/CN=another-ca'], { stdio: 'ignore' });
    const other = readFileSync(join(dir, 'c')).toString('base64');
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, readFileSync(kubeconfigPath(), 'utf8').replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${other}`));
    const ns = await createTestNamespace('fault-tls');
    const t0 = Date.now();
    const r = await runCli(['--kubeconfig', kubeconfig, '--no-sweep', '-n', ns, '--no-preflight', '--', 'true'], { env });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^error: the API server at https:\/\/[\d.]+:\d+ presented a certificate this kubeconfig does not trust \(UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate\)\nhint: check the cluster's certificate-authority/m);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await listPods(ns)).toEqual([]);
  });

  it('the API server restarts while the pod is Pending: the run carries on', async () => {
    const ns = await createTestNamespace('fault-pending');
    const reset = await registryFaults({ delayMs: 4000, delayOnly: ['jq'] });
    const run = spawnCli([...base(), '-n', ns, '--no-preflight', '--pkgs', 'jq', '--', 'echo', 'survived'], '');
    try {
      await waitFor(async () => (await listPods(ns)).length > 0, 20_000, 'the pod');
      await restartApiserver(1500);
    } finally {
      await reset();
    }
    expect((await run.exited).code, run.err()).toBe(0);
    expect(run.out()).toBe('survived\n');
    await expectNoPodsLeft(ns);
  });

  it('the API server crashes while attached: output continues from the logs, exit code kept', async () => {
    const ns = await createTestNamespace('fault-attach');
    const run = spawnCli([...base(), '-v', '-n', ns, '--no-preflight', '--', 'sh', '-c', 'echo before; sleep 6; echo after; exit 5'], '');
    await waitFor(async () => /before/.test(run.out()), 20_000, 'first output');
    await restartApiserver(500, { crash: true });
    expect((await run.exited).code, run.err()).toBe(5);
    expect(run.out(), run.err()).toBe('before\nafter\n');
    expect(run.err()).toMatch(/dropped/);
    await expectNoPodsLeft(ns);
  });

  it('heartbeat: pongs while attached; a server that stops answering is dropped, and the logs take over', async () => {
    const ns = await createTestNamespace('fault-heartbeat');
    const run = spawnCli([...base(), '-v', '-n', ns, '--no-preflight', '--', 'sh', '-c', 'echo before; sleep 4; echo after; exit 6'], '', { NIXRUN_PING_INTERVAL: '200ms' });
    await waitFor(async () => /before/.test(run.out()), 20_000, 'first output');
    await new Promise((r) => setTimeout(r, 600)); // a few pongs first
    // Freeze the API server: the TCP connection stays open but nothing answers, as behind a
    // load balancer that silently dropped the stream. Without the heartbeat the attach would hang.
    const pid = (testenv() as unknown as { procs: Record<string, { pid: number }> }).procs['kube-apiserver']!.pid;
    process.kill(pid, 'SIGSTOP');
    try {
      await waitFor(async () => /attach ended: code 1006/.test(run.err()), 5000, 'the heartbeat to give up');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect((await run.exited).code, run.err()).toBe(6);
    expect(run.out(), run.err()).toBe('before\nafter\n');
    expect(run.err()).toMatch(/attach ended: code 1006, status none, [1-9]\d* heartbeat pongs/);
    await expectNoPodsLeft(ns);
  });

  it('the API server is down when the pod must be deleted: retried until it is back', async () => {
    const ns = await createTestNamespace('fault-delete');
    const run = spawnCli([...base(), '-n', ns, '--no-preflight', '--pkgs', 'coreutils', '--', 'sleep', '300'], '');
    await waitFor(async () => (await listPods(ns)).find((p) => p.status?.phase === 'Running'), 20_000, 'Running');
    await new Promise((r) => setTimeout(r, 300));
    const restarting = restartApiserver(3000, { crash: true }); // kills it now, starts it again in 3 s
    run.child.kill('SIGTERM');
    expect((await run.exited).code, run.err()).toBe(143);
    await restarting;
    expect(run.err()).toMatch(/cannot reach the API server to delete pod .*; retrying/);
    expect(run.err()).toMatch(/pod nixrun-sleep-\w+ deleted/);
    // The API server accepted the delete; the object goes once the kubelet, whose own watch is
    // reconnecting after the crash (with client-go's back-off), has stopped the container.
    await expectNoPodsLeft(ns, 45_000);
  });

  describe('registries', () => {
    const registry = () => testenv().registry.host;

    it('a slow build is waited for and reported', async () => {
      const ns = await createTestNamespace('fault-slow');
      const reset = await registryFaults({ delayMs: 2000, delayOnly: ['gnugrep'] });
      try {
        const r = await runCli([...base(), '-n', ns, '--registry', registry(), '--pkgs', 'gnugrep', '--', 'echo', 'built'], { env });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe('built\n');
        expect(r.stderr).toMatch(/image ready in 2s/);
      } finally {
        await reset();
      }
      await expectNoPodsLeft(ns);
    });

    it('a registry answering garbage: a warning, the tag reference, and the node’s pull fails the same way', async () => {
      const ns = await createTestNamespace('fault-garbage');
      const reset = await registryFaults({ garbage: true });
      try {
        const r = await runCli([...base(), '-n', ns, '--registry', registry(), '--pkgs', 'coreutils', '--', 'echo', 'ran'], { env });
        expect(r.stderr).toMatch(/warning: .*not with an image manifest.*creating the pod with/);
        expect(r.code, r.stderr).toBe(126);
        expect(r.stderr).toMatch(/cannot start: (ErrImagePull|ImagePullBackOff)/);
      } finally {
        await reset();
      }
      await expectNoPodsLeft(ns);
    });

    it('credentials are never printed, even with -v', async () => {
      const ns = await createTestNamespace('fault-verbose');
      const { readFileSync } = await import('node:fs');
      // The client-certificate kubeconfig (its key must not show) and a bearer-token one.
      const certConfig = readFileSync(kubeconfigPath(), 'utf8');
      const key = /client-key-data: (\S+)/.exec(certConfig)![1]!;
      const keyPem = Buffer.from(key, 'base64').toString('utf8');
      const keyBody = keyPem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
      const tokenConfig = testenv().tokenKubeconfig;
      const token = /token: (\S+)/.exec(readFileSync(tokenConfig, 'utf8'))![1]!;
      for (const [kubeconfig, secrets] of [
        [kubeconfigPath(), [key, keyBody.slice(0, 40)]],
        [tokenConfig, [token]],
      ] as const) {
        const r = await runCli(['--kubeconfig', kubeconfig, '--no-sweep', '-v', '-n', ns, '--registry', registry(), '--pkgs', 'coreutils', '--', 'echo', 'x'], { env });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/\[nixrun\] POST \/api\/v1\/namespaces\//);
        for (const secret of secrets) expect(r.stderr + r.stdout).not.toContain(secret);
      }
    });
  });
});
