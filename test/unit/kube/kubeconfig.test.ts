import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_ACCESS_OVERRIDES, validateAccess, type AccessFlags } from '../../../src/plan/access.js';
import { effectiveConfig, loadKubeconfigFiles, mergeKubeconfigs, type RawKubeconfig } from '../../../src/kube/kubeconfig.js';

const base: RawKubeconfig = {
  clusters: [
    { name: 'prod', cluster: { server: 'https://prod:6443', 'certificate-authority-data': 'Q0E=' } },
    { name: 'dev', cluster: { server: 'https://dev:6443', 'certificate-authority': '/etc/dev-ca.crt' } },
  ],
  users: [
    { name: 'alice', user: { token: 'alice-token' } },
    { name: 'eks', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: ['eks', 'get-token'] } } },
    { name: 'admin-as', user: { token: 'adm', as: 'bob', 'as-groups': ['g'], 'as-uid': '7', 'as-user-extra': { scopes: ['a'] } } },
  ],
  contexts: [
    { name: 'prod', context: { cluster: 'prod', user: 'alice', namespace: 'web' } },
    { name: 'dev', context: { cluster: 'dev', user: 'eks' } },
    { name: 'imp', context: { cluster: 'prod', user: 'admin-as' } },
  ],
  'current-context': 'prod',
};

const eff = (flags: AccessFlags, context?: string, cfg = base) => effectiveConfig(structuredClone(cfg), { ...(context ? { context } : {}), access: validateAccess(flags) });

describe('kubectl global flags → the effective cluster, user and context (clientcmd overrides)', () => {
  it('no flags: the current context as written', () => {
    const e = eff({});
    expect(e).toMatchObject({ contextName: 'prod', clusterName: 'prod', userName: 'alice', namespace: 'web', user: { token: 'alice-token' } });
    expect(e.cluster).toEqual({ server: 'https://prod:6443', 'certificate-authority-data': 'Q0E=' });
    expect(e.impersonate).toBeUndefined();
  });

  it.each<[string, AccessFlags, string | undefined, (e: ReturnType<typeof eff>) => unknown, unknown]>([
    ['--server replaces the server, keeps the CA', { server: 'https://other:443' }, undefined, (e) => e.cluster, { server: 'https://other:443', 'certificate-authority-data': 'Q0E=' }],
    ['--certificate-authority replaces the CA data', { certificateAuthority: '/my-ca.crt' }, undefined, (e) => e.cluster, { server: 'https://prod:6443', 'certificate-authority': '/my-ca.crt' }],
    ['--insecure-skip-tls-verify drops every CA', { insecureSkipTlsVerify: true }, 'dev', (e) => e.cluster, { server: 'https://dev:6443', 'insecure-skip-tls-verify': true }],
    ['--tls-server-name', { tlsServerName: 'kubernetes' }, undefined, (e) => e.cluster['tls-server-name'], 'kubernetes'],
    ['--cluster picks another cluster, same user', { cluster: 'dev' }, undefined, (e) => [e.cluster.server, e.userName], ['https://dev:6443', 'alice']],
    ['--user picks another user, same cluster', { user: 'eks' }, undefined, (e) => [e.cluster.server, e.user.exec?.command], ['https://prod:6443', 'aws']],
    ['--token replaces an exec user', { token: 'flag-token' }, 'dev', (e) => e.user, { token: 'flag-token' }],
    ['--as alone', { as: 'jane' }, undefined, (e) => e.impersonate, { user: 'jane', groups: [], extra: {} }],
    ['--as with groups and uid', { as: 'jane', asGroup: ['a', 'b'], asUid: 'u1' }, undefined, (e) => e.impersonate, { user: 'jane', groups: ['a', 'b'], uid: 'u1', extra: {} }],
    ['the kubeconfig user’s as/as-groups/as-uid/as-user-extra', {}, 'imp', (e) => e.impersonate, { user: 'bob', groups: ['g'], uid: '7', extra: { scopes: ['a'] } }],
    ['--as replaces the kubeconfig’s impersonation entirely', { as: 'jane' }, 'imp', (e) => e.impersonate, { user: 'jane', groups: [], extra: {} }],
    ['impersonation fields never reach client-node’s user', {}, 'imp', (e) => e.user, { token: 'adm' }],
  ])('%s', (_name, flags, context, pick, expected) => {
    expect(pick(eff(flags, context))).toEqual(expected);
  });

  it.each<[string, AccessFlags, string | undefined, RawKubeconfig, RegExp]>([
    ['--context that does not exist', {}, 'nope', base, /^context "nope" does not exist in the kubeconfig$/],
    ['--cluster that does not exist', { cluster: 'nope' }, undefined, base, /^cluster "nope" does not exist/],
    ['--user that does not exist', { user: 'nope' }, undefined, base, /^user "nope" does not exist/],
    ['no current-context', {}, undefined, { ...base, 'current-context': undefined }, /^current-context is not set in the kubeconfig$/],
    ['current-context names a missing context', {}, undefined, { ...base, 'current-context': 'gone' }, /^context "gone" does not exist/],
  ])('%s → a kubectl-like error (exit 2)', (_n, flags, context, cfg, re) => {
    expect(() => eff(flags, context, cfg)).toThrow(re);
    try {
      eff(flags, context, cfg);
    } catch (err) {
      expect((err as { exitCode: number }).exitCode).toBe(2);
    }
  });

  it('a missing current-context names the contexts to choose from', () => {
    try {
      eff({}, undefined, { ...base, 'current-context': undefined });
    } catch (err) {
      expect((err as { hint: string }).hint).toMatch(/--context \(prod, dev, imp\)/);
    }
  });

  it('--server and --token need no kubeconfig at all', () => {
    const e = effectiveConfig({ clusters: [], users: [], contexts: [] }, { access: validateAccess({ server: 'https://k:6443', token: 't' }) });
    expect(e.cluster.server).toBe('https://k:6443');
    expect(e.user).toEqual({ token: 't' });
  });

  it('NO_ACCESS_OVERRIDES changes nothing', () => {
    expect(effectiveConfig(structuredClone(base), { access: NO_ACCESS_OVERRIDES })).toEqual(eff({}));
  });
});

describe('KUBECONFIG with several files, merged as kubectl merges them', () => {
  it('the first file to define a name wins, and the first current-context', () => {
    const a: RawKubeconfig = { clusters: [{ name: 'c', cluster: { server: 'https://a' } }], users: [{ name: 'u', user: { token: 'a' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }] };
    const b: RawKubeconfig = {
      clusters: [{ name: 'c', cluster: { server: 'https://b' } }, { name: 'd', cluster: { server: 'https://d' } }],
      users: [{ name: 'u', user: { token: 'b' } }],
      contexts: [{ name: 'y', context: { cluster: 'd', user: 'u' } }],
      'current-context': 'y',
    };
    const c: RawKubeconfig = { clusters: [], users: [], contexts: [], 'current-context': 'x' };
    const m = mergeKubeconfigs([a, b, c]);
    expect(m.clusters.map((x) => x.cluster.server)).toEqual(['https://a', 'https://d']);
    expect(m.users).toEqual([{ name: 'u', user: { token: 'a' } }]);
    expect(m['current-context']).toBe('y');
    expect(effectiveConfig(m, { access: NO_ACCESS_OVERRIDES })).toMatchObject({ cluster: { server: 'https://d' }, user: { token: 'a' } });
  });

  it('reads files, skips missing ones, resolves relative paths against each file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nixrun-kc-'));
    writeFileSync(join(dir, 'one'), 'clusters:\n- name: c\n  cluster: {server: "https://one", certificate-authority: ca.crt}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n');
    writeFileSync(join(dir, 'two'), 'users:\n- name: u\n  user:\n    tokenFile: tok\n    exec: {command: ./bin/plugin, apiVersion: client.authentication.k8s.io/v1}\ncurrent-context: x\n');
    const m = loadKubeconfigFiles([join(dir, 'missing'), join(dir, 'one'), join(dir, 'two')]);
    expect(m.clusters[0]!.cluster['certificate-authority']).toBe(join(dir, 'ca.crt'));
    expect(m.users[0]!.user.tokenFile).toBe(join(dir, 'tok'));
    expect(m.users[0]!.user.exec!.command).toBe(join(dir, 'bin/plugin'));
    expect(m['current-context']).toBe('x');
  });
});
