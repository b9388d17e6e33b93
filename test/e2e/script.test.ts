import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { V1Pod } from '@kubernetes/client-node';
import { CLI, runCli, spawnCli } from '../support/cli.js';
import { Tmux } from '../support/tmux.js';
import { auditEvents, core, createTestNamespace, e2eEnv, expectNoPodsLeft, kubeconfigPath, listPods, testenv, waitFor } from '../support/cluster.js';

// Scripts on the local cluster (issue 18): packages from the #! nix-shell lines, served by the
// local Nixery; the restricted namespace proves UID 65534 can read and run the mounted script.
const base = () => ['--kubeconfig', kubeconfigPath(), '--no-sweep'];
const env = e2eEnv();
const dir = mkdtempSync(join(tmpdir(), 'nixrun-e2e-scripts-'));
const script = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const kubectl = (args: string[], input?: string) => {
  const r = spawnSync(join(testenv().bins, 'kubectl'), ['--kubeconfig', kubeconfigPath(), ...args], { input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const configMapsOf = async (ns: string) => (await core().listNamespacedConfigMap({ namespace: ns })).items.map((c) => c.metadata!.name).filter((n) => n !== 'kube-root-ca.crt');
const podCreates = (ns: string) => auditEvents((e) => e.verb === 'create' && e.objectRef?.resource === 'pods' && e.objectRef.namespace === ns).length;

const JQ_SCRIPT = `#!/usr/bin/env nix-shell
#! nix-shell -i bash -p jq
#! nix-shell --pure
# Reads JSON on stdin and its arguments; exits 3 so the test sees the script's own code.
echo "args: $# [$1] [$2]"
jq -r '.items[] | "\\(.name)=\\(.n * 2)"'
echo "as $(id -u), script at $0"
exit 3
`;

describe('scripts on the local cluster', () => {
  it('./check.sh with #! nix-shell -i bash -p jq: arguments, piped stdin, exit 3; restricted namespace; nothing left', async () => {
    const ns = await createTestNamespace('e2e-script', { restricted: true });
    const path = script('check.sh', JQ_SCRIPT);
    const input = '{"items":[{"name":"a","n":1},{"name":"b","n":21}]}\n';
    const started = Date.now();
    const r = await runCli([...base(), '-n', ns, path, '--', 'one', 'two words'], { env, input });
    const ms = Date.now() - started;
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('args: 2 [one] [two words]\na=2\nb=42\nas 65534, script at /nixrun/script/check.sh\n');
    expect(r.stderr).toMatch(/--pure: the pod never sees/);
    expect(r.stderr).toMatch(/pod nixrun-check-\w+ deleted/);
    console.log(`script run (pre-flight, pod, attach, exit, delete): ${ms} ms`);
    await expectNoPodsLeft(ns);
    expect(await configMapsOf(ns)).toEqual([]);
  });

  it('on a terminal: the script gets a TTY and reads what is typed; its exit code comes back', async () => {
    const ns = await createTestNamespace('e2e-script-tty');
    const path = script('ask.sh', '#!/usr/bin/env bash\n[ -t 0 ] && echo "stdin is a tty"\nread -r -p "name? " n\necho "hello $n"\nexit 4\n');
    const t = new Tmux([process.execPath, CLI, ...base(), '-n', ns, path], { env });
    try {
      await t.waitForScreen(/^name\?\s*$/m);
      expect(t.screen()).toMatch(/stdin is a tty/);
      t.line('nix');
      await t.waitForScreen(/^hello nix\s*$/m);
      expect(await t.exitCode()).toBe(4);
    } finally {
      t.kill();
    }
    await expectNoPodsLeft(ns);
  });

  it('an ordinary #!/bin/bash line with --pkgs for its tools; SIGTERM while it runs deletes the pod (143)', async () => {
    const ns = await createTestNamespace('e2e-script-term');
    const path = script('wait.sh', '#!/bin/bash\necho started\nexec sleep 300\n');
    const run = spawnCli([...base(), '-n', ns, '--pkgs', 'coreutils', path], { env });
    await waitFor(async () => /started/.test(run.out()), 60_000, 'the script to start');
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    expect(code, run.err()).toBe(143);
    await expectNoPodsLeft(ns);
  });

  it('the seed’s ConfigMap script with --configmap: its #! lines read through the API, mounted from the ConfigMap', async () => {
    const ns = await createTestNamespace('e2e-script-cm');
    // The seed's script runs kubectl against the cluster with -p kubectl; the local Nixery does not
    // serve kubectl, so this one asks the API server with curl and jq, as the pod's service account.
    const seedLike = `#! /usr/bin/env nix-shell
#! nix-shell -i bash -p curl jq
sa=/var/run/secrets/kubernetes.io/serviceaccount
curl -sS --cacert $sa/ca.crt -H "Authorization: Bearer $(cat $sa/token)" https://kubernetes.default.svc/version | jq -r .gitVersion
echo "namespace $(cat $sa/namespace), args: $*"
`;
    kubectl(['create', 'configmap', 'cluster-check', '-n', ns, '--from-literal=check.sh=' + seedLike, '--from-literal=README=not a script']);
    const r = await runCli([...base(), '-n', ns, '--service-account', 'default', '--configmap', 'cluster-check/check.sh', '--', 'x', 'y'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`v1.34.4\nnamespace ${ns}, args: x y\n`);
    await expectNoPodsLeft(ns);
    // The ConfigMap is the user's: it stays; nothing else was made.
    expect(await configMapsOf(ns)).toEqual(['cluster-check']);
  });

  it('--configmap errors name what is missing, exit 126, before any pod', async () => {
    const ns = await createTestNamespace('e2e-script-cm-bad');
    kubectl(['create', 'configmap', 'two', '-n', ns, '--from-literal=a.sh=#!/bin/bash', '--from-literal=b.sh=#!/bin/bash']);
    kubectl(['create', 'configmap', 'plain', '-n', ns, '--from-literal=run=echo no shebang']);
    const cases: Array<[string, number, RegExp]> = [
      ['nope', 126, new RegExp(`configmap nope not found in namespace ${ns}`)],
      ['two/c.sh', 126, /configmap two has no key c\.sh \(it has a\.sh, b\.sh\)/],
      ['two', 126, /configmap two has 2 keys \(a\.sh, b\.sh\): say which one/],
      ['plain', 2, /configmap\/plain\/run has no #! line/],
    ];
    for (const [arg, code, message] of cases) {
      const r = await runCli([...base(), '-n', ns, '--configmap', arg], { env });
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr.split('\n')[0]).toMatch(message);
      expect(r.stdout).toBe('');
    }
    await new Promise((res) => setTimeout(res, 200));
    expect(podCreates(ns)).toBe(0);
    expect(await listPods(ns, '')).toEqual([]);
  });

  it('`image` prints a digest the local registry serves for that reference', async () => {
    const r = await runCli(['image', '--shell', '-p', 'curl,jq', 'psql'], { env });
    expect(r.code, r.stderr).toBe(0);
    const ref = r.stdout.trim();
    const m = /^([^/]+)\/(shell\/curl\/jq\/postgresql)@(sha256:[0-9a-f]{64})$/.exec(ref);
    expect(m, ref).not.toBeNull();
    const [, host, path, digest] = m!;
    expect(host).toBe(testenv().registry.host);
    const byDigest = await fetch(`http://${host}/v2/${path}/manifests/${digest}`);
    expect(byDigest.status).toBe(200);
    const byTag = await fetch(`http://${host}/v2/${path}/manifests/latest`);
    expect(byTag.headers.get('docker-content-digest') ?? digest).toBe(digest);
  });

  it('--dry-run -o yaml --pin: the manifest, applied with kubectl, runs the script (exit 3 in its status)', async () => {
    const ns = await createTestNamespace('e2e-script-apply', { restricted: true });
    const path = script('report.sh', '#!/usr/bin/env nix-shell\n#! nix-shell -i bash -p jq\necho \'{"a":[1,2,3]}\' | jq -c ".a | map(. * 2)"\necho "args: $*"\nexit 3\n');
    const r = await runCli(['--dry-run', '-o', 'yaml', '--pin', path, '--', 'from', 'manifest'], { env });
    expect(r.code, r.stderr).toBe(0);
    const pod = parse(r.stdout) as V1Pod;
    expect(pod.spec!.containers[0]!.image).toMatch(/@sha256:[0-9a-f]{64}$/);
    const applied = kubectl(['apply', '-n', ns, '-f', '-'], r.stdout);
    expect(applied.code, applied.stderr).toBe(0);
    const done = await waitFor(async () => {
      const p = await core().readNamespacedPod({ name: 'nixrun-report', namespace: ns });
      return p.status?.containerStatuses?.[0]?.state?.terminated;
    }, 60_000, 'the applied pod to finish');
    expect(done.exitCode).toBe(3);
    expect(kubectl(['logs', '-n', ns, 'nixrun-report']).stdout).toBe('[2,4,6]\nargs: from manifest\n');
    // Not labelled as ours: gc leaves an applied pod alone.
    const gc = await runCli(['gc', '--kubeconfig', kubeconfigPath(), '-n', ns, '--dry-run'], { env });
    expect(gc.stdout).not.toMatch(/nixrun-report/);
    kubectl(['delete', 'pod', '-n', ns, 'nixrun-report', '--wait=false']);
  });
});
