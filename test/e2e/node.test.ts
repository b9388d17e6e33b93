import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CLI, runCli, spawnCli } from '../support/cli.js';
import { core, createTestNamespace, e2eEnv, expectNoPodsLeft, kubeconfigPath, listPods, testenv, waitFor } from '../support/cluster.js';
import { Tmux } from '../support/tmux.js';

// What only a real node can answer: the pods run in containers (runc) from the local Nixery's
// images, with the security profile really applied by the runtime.
const env = e2eEnv();
const base = (ns: string) => ['--kubeconfig', kubeconfigPath(), '--no-sweep', '-n', ns, '-q'];

describe('on the real node', () => {
  it('the default profile runs as nobody (fakenss names it), with no capabilities and a seccomp filter', async () => {
    const ns = await createTestNamespace('node-id', { restricted: true });
    const r = await runCli([...base(ns), '--pkgs', 'gnugrep', '--', 'sh', '-c', 'id -u; id -un; grep -E "^(CapEff|CapBnd|Seccomp|NoNewPrivs):" /proc/self/status'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^65534\nnobody\n/);
    expect(r.stdout).toMatch(/^CapEff:\s+0{16}$/m);
    expect(r.stdout).toMatch(/^CapBnd:\s+0{16}$/m);
    expect(r.stdout).toMatch(/^Seccomp:\s+2$/m);
    expect(r.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
    await expectNoPodsLeft(ns);
  });

  it('the root filesystem is the image’s: /tmp is writable, the store and /bin are not, no host files', async () => {
    const ns = await createTestNamespace('node-fs');
    const script = [
      'touch /tmp/x && echo tmp-writable',
      'touch /bin/x 2>/dev/null || echo bin-read-only',
      'touch /nix/store/x 2>/dev/null || echo store-read-only',
      'test -e /usr/bin/apt || test -e /lib/x86_64-linux-gnu || echo no-host-files',
      'test -e /etc/os-release || echo no-os-release',
      'readlink /bin/bash | grep -q ^/nix/store/ && echo bash-from-the-store',
    ].join('; ');
    const r = await runCli([...base(ns), '--pkgs', 'gnugrep', '--', 'sh', '-c', script], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['tmp-writable', 'bin-read-only', 'store-read-only', 'no-host-files', 'no-os-release', 'bash-from-the-store']);
    await expectNoPodsLeft(ns);
  });

  it('ping works as nobody without NET_RAW through net.ipv4.ping_group_range, and not without it', async () => {
    const ns = await createTestNamespace('node-ping', { restricted: true });
    const target = testenv().net.nodeIP;
    const ok = await runCli([...base(ns), 'ping', '--', 'ping', '-c1', '-W2', target], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/1 packets transmitted, 1 received/);
    // The control: the same pod without the sysctl (an override replaces the list).
    const no = await runCli([...base(ns), '--overrides', '{"spec":{"securityContext":{"sysctls":[]}}}', 'ping', '--', 'ping', '-c1', '-W2', target], { env });
    expect(no.code).not.toBe(0);
    await expectNoPodsLeft(ns);
  });

  it('iptables: refused under restricted with the advice shown first; works under netadmin', async () => {
    const restricted = await createTestNamespace('node-ipt-r', { restricted: true });
    const no = await runCli(['--kubeconfig', kubeconfigPath(), '--no-sweep', '-n', restricted, 'iptables', '--', 'iptables', '-L', '-n'], { env });
    expect(no.stderr).toMatch(/iptables needs root with NET_ADMIN\/NET_RAW, which --profile restricted does not give; use --profile netadmin/);
    expect(no.code).not.toBe(0);
    expect(no.stderr).toMatch(/Permission denied|you must be root/i);
    const ns = await createTestNamespace('node-ipt');
    const ok = await runCli([...base(ns), '--profile', 'netadmin', 'iptables', '--', 'iptables', '-L', '-n'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^Chain INPUT \(policy ACCEPT\)/m);
    await expectNoPodsLeft(restricted);
    await expectNoPodsLeft(ns);
  });

  it('piped stdin reaches the command and its EOF ends it', async () => {
    const ns = await createTestNamespace('node-wc');
    const r = await runCli([...base(ns), '--', 'wc', '-c'], { env, input: 'hello\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('6');
    await expectNoPodsLeft(ns);
  });

  it('Ctrl-C without a TTY: SIGINT reaches the command through tini (exit 130), the pod is gone', async () => {
    const ns = await createTestNamespace('node-int');
    const run = spawnCli([...base(ns), '--', 'sh', '-c', 'trap "echo got-INT; exit 42" INT; echo ready; while :; do sleep 0.1; done'], { env });
    await waitFor(async () => /ready/.test(run.out()), 30_000, 'the command to start');
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect(code, run.err()).toBe(130);
    await expectNoPodsLeft(ns);
  });

  it('with a TTY: Ctrl-C stops the command inside the shell, `stty size` follows a resize, exit 5 → 5', async () => {
    const ns = await createTestNamespace('node-tty');
    const t = new Tmux([process.execPath, CLI, '--kubeconfig', kubeconfigPath(), '--no-sweep', '-n', ns, 'shell'], { env, width: 100, height: 30 });
    try {
      await t.waitForScreen(/[#$]\s*$/m);
      t.line('stty size');
      await t.waitForScreen(/^30 100$/m);
      t.resize(120, 40);
      t.line('stty size');
      await t.waitForScreen(/^40 120$/m);
      t.line('sleep 300');
      await new Promise((r) => setTimeout(r, 500));
      t.send('C-c');
      t.line('echo after-$((40+2))');
      await t.waitForScreen(/^after-42$/m);
      t.line('exit 5');
      expect(await t.exitCode()).toBe(5);
    } finally {
      t.kill();
    }
    await expectNoPodsLeft(ns);
  });

  it('a pod is gone within 3 s of the command’s exit (tini handles SIGTERM; no grace period wasted)', async () => {
    const ns = await createTestNamespace('node-gone');
    const run = spawnCli([...base(ns), '--keep=false', '--', 'sh', '-c', 'echo started; sleep 1'], { env, input: '' });
    await waitFor(async () => /started/.test(run.out()), 30_000, 'the command to start');
    const { code } = await run.exited;
    const exitedAt = Date.now();
    expect(code, run.err()).toBe(0);
    await expectNoPodsLeft(ns, 3000);
    expect(Date.now() - exitedAt).toBeLessThan(3000);
  });

  it('a memory limit: OOMKilled and exit 137, from the kernel and the kubelet', async () => {
    const ns = await createTestNamespace('node-oom');
    // tail reads /dev/zero into memory looking for a newline that never comes.
    const r = await runCli(['--kubeconfig', kubeconfigPath(), '--no-sweep', '-n', ns, '--limits', 'memory=32Mi', '--', 'tail', '/dev/zero'], { env, timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(137);
    expect(r.stderr).toMatch(/OOMKilled/);
    await expectNoPodsLeft(ns);
  });

  it('--deadline: the kubelet stops the pod (DeadlineExceeded) and the run says so', async () => {
    const ns = await createTestNamespace('node-deadline');
    const t0 = Date.now();
    const r = await runCli(['--kubeconfig', kubeconfigPath(), '--no-sweep', '-n', ns, '--deadline', '3s', '--', 'sleep', '60'], { env, timeoutMs: 60_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/DeadlineExceeded|deadline/i);
    expect(Date.now() - t0).toBeLessThan(20_000);
    await expectNoPodsLeft(ns);
  });

  it('cluster DNS and Services: a pod reaches another through its Service name (kube-proxy, CoreDNS)', async () => {
    const ns = await createTestNamespace('node-dns');
    const api = core();
    const image = `${testenv().registry.host}/shell/netcat`;
    await api.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'web', image, command: ['sh', '-c', 'while :; do echo pong | nc -l -N 8080; done'], ports: [{ containerPort: 8080 }] }] },
      },
    });
    await api.createNamespacedService({ namespace: ns, body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } } });
    await waitFor(async () => (await api.readNamespacedPod({ name: 'web', namespace: ns })).status?.containerStatuses?.[0]?.ready, 60_000, 'the web pod');
    const r = await waitFor(
      async () => {
        const res = await runCli([...base(ns), '--pkgs', 'netcat', '--', 'sh', '-c', 'nc -N -w 3 web 80 </dev/null'], { env });
        return res.stdout.trim() === 'pong' ? res : undefined; // EndpointSlices take a moment to reach kube-proxy
      },
      30_000,
      'pong through the Service',
    );
    expect(r.code).toBe(0);
    const dns = await runCli([...base(ns), 'dig', '--', 'dig', '+short', `web.${ns}.svc.cluster.local`], { env });
    const svc = await api.readNamespacedService({ name: 'web', namespace: ns });
    expect(dns.stdout.trim()).toBe(svc.spec?.clusterIP);
    // Names outside the cluster are not answered: cluster DNS forwards nothing.
    const out = await runCli([...base(ns), 'dig', '--', 'dig', '+short', '+tries=1', '+time=2', 'example.com'], { env });
    expect(out.stdout.trim()).toBe('');
    await api.deleteNamespacedPod({ name: 'web', namespace: ns, gracePeriodSeconds: 0 });
    await expectNoPodsLeft(ns);
  });

  it('the node has a proper identity: as system:node:NAME the kubelet may update its own node, not another', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(testenv().kubeconfigs.kubelet);
    const asNode = kc.makeApiClient(CoreV1Api);
    const patch = { metadata: { labels: { 'nixrun.test/touched': 'yes' } } };
    const own = await asNode.patchNode({ name: testenv().nodes.real, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    expect(own.metadata?.labels?.['nixrun.test/touched']).toBe('yes');
    await expect(asNode.patchNode({ name: testenv().nodes.kwok, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch))).rejects.toThrow(/403|Forbidden/);
    // The node's daemons are processes of the node, not pods.
    expect(await listPods('kube-system', '')).toEqual([]);
  });
});
