import { KubeConfig, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, runCli, spawnCli } from '../support/cli.js';
import { core, createTestNamespace, e2eEnv, expectNoPodsLeft, kubeconfigPath, listPods, registryFaults, testenv, waitFor } from '../support/cluster.js';

// The three debugging modes on the local cluster's real node: an ephemeral container in a
// running pod (--target), a disposable copy (--copy), and the node (node/NAME).
const env = e2eEnv();
const base = () => ['--kubeconfig', kubeconfigPath(), '--no-sweep'];
const image = (path: string) => `${testenv().registry.host}/${path}`;

/** A pod of the "application" (not ours: no managed-by label), running when this resolves. */
async function appPod(ns: string, name: string, command: string[], opts: { restricted?: boolean; restartPolicy?: string; wait?: 'running' | 'crashing' } = {}): Promise<V1Pod> {
  const restricted = opts.restricted
    ? {
        securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
        containerSc: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      }
    : undefined;
  await core().createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name, labels: { app: name } },
      spec: {
        restartPolicy: opts.restartPolicy ?? 'Always',
        terminationGracePeriodSeconds: 0,
        automountServiceAccountToken: false,
        securityContext: restricted?.securityContext,
        containers: [{ name: 'app', image: image('shell/netcat'), command, securityContext: restricted?.containerSc }],
      },
    },
  });
  return waitFor(
    async () => {
      const p = await core().readNamespacedPod({ name, namespace: ns });
      const s = p.status?.containerStatuses?.[0];
      if (opts.wait === 'crashing') return (s?.restartCount ?? 0) > 0 || s?.state?.terminated ? p : undefined;
      return s?.state?.running ? p : undefined;
    },
    30_000,
    `pod ${name} ${opts.wait ?? 'running'}`,
  );
}

const LISTENER = ['bash', '-c', 'while true; do echo hello-from-app | nc -l -p 8080; done'];

describe('--target: an ephemeral container in a running pod', () => {
  it('sees the target’s processes and network, returns the exit code, and says it stays', async () => {
    const ns = await createTestNamespace('e2e-target');
    await appPod(ns, 'web', LISTENER);
    const r = await runCli([...base(), '-n', ns, '--target', 'pod/web', '--pkgs', 'procps,netcat', '--', 'sh', '-c', 'ps -eo args; echo | nc -w1 localhost 8080; exit 7'], { env });
    expect(r.code, r.stderr).toBe(7);
    expect(r.stdout).toMatch(/^nc -l -p 8080$/m); // the target's process, from its PID namespace
    expect(r.stdout).toMatch(/^hello-from-app$/m); // its port, on localhost: the same network
    expect(r.stderr).toMatch(/adding ephemeral container nixrun-sh-\w+ to pod web \(targeting app, .*\); it stays in the pod's spec until the pod is recreated/);
    const pod = await core().readNamespacedPod({ name: 'web', namespace: ns });
    expect(pod.spec?.ephemeralContainers).toHaveLength(1);
    const ec = pod.spec!.ephemeralContainers![0]!;
    expect(ec.image).toMatch(/@sha256:[0-9a-f]{64}$/); // pinned by the pre-flight
    expect(ec.stdinOnce).toBe(true);
    expect(ec.targetContainerName).toBe('app');
    expect(ec.command?.slice(0, 8)).toEqual(['tini', '-s', '-g', '--', 'timeout', '--foreground', '--kill-after=10', '14400s']);
    expect(pod.status?.ephemeralContainerStatuses?.[0]?.state?.terminated?.exitCode).toBe(7);
    expect(await listPods(ns)).toEqual([]);
  });

  it('deploy/NAME resolves to one of its pods; -c and :CONTAINER pick the target', async () => {
    const ns = await createTestNamespace('e2e-target-deploy');
    const { AppsV1Api } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath());
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'api' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'api' } },
          template: { metadata: { labels: { app: 'api' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'srv', image: image('shell/netcat'), command: LISTENER }] } },
        },
      },
    });
    await waitFor(async () => (await core().listNamespacedPod({ namespace: ns, labelSelector: 'app=api' })).items.find((p) => p.status?.containerStatuses?.[0]?.state?.running), 40_000, 'the deployment’s pod');
    const r = await runCli([...base(), '-n', ns, '--target', 'deploy/api:srv', '--pkgs', 'procps', '--', 'ps', '-eo', 'args'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^nc -l -p 8080$/m);
    const bad = await runCli([...base(), '-n', ns, '--target', 'deploy/api', '-c', 'nope', '--pkgs', 'procps', '--', 'ps'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/has no container "nope".*\n.*its containers: srv/);
  });

  it('a failing image (Nixery 404) never adds an ephemeral container: the pod spec is unchanged', async () => {
    const ns = await createTestNamespace('e2e-target-404');
    const before = await appPod(ns, 'web', LISTENER);
    const reset = await registryFaults({ missing: ['jq'] });
    let r;
    try {
      r = await runCli([...base(), '-n', ns, '--target', 'pod/web', '--pkgs', 'jq', '--', 'jq', '--version'], { env });
    } finally {
      await reset();
    }
    expect(r.code, r.stderr).toBe(126);
    expect(r.stderr).toMatch(/jq/);
    const after = await core().readNamespacedPod({ name: 'web', namespace: ns });
    expect(after.spec).toEqual(before.spec);
    expect(after.spec?.ephemeralContainers).toBeUndefined();
  });

  it('bad input: one line, exit 2, nothing sent', async () => {
    for (const [args, re] of [
      [['--target', 'web'], /expected pod\/NAME\[:CONTAINER\]/],
      [['--target', 'pod/web', '--requests', 'cpu=1'], /--requests does not apply to an ephemeral container/],
      [['--target', 'pod/web', '--copy', 'pod/web'], /cannot be combined/],
      [['--replace', 'app'], /--replace needs --copy/],
      [['node/n1', '--host-shell', 'htop'], /--host-shell runs the host's own programs/],
    ] as const) {
      const r = await runCli([...base(), ...args], { env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  });
});

describe('--copy: a disposable copy of a pod', () => {
  it('runs the tools in a copy of a crashing pod, returns the exit code, leaves no copy', async () => {
    const ns = await createTestNamespace('e2e-copy');
    await appPod(ns, 'broken', ['bash', '-c', 'echo crashing; exit 3'], { wait: 'crashing' });
    const r = await runCli([...base(), '-n', ns, '--copy', 'pod/broken', '--replace', 'app', '--pkgs', 'procps', '--', 'sh', '-c', 'echo in-the-copy; ps -eo args | head -2; exit 5'], { env });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stdout).toMatch(/^in-the-copy$/m);
    expect(r.stderr).toMatch(/copy of pod broken with container app replaced/);
    expect(r.stderr).toMatch(/pod broken-nixrun-\w+ deleted/);
    await expectNoPodsLeft(ns);
  });

  it('the copy sees the app’s processes (shared namespace) and is cut loose from Services and controllers', async () => {
    const ns = await createTestNamespace('e2e-copy-add');
    await appPod(ns, 'web', LISTENER);
    const run = spawnCli([...base(), '-n', ns, '--copy', 'pod/web', '--pkgs', 'procps,netcat', '--', 'sh', '-c', 'ps -eo args; echo | nc -w1 localhost 8080; sleep 300'], { env });
    const copy = await waitFor(async () => (await listPods(ns)).find((p) => p.status?.phase === 'Running'), 30_000, 'the copy running');
    expect(copy.metadata?.labels?.app).toBeUndefined();
    expect(copy.metadata?.ownerReferences).toBeUndefined();
    expect(copy.spec?.restartPolicy).toBe('Never');
    expect(copy.spec?.shareProcessNamespace).toBe(true);
    await waitFor(async () => /hello-from-app/.test(run.out()), 20_000, 'the output');
    expect(run.out()).toMatch(/^nc -l -p 8080$/m);
    run.child.kill('SIGHUP');
    const { code } = await run.exited;
    expect(code, run.err()).toBe(129);
    await expectNoPodsLeft(ns);
    expect((await core().readNamespacedPod({ name: 'web', namespace: ns })).status?.phase).toBe('Running'); // the original is untouched
  });

  it('Ctrl-C while the copy is Pending (the image is still being built): exit 130, no copy left', async () => {
    const ns = await createTestNamespace('e2e-copy-int');
    await appPod(ns, 'web', LISTENER);
    const reset = await registryFaults({ delayMs: 15_000, delayOnly: ['moreutils'] });
    const run = spawnCli([...base(), '-n', ns, '--no-preflight', '--copy', 'pod/web', '--pkgs', 'moreutils', '--', 'sleep', '300'], { env });
    let code: number | null;
    try {
      await waitFor(async () => (await listPods(ns)).length > 0, 20_000, 'the copy to exist');
      // The kubelet pulls one image at a time: the app's (pull policy Always for a tag) goes first.
      await waitFor(async () => /pod web-nixrun-\w+: (Pulling image|ContainerCreating)/.test(run.err()), 20_000, 'the Pending progress line');
      expect((await listPods(ns))[0]?.status?.phase).toBe('Pending');
      run.child.kill('SIGINT');
      ({ code } = await run.exited);
    } finally {
      await reset();
    }
    expect(code, run.err()).toBe(130);
    expect(run.err()).toMatch(/pod web-nixrun-\w+ deleted/);
    // Deleted at once; the object goes when the kubelet, busy with the slow pull, lets it go.
    expect((await listPods(ns)).every((p) => p.metadata?.deletionTimestamp)).toBe(true);
    await expectNoPodsLeft(ns, 40_000);
  }, 60_000);
});

describe('node/NAME: a pod in the node’s host namespaces', () => {
  it('shows the host’s processes and its / at /host, returns the exit code, leaves nothing', async () => {
    const ns = await createTestNamespace('e2e-node');
    const node = testenv().nodes.real;
    const r = await runCli([...base(), '-n', ns, `node/${node}`, '--pkgs', 'procps,gnugrep', '--', 'sh', '-c', 'ps -eo comm | grep -x -m1 kubelet; test -d /host/etc && echo host-etc; exit 9'], { env });
    expect(r.code, r.stderr).toBe(9);
    expect(r.stdout).toMatch(/^kubelet$/m); // hostPID: the kubelet is one of its processes
    expect(r.stdout).toMatch(/^host-etc$/m);
    await expectNoPodsLeft(ns);
  });

  it('--host-shell runs nsenter into PID 1’s namespaces from a privileged hostPID pod', async () => {
    const ns = await createTestNamespace('e2e-node-host');
    const dry = await runCli([...base(), '-n', ns, '--dry-run', '-o', 'json', '--node-shell', testenv().nodes.real, '--host-shell', '--', 'cat', '/proc/1/comm'], { env });
    const pod = JSON.parse(dry.stdout) as V1Pod;
    expect(pod.spec?.containers[0]?.command?.slice(-10)).toEqual(['nsenter', '--target', '1', '--mount', '--uts', '--ipc', '--net', '--pid', '--', 'cat', '/proc/1/comm'].slice(-10));
    expect(pod.spec?.containers[0]?.securityContext?.privileged).toBe(true);
    // This machine's PID 1 holds capabilities that even root here lacks, so the kernel refuses
    // everyone its namespaces (ls -l /proc/1/ns fails on the host itself): the run must say so
    // in nsenter's words and clean up. On a normal node the same pod gives the host's shell.
    const r = await runCli([...base(), '-n', ns, '--node-shell', testenv().nodes.real, '--host-shell', '--', 'cat', '/proc/1/comm'], { env });
    if (r.code === 0) expect(r.stdout.trim()).toBe(readFileSync('/proc/1/comm', 'utf8').trim());
    else expect(r.stderr).toMatch(/nsenter: cannot open \/proc\/1\/ns\/\w+: Permission denied/);
    await expectNoPodsLeft(ns);
  });

  it('an unknown node: one line naming the nodes, nothing created', async () => {
    const ns = await createTestNamespace('e2e-node-none');
    const r = await runCli([...base(), '-n', ns, 'node/no-such-node', '--', 'true'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/node no-such-node not found/);
    expect(await listPods(ns)).toEqual([]);
  });
});

describe('Pod Security: each mode in a restricted namespace fits a profile or is refused up front', () => {
  it('--target and --copy run as the target’s own non-root user; node/NAME and --profile netadmin are refused with the label to set', async () => {
    const ns = await createTestNamespace('e2e-psa', { restricted: true });
    await appPod(ns, 'web', LISTENER, { restricted: true });
    const t = await runCli([...base(), '-n', ns, '--target', 'pod/web', '--pkgs', 'coreutils', '--', 'id', '-u'], { env });
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout.trim()).toBe('1000');
    expect(t.stderr).toMatch(/as the target's user 1000, --profile restricted/);

    const c = await runCli([...base(), '-n', ns, '--copy', 'pod/web', '--pkgs', 'coreutils', '--', 'id', '-u'], { env });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout.trim()).toBe('1000');

    const specBefore = (await core().readNamespacedPod({ name: 'web', namespace: ns })).spec;
    const net = await runCli([...base(), '-n', ns, '--target', 'pod/web', '--profile', 'netadmin', '--pkgs', 'coreutils', '--', 'true'], { env });
    expect(net.code).toBe(126);
    expect(net.stderr).toMatch(new RegExp(`namespace ${ns} enforces Pod Security "restricted", which does not allow root with NET_ADMIN and NET_RAW`));
    expect(net.stderr).toMatch(/pod-security\.kubernetes\.io\/enforce=privileged/);
    expect((await core().readNamespacedPod({ name: 'web', namespace: ns })).spec).toEqual(specBefore);

    const n = await runCli([...base(), '-n', ns, `node/${testenv().nodes.real}`, '--', 'true'], { env });
    expect(n.code).toBe(126);
    expect(n.stderr).toMatch(new RegExp(`^error: namespace ${ns} enforces Pod Security "restricted", which does not allow host namespaces`, 'm'));
    expect(n.stderr).toMatch(new RegExp(`kubectl label namespace ${ns} pod-security.kubernetes.io/enforce=privileged`));
    await expectNoPodsLeft(ns);
  });
});

describe('completion from the cluster', () => {
  it('offers the namespace’s pods for --target and the nodes for node/ and --node-shell', async () => {
    const ns = await createTestNamespace('e2e-complete');
    await appPod(ns, 'web', LISTENER);
    const { completionCandidates } = await import('../support/cli.js');
    const pods = await runCli(['__complete', '--kubeconfig', kubeconfigPath(), '-n', ns, '--target', 'pod/w'], { env });
    expect(completionCandidates(pods.stdout).values).toEqual(['pod/web']);
    const nodes = await runCli(['__complete', '--kubeconfig', kubeconfigPath(), 'node/nixrun'], { env });
    expect(completionCandidates(nodes.stdout).values).toEqual([`node/${testenv().nodes.real}`]);
    const flag = await runCli(['__complete', '--kubeconfig', kubeconfigPath(), '--node-shell', 'kwok'], { env });
    expect(completionCandidates(flag.stdout).values).toEqual([testenv().nodes.kwok]);
  });
});

describe('RBAC', () => {
  it('the README’s Role is enough for --target; without pods/ephemeralcontainers the 403 says what is missing', async () => {
    const ns = await createTestNamespace('e2e-modes-rbac');
    await appPod(ns, 'web', LISTENER);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const role = parse(/## Permissions[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1]!) as { metadata: { name: string }; rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> };
    expect(role.rules.some((r) => r.resources.includes('pods/ephemeralcontainers') && r.verbs.includes('patch'))).toBe(true);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath());
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const withoutEphemeral = role.rules.filter((r) => !r.resources.includes('pods/ephemeralcontainers'));
    await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: role.metadata.name }, rules: withoutEphemeral } });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: { metadata: { name: 'limited-nixrun' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'limited' }] },
    });
    const limited = ['--kubeconfig', testenv().limitedKubeconfig, '--no-sweep', '-n', ns, '--target', 'pod/web', '--pkgs', 'coreutils', '--', 'echo', 'through-rbac'];
    const denied = await waitFor(async () => {
      const r = await runCli(limited, { env });
      return r.code === 125 ? r : false;
    }, 20_000, 'the 403');
    expect(denied.stderr).toMatch(/not allowed to add an ephemeral container to pod web/);
    expect(denied.stderr).toMatch(/"patch" on pods\/ephemeralcontainers, which the stock edit and admin roles do not grant/);
    expect((await core().readNamespacedPod({ name: 'web', namespace: ns })).spec?.ephemeralContainers).toBeUndefined();

    await rbac.replaceNamespacedRole({ name: role.metadata.name, namespace: ns, body: { metadata: { name: role.metadata.name }, rules: role.rules } });
    const ok = await waitFor(async () => {
      const r = await runCli(limited, { env });
      return r.code === 0 ? r : false;
    }, 20_000, 'a --target run as the limited user');
    expect(ok.stdout).toBe('through-rbac\n');
  });
});
