import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { CLI, ROOT, runCli, spawnCli as spawnSession } from '../support/cli.js';
import { auditEvents, core, createTestNamespace, expectNoPodsLeft, kubeconfigPath, listPods, testenv, waitFor } from '../support/cluster.js';
import { startNixery, type Nixery } from '../support/nixery.js';
import { Tmux } from '../support/tmux.js';

// Each test gets its own namespace and asserts that no pod of ours is left behind.
const base = () => ['--kubeconfig', kubeconfigPath(), '--no-sweep'];
const env = { NIXRUN_REGISTRY: '', XDG_STATE_HOME: '/tmp/nixrun-e2e-state' };

// Stdin stays open: these sessions are attached until a signal arrives.
const spawnCli = (args: string[]) => spawnSession(args, { env });

async function runningPod(ns: string) {
  return waitFor(
    async () => (await listPods(ns)).find((p) => p.status?.containerStatuses?.[0]?.state?.running),
    30_000,
    `a running pod in ${ns}`,
  );
}

describe('the run, end to end on the local cluster', () => {
  it('(1) interactive: the prompt shows without Enter, input echoes, `exit 3` → exit 3', async () => {
    const ns = await createTestNamespace('e2e-tty');
    const t = new Tmux([process.execPath, CLI, ...base(), '-n', ns, '--no-preflight', '--pkgs', 'curl', 'shell'], { env });
    try {
      await t.waitForScreen(/[#$]\s*$/m);
      t.line('echo hello-$((40+2))');
      await t.waitForScreen(/^hello-42$/m);
      t.line('exit 3');
      expect(await t.exitCode()).toBe(3);
      expect(t.screen()).toMatch(/pod nixrun-shell-\w+ deleted/);
    } finally {
      t.kill();
    }
    await expectNoPodsLeft(ns);
  });

  it('(2) piped: `echo hi | … -- cat` prints hi and exits 0; stdout and stderr stay apart', async () => {
    const ns = await createTestNamespace('e2e-pipe');
    const r = await runCli([...base(), '-n', ns, '--no-preflight', '--', 'cat'], { env, input: 'hi\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hi\n');
    const r2 = await runCli([...base(), '-n', ns, '--no-preflight', '-q', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7'], { env });
    expect(r2.code).toBe(7);
    expect(r2.stdout).toBe('out\n');
    expect(r2.stderr).toBe('err\n');
    await expectNoPodsLeft(ns);
  });

  it('piped input of 256 KiB comes back byte for byte, with EOF delivered', async () => {
    const ns = await createTestNamespace('e2e-big');
    const input = Array.from({ length: 4096 }, (_, i) => `line ${i} ${'x'.repeat(50)}`).join('\n') + '\n';
    const r = await runCli([...base(), '-n', ns, '--no-preflight', '-q', '--', 'cat'], { env, input });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBe(input.length);
    expect(r.stdout).toBe(input);
    await expectNoPodsLeft(ns);
  });

  it('(3) SIGINT while Pending (slow pull): exit 130 and the pod is deleted', async () => {
    const ns = await createTestNamespace('e2e-int');
    const run = spawnCli([...base(), '-n', ns, '--no-preflight', '--annotations', 'kubelet.test/pull-delay=60s', '--pkgs', 'coreutils', '--', 'sleep', '300']);
    await waitFor(async () => (await listPods(ns)).length > 0, 20_000, 'the pod to exist');
    await waitFor(async () => /Pulling image/.test(run.err()), 20_000, 'the Pulling progress line');
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect(code, run.err()).toBe(130);
    expect(run.err()).toMatch(/pod nixrun-sleep-\w+ deleted/);
    await expectNoPodsLeft(ns);
  });

  it('(4) SIGTERM while attached: exit 143 and the pod is deleted', async () => {
    const ns = await createTestNamespace('e2e-term');
    const run = spawnCli([...base(), '-n', ns, '--no-preflight', '--pkgs', 'coreutils', '--', 'sleep', '300']);
    await runningPod(ns);
    await new Promise((r) => setTimeout(r, 500));
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    expect(code, run.err()).toBe(143);
    await expectNoPodsLeft(ns);
  });

  it('(5) SIGHUP (terminal closed) while attached: the pod is deleted', async () => {
    const ns = await createTestNamespace('e2e-hup');
    const t = new Tmux([process.execPath, CLI, ...base(), '-n', ns, '--no-preflight', '--pkgs', 'coreutils', '--', 'sleep', '300'], { env });
    await runningPod(ns);
    await new Promise((r) => setTimeout(r, 500));
    t.kill();
    await expectNoPodsLeft(ns, 15_000);
  });

  it('(6) kill -9 leaves the pod; `gc` removes it because its owner is gone', async () => {
    const ns = await createTestNamespace('e2e-kill');
    const run = spawnCli([...base(), '-n', ns, '--no-preflight', '--pkgs', 'coreutils', '--', 'sleep', '300']);
    const pod = await runningPod(ns);
    run.child.kill('SIGKILL');
    await run.exited;
    expect((await listPods(ns)).map((p) => p.metadata?.name)).toEqual([pod.metadata?.name]);
    const gc = await runCli(['gc', '--kubeconfig', kubeconfigPath(), '-n', ns], { env });
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toMatch(new RegExp(`${ns}/${pod.metadata?.name}\\tdeleted: owner process ${run.child.pid} on this host is gone`));
    await expectNoPodsLeft(ns);
  });

  describe('with a Nixery-like registry', () => {
    let registry: Nixery;
    beforeAll(async () => {
      registry = await startNixery({ missing: ['nosuchpackage'], delayMs: 200 });
    });
    afterAll(() => registry.close());

    it('(7) pre-flight 404 → exit 126, the missing package named, no pod created', async () => {
      const ns = await createTestNamespace('e2e-404');
      const r = await runCli([...base(), '-n', ns, '--registry', registry.host, '--pkgs', 'nosuchpackage', '--', 'cat'], { env });
      expect(r.code, r.stderr).toBe(126);
      expect(r.stderr).toMatch(/does not know the package nosuchpackage/);
      const creates = auditEvents((e) => e.verb === 'create' && e.objectRef?.resource === 'pods' && e.objectRef.namespace === ns);
      expect(creates).toEqual([]);
    });

    it('pre-flight 200 → the pod is pinned by digest', async () => {
      const ns = await createTestNamespace('e2e-digest');
      const r = await runCli([...base(), '-n', ns, '--registry', registry.host, '--keep', '--stdin=false', '--', 'echo', 'pinned'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('pinned\n');
      const [pod] = await listPods(ns);
      expect(pod!.spec!.containers[0]!.image).toMatch(new RegExp(`^${registry.host.replace('.', '\\.')}/bash/coreutils/fakenss/tini@sha256:[0-9a-f]{64}$`.replace('bash/', '')));
      expect(registry.requests.some((q) => q.uri === '/v2/coreutils/fakenss/tini/manifests/latest')).toBe(true);
    });
  });

  it('(8) image pull failure → the reason is shown, exit 126, the pod deleted', async () => {
    const ns = await createTestNamespace('e2e-pull');
    const r = await runCli([...base(), '-n', ns, '--no-preflight', '--annotations', 'kubelet.test/pull-error=manifest unknown: Could not find Nix packages', '--', 'cat'], { env });
    expect(r.code, r.stderr).toBe(126);
    expect(r.stderr).toMatch(/cannot start: (ErrImagePull|ImagePullBackOff).*Could not find Nix packages/);
    await expectNoPodsLeft(ns);
  });

  it('(9) the default profile is admitted by a restricted namespace; netadmin is refused clearly', async () => {
    const ns = await createTestNamespace('e2e-psa', { restricted: true });
    const ok = await runCli([...base(), '-n', ns, '--no-preflight', '--', 'echo', 'admitted'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('admitted\n');
    const no = await runCli([...base(), '-n', ns, '--no-preflight', '--profile', 'netadmin', '--', 'echo', 'x'], { env });
    expect(no.code).toBe(126);
    expect(no.stderr).toMatch(/enforces Pod Security "restricted" and rejected the pod/);
    expect(no.stderr).toMatch(/hint: --profile netadmin needs a namespace that allows it/);
    await expectNoPodsLeft(ns);
  });

  it("--env-from: a Secret's keys become variables (--env wins); a missing one fails fast", async () => {
    const ns = await createTestNamespace('e2e-envfrom');
    await core().createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'db-creds' }, stringData: { PGPASSWORD: 's3cret', PGUSER: 'app' } } });
    const r = await runCli([...base(), '-n', ns, '--no-preflight', '--env-from', 'secret/db-creds', '-e', 'PGUSER=override', '--', 'sh', '-c', 'echo "$PGPASSWORD $PGUSER"'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('s3cret override\n');
    const missing = await runCli([...base(), '-n', ns, '--no-preflight', '--env-from', 'secret/nope', '--', 'true'], { env });
    expect(missing.code).toBe(126);
    expect(missing.stderr).toMatch(/cannot start: CreateContainerConfigError: secret "nope" not found/);
    expect(missing.stderr).toMatch(/hint: .*--env-from/);
    await expectNoPodsLeft(ns);
  });

  it('--host-network: refused by a restricted namespace with a hint about the namespace, not the profile', async () => {
    const ns = await createTestNamespace('e2e-hostnet', { restricted: true });
    const r = await runCli([...base(), '-n', ns, '--no-preflight', '--host-network', '--', 'true'], { env });
    expect(r.code).toBe(126);
    expect(r.stderr).toMatch(/rejected the pod: .*hostNetwork=true/);
    expect(r.stderr).toMatch(/hint: --host-network needs a namespace whose Pod Security level is privileged/);
    await expectNoPodsLeft(ns);
  });

  it("RBAC: a user without permissions gets one clear error; with the README's Role, a whole session works", async () => {
    const ns = await createTestNamespace('e2e-rbac');
    const limited = ['--kubeconfig', testenv().limitedKubeconfig, '--no-sweep', '-n', ns, '--no-preflight'];
    const denied = await runCli([...limited, '--', 'echo', 'x'], { env });
    expect(denied.code).toBe(125);
    expect(denied.stderr).toMatch(/not allowed to read nodes; assuming amd64/);
    expect(denied.stderr).toMatch(/^error: not allowed to create the pod: pods is forbidden: User "limited" cannot create resource "pods"/m);
    expect(denied.stderr).not.toMatch(/delete pod|deleted/); // nothing was created, so nothing is deleted
    expect(denied.stderr).toMatch(/hint: kubectl-nixrun needs, in the namespace: create\/get\/list\/watch\/delete on pods, create on pods\/attach, get on pods\/log, list\/watch on events \(README: Permissions\)/);

    // The Role documented in README.md, bound to the user.
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { join } = await import('node:path');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const yamlBlock = /## Permissions[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1]!;
    const role = parse(yamlBlock) as { metadata: { name: string }; rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> };
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath());
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: role.metadata.name }, rules: role.rules } });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'limited-nixrun' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'limited' }],
      },
    });
    const ok = await waitFor(
      async () => {
        const r = await runCli([...limited, '--', 'sh', '-c', 'read line; echo "got $line"; exit 7'], { env, input: 'through RBAC\n' });
        return r.code === 7 ? r : false; // RBAC caches may take a moment to see the binding
      },
      20_000,
      'a run as the limited user',
    );
    expect(ok.stdout).toBe('got through RBAC\n');
    await expectNoPodsLeft(ns);
  });

  it('(10) --keep leaves exactly one pod, and gc leaves it alone', async () => {
    const ns = await createTestNamespace('e2e-keep');
    const r = await runCli([...base(), '-n', ns, '--no-preflight', '--keep', '--', 'echo', 'kept'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/kept in .*kubectl delete pod/);
    expect(await listPods(ns)).toHaveLength(1);
    const gc = await runCli(['gc', '--kubeconfig', kubeconfigPath(), '-n', ns], { env });
    expect(gc.stdout).toBe('');
    expect(await listPods(ns)).toHaveLength(1);
  });

  it('an unschedulable pod fails fast with the scheduler’s reason (exit 126) and is deleted', async () => {
    const ns = await createTestNamespace('e2e-sched');
    const r = await runCli([...base(), '-n', ns, '--no-preflight', '--node', 'no-such-node', '--pod-running-timeout', '8s', '--', 'cat'], { env });
    expect(r.code, r.stderr).toBe(126);
    expect(r.stderr).toMatch(/cannot be scheduled: 0\/\d nodes are available/);
    await expectNoPodsLeft(ns);
  });

  it('the node named with --node decides the architecture (arm64 from kwok’s node)', async () => {
    const { connect } = await import('../../src/kube/client.js');
    const { detectArch } = await import('../../src/kube/nodes.js');
    const kube = connect({ kubeconfig: kubeconfigPath() });
    expect(await detectArch(kube, testenv().nodes.kwok)).toEqual({ arch: 'arm64' });
    expect(await detectArch(kube, testenv().nodes.fake)).toEqual({ arch: 'amd64' });
    expect((await detectArch(kube, undefined)).arch).toBe('amd64');
  });
});
