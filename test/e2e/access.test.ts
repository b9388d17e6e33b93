import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT, runCli } from '../support/cli.js';
import { auditEvents, createTestNamespace, e2eEnv, expectNoPodsLeft, listPods, testenv } from '../support/cluster.js';

// Issue 16: kubectl's global flags, impersonation, exec credential plugins, token files and
// merged KUBECONFIGs against the real API server (token auth file, RBAC, audit log).
const PLUGIN = join(ROOT, 'test/fixtures/exec-plugin/nixrun-test-credential');
const env = e2eEnv();

interface Audit {
  verb: string;
  user?: { username?: string };
  impersonatedUser?: { username?: string; groups?: string[]; uid?: string };
  objectRef?: { resource?: string; namespace?: string; subresource?: string };
}
const audit = (f: (e: Audit) => boolean) => auditEvents(f as never) as unknown as Audit[];

type State = ReturnType<typeof testenv> & { testerKubeconfig: string; testerToken: string; limitedKubeconfig: string };
const state = () => testenv() as State;

/** The tester's kubeconfig with its user replaced (the cluster entry: server and CA). */
function kubeconfigWithUser(user: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const doc = parse(readFileSync(state().testerKubeconfig, 'utf8')) as { users: Array<{ name: string; user: unknown }> };
  doc.users = [{ name: 'admin', user }];
  const file = join(mkdtempSync(join(tmpdir(), 'nixrun-access-')), 'kubeconfig');
  writeFileSync(file, stringify({ ...doc, ...extra }));
  return file;
}

function execUser(mode: string, extra: Record<string, unknown> = {}) {
  return {
    exec: {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: PLUGIN,
      args: [mode],
      interactiveMode: 'IfAvailable',
      env: [{ name: 'NIXRUN_TEST_TOKEN', value: state().testerToken }],
      ...extra,
    },
  };
}

const byTester = () => audit((e) => e.user?.username === 'tester').length;

function oneErrorLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^error: /);
  expect(lines.length, stderr).toBeLessThanOrEqual(2);
  if (lines[1] !== undefined) expect(lines[1]).toMatch(/^hint: /);
  return lines[0]!;
}

describe('impersonation (--as, --as-group, --as-uid) really impersonates', () => {
  it('a user allowed to impersonate runs a session as another user; the audit log names the impersonated user and groups', async () => {
    const ns = await createTestNamespace('access-as');
    const r = await runCli(
      ['--kubeconfig', state().testerKubeconfig, '-n', ns, '--no-sweep', '--no-preflight', '--as', 'nixrun-imp-jane', '--as-group', 'nixrun-team', '--as-group', 'system:masters', '--as-uid', 'jane-1', '--', 'echo', 'as-jane'],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('as-jane\n');
    const mine = audit((e) => e.objectRef?.namespace === ns && e.objectRef?.resource === 'pods');
    const creates = mine.filter((e) => e.verb === 'create' && !e.objectRef?.subresource);
    const attaches = mine.filter((e) => e.objectRef?.subresource === 'attach');
    expect(creates).toHaveLength(1);
    expect(attaches.length).toBeGreaterThan(0);
    for (const e of [...creates, ...attaches]) {
      expect(e.user?.username).toBe('tester');
      // One group per header line: the API server saw two groups, not "nixrun-team, system:masters".
      expect(e.impersonatedUser).toEqual({ username: 'nixrun-imp-jane', uid: 'jane-1', groups: ['nixrun-team', 'system:masters', 'system:authenticated'] });
    }
    await expectNoPodsLeft(ns);
  });

  it('without the impersonate permission: the 403 in one line, exit 125, no pod', async () => {
    const ns = await createTestNamespace('access-as-denied');
    const r = await runCli(['--kubeconfig', state().limitedKubeconfig, '-n', ns, '--no-sweep', '--no-preflight', '--as', 'admin', '--', 'echo', 'x'], { env });
    expect(r.code, r.stderr).toBe(125);
    expect(oneErrorLine(r.stderr)).toMatch(/^error: not allowed to impersonate: users "admin" is forbidden: User "limited" cannot impersonate resource "users"/);
    expect(r.stdout).toBe('');
    expect(await listPods(ns)).toEqual([]);
  });
});

describe('kubectl global flags against the real API server', () => {
  it('--server, --token and --certificate-authority work without any kubeconfig', async () => {
    const ns = await createTestNamespace('access-flags');
    const s = state();
    const server = (parse(readFileSync(s.testerKubeconfig, 'utf8')) as { clusters: Array<{ cluster: { server: string } }> }).clusters[0]!.cluster.server;
    const home = mkdtempSync(join(tmpdir(), 'nixrun-home-'));
    const r = await runCli(['-s', server, '--token', s.testerToken, '--certificate-authority', join(s.dir, 'pki', 'ca.crt'), '--request-timeout', '30s', '-n', ns, '--no-sweep', '--no-preflight', '--', 'echo', 'flags-only'], {
      env: { ...env, HOME: home, KUBECONFIG: '' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('flags-only\n');
    expect(r.stderr).not.toContain(s.testerToken);
    await expectNoPodsLeft(ns);
  });

  it('--tls-server-name is used to verify the certificate; a wrong one is refused as untrusted (125)', async () => {
    const ns = await createTestNamespace('access-tls');
    const ok = await runCli(['--kubeconfig', state().testerKubeconfig, '--tls-server-name', 'kubernetes.default.svc', '-n', ns, '--no-sweep', '--no-preflight', '--', 'echo', 'sni'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await runCli(['--kubeconfig', state().testerKubeconfig, '--tls-server-name', 'not-the-apiserver.example', '-n', ns, '--no-sweep', '--no-preflight', '--', 'echo', 'x'], { env });
    expect(bad.code, bad.stderr).toBe(125);
    expect(oneErrorLine(bad.stderr)).toMatch(/certificate|altname|ERR_TLS/i);
    await expectNoPodsLeft(ns);
  });

  it('--insecure-skip-tls-verify warns, and works against a server whose CA is not given', async () => {
    const ns = await createTestNamespace('access-insecure');
    const file = kubeconfigWithUser({ token: state().testerToken });
    const doc = parse(readFileSync(file, 'utf8')) as { clusters: Array<{ cluster: Record<string, unknown> }> };
    delete doc.clusters[0]!.cluster['certificate-authority-data'];
    writeFileSync(file, stringify(doc));
    const r = await runCli(['--kubeconfig', file, '--insecure-skip-tls-verify', '-n', ns, '--no-sweep', '--no-preflight', '--', 'echo', 'insecure'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('insecure\n');
    expect(r.stderr).toMatch(/warning: --insecure-skip-tls-verify: the API server's certificate is not checked/);
    await expectNoPodsLeft(ns);
  });
});

describe('kubeconfig exec users (client.authentication.k8s.io ExecCredential)', () => {
  it.each(['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'])('%s: the plugin’s token runs a session (REST and attach)', async (apiVersion) => {
    const ns = await createTestNamespace('access-exec');
    const log = join(mkdtempSync(join(tmpdir(), 'nixrun-plugin-')), 'calls');
    const file = kubeconfigWithUser(execUser('ok', { apiVersion, provideClusterInfo: true }));
    const r = await runCli(['--kubeconfig', file, '-n', ns, '--no-sweep', '--no-preflight', '--', 'echo', 'via-exec'], {
      env: { ...env, NIXRUN_TEST_PLUGIN_LOG: log, NIXRUN_TEST_API_VERSION: apiVersion },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('via-exec\n');
    expect(r.stderr).not.toContain(state().testerToken);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    // Run once for the whole session (the token is cached until its expirationTimestamp).
    expect(calls).toHaveLength(1);
    const info = JSON.parse(calls[0]!.split(' ').slice(3).join(' ')) as { spec: { interactive: boolean; cluster?: { server: string } } };
    expect(info.spec.interactive).toBe(false); // stdin is not a terminal here
    expect(info.spec.cluster?.server).toMatch(/^https:\/\/10\.213\./);
    const attach = audit((e) => e.objectRef?.namespace === ns && e.objectRef?.subresource === 'attach');
    expect(attach.length).toBeGreaterThan(0);
    expect(attach.every((e) => e.user?.username === 'tester')).toBe(true);
    await expectNoPodsLeft(ns);
  });

  it.each([
    ['fails', execUser('fail'), [], /^error: the credential plugin ".*nixrun-test-credential" failed \(exit 3\): run: test-login$/],
    ['hangs (bounded by --request-timeout)', execUser('hang'), ['--request-timeout', '2s'], /^error: the credential plugin ".*" did not answer within 2s \(--request-timeout\) and was stopped$/],
    ['is missing from PATH', { exec: { ...execUser('ok').exec, command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'x'] } }, [], /^error: the kubeconfig's credential plugin "aws" \(user "admin"\) was not found on PATH$/],
  ])('a plugin that %s: one line naming it, exit 125, no request, no pod', async (_name, user, flags, re) => {
    const ns = await createTestNamespace('access-exec-bad');
    const file = kubeconfigWithUser(user);
    const before = byTester();
    const started = Date.now();
    const r = await runCli(['--kubeconfig', file, ...flags, '-n', ns, '--no-sweep', '--no-preflight', '--', 'echo', 'x'], { env: { ...env, PATH: '/usr/bin:/bin' } });
    expect(r.code, r.stderr).toBe(125);
    expect(oneErrorLine(r.stderr)).toMatch(re);
    if (/aws/.test(r.stderr)) expect(r.stderr).toMatch(/hint: install the AWS CLI v2/);
    expect(Date.now() - started).toBeLessThan(15_000);
    await new Promise((res) => setTimeout(res, 100));
    expect(byTester()).toBe(before);
    expect(await listPods(ns)).toEqual([]);
  });
});

describe('token files and several KUBECONFIG files', () => {
  it('a tokenFile user', async () => {
    const ns = await createTestNamespace('access-tokenfile');
    const dir = mkdtempSync(join(tmpdir(), 'nixrun-tokenfile-'));
    writeFileSync(join(dir, 'token'), state().testerToken);
    const file = kubeconfigWithUser({ tokenFile: join(dir, 'token') });
    const before = byTester();
    const r = await runCli(['--kubeconfig', file, '-n', ns, '--no-sweep', '--no-preflight', '--', 'echo', 'from-file'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('from-file\n');
    expect(byTester()).toBeGreaterThan(before);
    await expectNoPodsLeft(ns);
  });

  it('KUBECONFIG=a:b is merged (first definition wins), and a missing current-context is a kubectl-like error', async () => {
    const ns = await createTestNamespace('access-merge');
    const dir = mkdtempSync(join(tmpdir(), 'nixrun-merge-'));
    const tester = parse(readFileSync(state().testerKubeconfig, 'utf8')) as Record<string, unknown> & { clusters: unknown[]; contexts: unknown[] };
    // File 1: the cluster and a context, and a user "admin" with a bad token that file 2 must not replace.
    writeFileSync(join(dir, 'one'), stringify({ apiVersion: 'v1', kind: 'Config', clusters: tester.clusters, contexts: tester.contexts, users: [{ name: 'admin', user: { token: state().testerToken } }] }));
    writeFileSync(join(dir, 'two'), stringify({ apiVersion: 'v1', kind: 'Config', users: [{ name: 'admin', user: { token: 'wrong' } }], 'current-context': 'nixrun-test' }));
    const r = await runCli(['-n', ns, '--no-sweep', '--no-preflight', '--', 'echo', 'merged'], { env: { ...env, KUBECONFIG: [join(dir, 'missing'), join(dir, 'one'), join(dir, 'two')].join(':') } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('merged\n');

    writeFileSync(join(dir, 'two'), stringify({ apiVersion: 'v1', kind: 'Config' }));
    const none = await runCli(['-n', ns, '--', 'echo', 'x'], { env: { ...env, KUBECONFIG: [join(dir, 'one'), join(dir, 'two')].join(':') } });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: current-context is not set in the kubeconfig\nhint: choose one with --context \(nixrun-test\)/);
    await expectNoPodsLeft(ns);
  });
});

