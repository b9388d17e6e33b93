import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/cli.js';
import { ExecCredentialAuth, EXEC_PROVIDER, execInfo, interactiveFor, parseExecOutput, stillValid, type ExecProviderConfig } from '../../../src/kube/exec-credential.js';

// The test-owned credential plugin (a shell script standing in for aws/gke-gcloud-auth-plugin/kubelogin).
const PLUGIN = join(ROOT, 'test/fixtures/exec-plugin/nixrun-test-credential');
const V1 = 'client.authentication.k8s.io/v1';
const cluster = { server: 'https://k:6443', 'certificate-authority-data': 'Q0E=', 'tls-server-name': 'kubernetes', extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { audience: 'x' } }] };

function user(mode: string, extra: Partial<ExecProviderConfig['execConfig']> = {}) {
  return { name: 'u', authProvider: { name: EXEC_PROVIDER, config: { execConfig: { apiVersion: V1, command: PLUGIN, args: [mode], interactiveMode: 'Never' as const, ...extra }, cluster, userName: 'u' } } };
}

function auth(timeoutMs = 0, env: NodeJS.ProcessEnv = {}) {
  const log = join(mkdtempSync(join(tmpdir(), 'nixrun-exec-')), 'calls');
  const a = new ExecCredentialAuth({ env: { PATH: process.env.PATH, NIXRUN_TEST_TOKEN: 'tok-123', NIXRUN_TEST_PLUGIN_LOG: log, ...env }, stdinIsTTY: false, timeoutMs });
  const calls = () => readFileSync(log, 'utf8').trim().split('\n');
  return { a, calls };
}

describe('exec credential plugins (client.authentication.k8s.io v1/v1beta1)', () => {
  it.each([
    [{ apiVersion: V1, interactiveMode: 'Never' }, true, false],
    [{ apiVersion: V1, interactiveMode: 'IfAvailable' }, true, true],
    [{ apiVersion: V1, interactiveMode: 'IfAvailable' }, false, false],
    [{ apiVersion: 'client.authentication.k8s.io/v1beta1' }, true, true],
    [{ apiVersion: V1, interactiveMode: 'Always' }, true, true],
  ] as const)('interactiveMode %j, stdin a TTY %s → interactive %s', (exec, tty, out) => expect(interactiveFor(exec, tty, 'u')).toBe(out));

  it('v1 without interactiveMode, and Always without a terminal, are refused', () => {
    expect(() => interactiveFor({ apiVersion: V1 }, true, 'u')).toThrow(/without interactiveMode/);
    expect(() => interactiveFor({ apiVersion: V1, interactiveMode: 'Always' }, false, 'u')).toThrow(/needs a terminal/);
  });

  it('KUBERNETES_EXEC_INFO carries the cluster only with provideClusterInfo', () => {
    const cfg = user('ok').authProvider.config;
    expect(execInfo(cfg, false)).toEqual({ apiVersion: V1, kind: 'ExecCredential', spec: { interactive: false } });
    expect(execInfo({ ...cfg, execConfig: { ...cfg.execConfig, provideClusterInfo: true } }, true)).toEqual({
      apiVersion: V1,
      kind: 'ExecCredential',
      spec: { interactive: true, cluster: { server: 'https://k:6443', 'certificate-authority-data': 'Q0E=', 'tls-server-name': 'kubernetes', config: { audience: 'x' } } },
    });
  });

  it.each([
    ['not JSON', 'hello', /not JSON/],
    ['another kind', '{"kind":"Pod","apiVersion":"v1"}', /not ExecCredential/],
    ['another apiVersion', `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"t"}}`, /asks for client.authentication.k8s.io\/v1/],
    ['no token', `{"kind":"ExecCredential","apiVersion":"${V1}","status":{}}`, /neither a token nor a client certificate/],
  ])('output %s is refused without echoing it', (_n, out, re) => {
    expect(() => parseExecOutput(out, { apiVersion: V1, command: 'p' })).toThrow(re);
  });

  it('a token is cached until its expirationTimestamp', async () => {
    expect(stillValid({ expirationTimestamp: new Date(Date.now() + 1000).toISOString() }, Date.now())).toBe(true);
    expect(stillValid({ expirationTimestamp: new Date(Date.now() - 1).toISOString() }, Date.now())).toBe(false);
    expect(stillValid({}, Date.now())).toBe(true);

    const { a, calls } = auth();
    const opts: { headers?: Record<string, unknown> } = {};
    // Three concurrent requests share one run of the plugin, a later one uses the cache.
    await Promise.all([a.applyAuthentication(user('ok'), opts), a.applyAuthentication(user('ok'), {}), a.applyAuthentication(user('ok'), {})]);
    await a.applyAuthentication(user('ok'), {});
    expect(opts.headers?.Authorization).toBe('Bearer tok-123');
    expect(a.runs).toBe(1);
    expect(calls()).toHaveLength(1);

    const exp = auth();
    await exp.a.applyAuthentication(user('expired'), {});
    await exp.a.applyAuthentication(user('expired'), {});
    expect(exp.a.runs).toBe(2);
  });

  it('passes args, the kubeconfig env and KUBERNETES_EXEC_INFO; stdin is not the terminal with Never', async () => {
    const { a, calls } = auth();
    await a.applyAuthentication(user('ok', { env: [{ name: 'NIXRUN_TEST_PLUGIN_ENV', value: 'from-kubeconfig' }], provideClusterInfo: true }), {});
    const [mode, tty, env, ...info] = calls()[0]!.split(' ');
    expect([mode, tty, env]).toEqual(['ok', 'false', 'from-kubeconfig']);
    expect(JSON.parse(info.join(' '))).toMatchObject({ kind: 'ExecCredential', spec: { interactive: false, cluster: { server: 'https://k:6443' } } });
  });

  it.each([
    ['fails', user('fail'), 0, /^the credential plugin ".*nixrun-test-credential" failed \(exit 3\): run: test-login$/],
    ['prints garbage', user('garbage'), 0, /did not print an ExecCredential/],
    ['hangs past --request-timeout', user('hang'), 300, /did not answer within 0.3s \(--request-timeout\) and was stopped/],
    ['is missing from PATH', { ...user('ok'), authProvider: { name: EXEC_PROVIDER, config: { ...user('ok').authProvider.config, execConfig: { apiVersion: V1, command: 'gke-gcloud-auth-plugin', interactiveMode: 'Never' as const } } } }, 0, /^the kubeconfig's credential plugin "gke-gcloud-auth-plugin" \(user "u"\) was not found on PATH$/],
    ['speaks v1alpha1', user('ok', { apiVersion: 'client.authentication.k8s.io/v1alpha1' }), 0, /v1alpha1.*not supported/],
  ])('a plugin that %s → one line, exit 125', async (_n, u, timeoutMs, re) => {
    const { a } = auth(timeoutMs, { PATH: '/nonexistent' });
    const err = (await a.applyAuthentication(u, {}).catch((e: unknown) => e)) as { message: string; exitCode: number; hint?: string };
    expect(err.message).toMatch(re);
    expect(err.message).not.toContain('\n');
    expect(err.exitCode).toBe(125);
    if (/gke/.test(err.message)) expect(err.hint).toBe('install it with: gcloud components install gke-gcloud-auth-plugin');
  });

  it('the installHint of the kubeconfig wins', async () => {
    const { a } = auth(0, { PATH: '/nonexistent' });
    const u = user('ok', { command: 'corp-login', installHint: 'ask IT for corp-login\nmore text' });
    const err = (await a.applyAuthentication(u, {}).catch((e: unknown) => e)) as { hint?: string };
    expect(err.hint).toBe('ask IT for corp-login');
  });
});
