import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
// @ts-expect-error: a plain .mjs script.
import { release } from '../../scripts/release.mjs';
import { ROOT, runCli } from '../support/cli.js';
import { createTestNamespace, e2eEnv, expectNoPodsLeft, listPods, testenv } from '../support/cluster.js';
import { kubeconfigThrough, PROXY_ONLY_NAME, startProxy, startTlsRegistry } from '../support/proxy.js';

// Issue 16 in the standalone binaries (Bun, with src/standalone/undici-bun.ts instead of undici):
// impersonation, an exec credential plugin, --request-timeout, a private registry and proxies
// (Bun's own fetch would apply HTTPS_PROXY by Bun's rules) on the linux-amd64 binary against
// the cluster; the linux-arm64 binary run with Debian's
// qemu-user-static (apt-get install qemu-user-static), offline.
const PLUGIN = join(ROOT, 'test/fixtures/exec-plugin/nixrun-test-credential');
const QEMU = '/usr/bin/qemu-aarch64-static';
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
let out: string;
let bins: Record<string, string>;
type State = ReturnType<typeof testenv> & { testerKubeconfig: string; testerToken: string; privateRegistry: { host: string; user: string; password: string }; pki: { caCert: string; caKey: string } };
const state = () => testenv() as State;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'nixrun-access-dist-'));
  const { built } = (await release({ out, targets: ['linux-amd64', 'linux-arm64'], manifestOut: join(out, 'nixrun.yaml'), baseUrl: 'https://example.invalid/releases' })) as { built: Record<string, { binary: string }> };
  bins = Object.fromEntries(Object.entries(built).map(([t, b]) => [t, b.binary]));
}, 600_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

function execKubeconfig(mode: string): string {
  const doc = parse(readFileSync(state().testerKubeconfig, 'utf8')) as { users: unknown[] };
  doc.users = [{ name: 'admin', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: PLUGIN, args: [mode], interactiveMode: 'Never', env: [{ name: 'NIXRUN_TEST_TOKEN', value: state().testerToken }] } } }];
  const file = join(mkdtempSync(join(tmpdir(), 'nixrun-dist-kc-')), 'kubeconfig');
  writeFileSync(file, stringify(doc));
  return file;
}

describe('the linux-amd64 standalone binary (Bun)', () => {
  const exe = () => bins['linux-amd64']!;

  it('an exec credential plugin, --as with one group, through REST and attach', async () => {
    const ns = await createTestNamespace('dist-access');
    const r = await runCli(['--kubeconfig', execKubeconfig('ok'), '-n', ns, '--no-sweep', '--no-preflight', '--as', 'nixrun-imp-dist', '--as-group', 'system:masters', '--', 'echo', 'bun-ok'], { env: e2eEnv(), exe: exe() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('bun-ok\n');
    await expectNoPodsLeft(ns);
  });

  it('a hanging plugin is stopped by --request-timeout; a missing one is named (125, no pod)', async () => {
    const ns = await createTestNamespace('dist-exec-bad');
    const hang = await runCli(['--kubeconfig', execKubeconfig('hang'), '--request-timeout', '1s', '-n', ns, '--', 'echo', 'x'], { env: e2eEnv(), exe: exe() });
    expect(hang.code, hang.stderr).toBe(125);
    expect(hang.stderr).toMatch(/^error: the credential plugin ".*" did not answer within 1s \(--request-timeout\) and was stopped$/m);
    const doc = readFileSync(execKubeconfig('ok'), 'utf8').replace(PLUGIN, 'kubelogin');
    const file = join(mkdtempSync(join(tmpdir(), 'nixrun-dist-kc-')), 'kubeconfig');
    writeFileSync(file, doc);
    const missing = await runCli(['--kubeconfig', file, '-n', ns, '--', 'echo', 'x'], { env: e2eEnv({ PATH: '/usr/bin:/bin' }), exe: exe() });
    expect(missing.code, missing.stderr).toBe(125);
    expect(missing.stderr).toMatch(/^error: the kubeconfig's credential plugin "kubelogin" \(user "admin"\) was not found on PATH\nhint: install kubelogin/m);
    expect(await listPods(ns)).toEqual([]);
  });

  it('several --as-group: refused in one line (Bun joins repeated headers), nothing created', async () => {
    const ns = await createTestNamespace('dist-groups');
    const r = await runCli(['--kubeconfig', state().testerKubeconfig, '-n', ns, '--no-preflight', '--as', 'x', '--as-group', 'a', '--as-group', 'b', '--', 'echo', 'x'], { env: e2eEnv(), exe: exe() });
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr).toMatch(/more than once per request \(several --as-group\)/);
    expect(await listPods(ns)).toEqual([]);
  });

  it('a private registry: the pre-flight authenticates with ~/.docker/config.json', async () => {
    const p = state().privateRegistry;
    const home = mkdtempSync(join(tmpdir(), 'nixrun-home-'));
    writeFileSync(join(home, 'config.json'), JSON.stringify({ auths: { [p.host]: { username: p.user, password: p.password } } }));
    const ns = await createTestNamespace('dist-priv');
    const r = await runCli(['--kubeconfig', state().testerKubeconfig, '-n', ns, '--no-sweep', '--registry', p.host, '--stdin=false', '--dry-run', 'htop'], { env: e2eEnv({ DOCKER_CONFIG: home }), exe: exe() });
    expect(r.code, r.stderr).toBe(0); // dry-run: offline
    // The real check: a run whose pre-flight must pass the Bearer challenge (the pod then fails to pull without a pull secret: 126 from the node, not from the pre-flight).
    const run = await runCli(['--kubeconfig', state().testerKubeconfig, '-n', ns, '--no-sweep', '--registry', p.host, '--pod-running-timeout', '20s', '--', 'echo', 'x'], { env: e2eEnv({ DOCKER_CONFIG: home }), exe: exe() });
    expect(run.stderr).toMatch(/image ready in/);
    expect(run.stderr).not.toContain(p.password);
    await expectNoPodsLeft(ns, 30_000);
  });
});

describe('the linux-amd64 standalone binary behind a proxy', () => {
  const exe = () => bins['linux-amd64']!;
  const noProxyVars = { HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '', NO_PROXY: '', no_proxy: '' };
  const apiPort = () => state().ports.apiserver!;

  it('HTTPS_PROXY carries REST and the attach to a cluster only the proxy can reach; the loopback registry is asked directly, not through Bun', async () => {
    const proxy = await startProxy({ hosts: { [`${PROXY_ONLY_NAME}:${apiPort()}`]: `${state().net.hostIP}:${apiPort()}` } });
    try {
      const ns = await createTestNamespace('dist-proxy');
      const kc = kubeconfigThrough(state().kubeconfig, { server: `https://${PROXY_ONLY_NAME}:${apiPort()}` });
      const r = await runCli(['--kubeconfig', kc, '-n', ns, '--no-sweep', '--', 'cat'], { env: e2eEnv({ ...noProxyVars, HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url }), exe: exe(), input: 'bun-through-the-proxy\n' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('bun-through-the-proxy\n');
      expect(r.stderr).toMatch(/image ready in/);
      expect(new Set(proxy.records.map((x) => `${x.method} ${x.target} ${x.status}`))).toEqual(new Set([`CONNECT ${PROXY_ONLY_NAME}:${apiPort()} 200`]));
      expect(proxy.records.length).toBeGreaterThanOrEqual(2);
      await expectNoPodsLeft(ns);
    } finally {
      await proxy.close();
    }
  });

  it('the registry pre-flight through HTTPS_PROXY, and direct for NO_PROXY (a CIDR)', async () => {
    const proxy = await startProxy();
    const registry = await startTlsRegistry({ ip: state().net.hostIP, upstream: state().registry.host, caCert: state().pki.caCert, caKey: state().pki.caKey });
    try {
      const pin = (extra: NodeJS.ProcessEnv) => runCli(['--dry-run', '--pin', '-o', 'json', '--registry', registry.host, 'jq'], { env: e2eEnv({ ...noProxyVars, NODE_EXTRA_CA_CERTS: state().pki.caCert, ...extra }), exe: exe() });
      const via = await pin({ HTTPS_PROXY: proxy.url });
      expect(via.code, via.stderr).toBe(0);
      expect(via.stdout).toMatch(/\/jq[^"]*@sha256:[0-9a-f]{64}"/);
      expect(proxy.records.map((x) => `${x.method} ${x.target} ${x.status}`)).toEqual([`CONNECT ${registry.host} 200`]);
      proxy.records.length = 0;
      const direct = await pin({ HTTPS_PROXY: proxy.url, NO_PROXY: `${state().net.hostIP}/32` });
      expect(direct.code, direct.stderr).toBe(0);
      expect(direct.stdout).toMatch(/\/jq[^"]*@sha256:[0-9a-f]{64}"/);
      expect(proxy.records).toEqual([]);
    } finally {
      await proxy.close();
      await registry.close();
    }
  });

  it('a SOCKS proxy-url is refused before any request (Bun speaks only http(s) proxies)', async () => {
    const kc = kubeconfigThrough(state().kubeconfig, { proxyUrl: 'socks5://127.0.0.1:1080' });
    const r = await runCli(['--kubeconfig', kc, '--', 'echo', 'x'], { env: e2eEnv(noProxyVars), exe: exe() });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: the standalone binary cannot use the SOCKS proxy socks5:\/\/127\.0\.0\.1:1080 \(proxy-url\)\nhint: use an http\(s\) proxy, or the npm package/m);
  });
});

describe('the linux-arm64 standalone binary, run with qemu-user-static', () => {
  const arm = (args: string[]) => spawnSync(QEMU, ['-L', ARM64_SYSROOT, bins['linux-arm64']!, ...args], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: mkdtempSync(join(tmpdir(), 'nixrun-home-')), NO_COLOR: '1' }, input: '' });

  it('qemu-aarch64-static and an arm64 glibc are installed (Debian: qemu-user-static, libc6-arm64-cross)', () => {
    expect(existsSync(QEMU)).toBe(true);
    expect(existsSync(join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))).toBe(true);
  });

  it('--version, which psql, --dry-run', () => {
    const v = arm(['--version']);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/kubectl-nixrun \d+\.\d+\.\d+/);
    const w = arm(['which', 'psql']);
    expect(w.status, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/postgresql/);
    const d = arm(['--dry-run', '-o', 'json', '--arch', 'arm64', 'htop']);
    expect(d.status, d.stderr).toBe(0);
    const pod = JSON.parse(d.stdout) as { spec: { containers: Array<{ image: string }>; nodeSelector: Record<string, string> } };
    expect(pod.spec.containers[0]!.image).toMatch(/^nixery\.dev\/arm64\//);
    expect(pod.spec.nodeSelector['kubernetes.io/arch']).toBe('arm64');
  });
});
