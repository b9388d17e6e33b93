import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { core, createTestNamespace, e2eEnv, expectNoPodsLeft, kubeconfigPath, listPods, testenv } from '../support/cluster.js';

// The testenv's second local Nixery wants credentials (Bearer challenge, token endpoint behind
// basic auth; scripts/testenv.mjs startPrivateRegistry): the pre-flight must authenticate, and the
// node must pull with the pod's image pull secret.
type Private = { host: string; user: string; password: string };
const priv = () => (testenv() as unknown as { privateRegistry: Private }).privateRegistry;
const dockerconfig = (host: string, user: string, password: string) => JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } });

async function pullSecret(ns: string, name: string, password: string) {
  const p = priv();
  await core().createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(dockerconfig(p.host, p.user, password)).toString('base64') } },
  });
}

const run = (ns: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(['--kubeconfig', kubeconfigPath(), '-n', ns, '--no-sweep', '--registry', priv().host, ...args], { env: e2eEnv({ HOME: mkdtempSync(join(tmpdir(), 'nixrun-home-')), ...env }) });

describe('a private Nixery (credentials needed)', () => {
  it('--image-pull-secret: the pre-flight reads it through the API, the node pulls with it', async () => {
    const ns = await createTestNamespace('priv-ok');
    await pullSecret(ns, 'regcred', priv().password);
    const r = await run(ns, ['--image-pull-secret', 'regcred', '--', 'echo', 'private-ok']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('private-ok\n');
    expect(r.stderr).toMatch(/image ready in/);
    expect(r.stderr).not.toContain(priv().password);
    await expectNoPodsLeft(ns);
  });

  it('the pull secret is on the pod (--dry-run), also from the config file', async () => {
    const cfg = join(mkdtempSync(join(tmpdir(), 'nixrun-cfg-')), 'config.yaml');
    writeFileSync(cfg, 'imagePullSecrets: [from-file]\n');
    const r = await runCli(['--dry-run', '-o', 'json', '--image-pull-secret', 'a', '--image-pull-secret', 'b', 'htop'], { env: { NIXRUN_CONFIG: cfg } });
    expect(JSON.parse(r.stdout).spec.imagePullSecrets).toEqual([{ name: 'a' }, { name: 'b' }]);
    const f = await runCli(['--dry-run', '-o', 'json', 'htop'], { env: { NIXRUN_CONFIG: cfg } });
    expect(JSON.parse(f.stdout).spec.imagePullSecrets).toEqual([{ name: 'from-file' }]);
  });

  it('~/.docker/config.json auths authenticate the pre-flight (the node still needs the pull secret)', async () => {
    const ns = await createTestNamespace('priv-docker');
    await pullSecret(ns, 'regcred', priv().password);
    const home = mkdtempSync(join(tmpdir(), 'nixrun-home-'));
    const dir = join(home, 'docker');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), dockerconfig(priv().host, priv().user, priv().password));
    // Without --image-pull-secret the pre-flight has no source but the Docker config.
    const r = await runCli(['--kubeconfig', kubeconfigPath(), '-n', ns, '--no-sweep', '--registry', priv().host, '--overrides', '{"spec":{"imagePullSecrets":[{"name":"regcred"}]}}', '--', 'echo', 'docker-config'], {
      env: e2eEnv({ HOME: home, DOCKER_CONFIG: dir }),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('docker-config\n');
    await expectNoPodsLeft(ns);
  });

  it.each([
    ['no credentials at all', [], /^error: 127\.0\.0\.1:\d+ needs credentials \(HTTP 401, Bearer challenge\) and none were found; looked in ~\/\.docker\/config\.json \(none\)$/],
    ['a pull secret with the wrong password', ['--image-pull-secret', 'wrong'], /^error: 127\.0\.0\.1:\d+ refused the credentials \(HTTP 401\) from pull secret priv-bad-\w+\/wrong$/],
    ['a pull secret that does not exist', ['--image-pull-secret', 'missing'], /none were found; looked in pull secret priv-bad-\w+\/missing \(not found\), ~\/\.docker\/config\.json \(none\)$/],
  ])('%s: one line naming what was tried, exit 126, no pod', async (_n, flags, re) => {
    const ns = await createTestNamespace('priv-bad');
    await pullSecret(ns, 'wrong', 'not-the-password');
    const r = await run(ns, [...flags, '--', 'echo', 'x']);
    expect(r.code, r.stderr).toBe(126);
    const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('warning: the package table'));
    expect(lines[0]).toMatch(re);
    expect(lines[1]).toMatch(/^hint: /);
    expect(lines).toHaveLength(2);
    expect(await listPods(ns)).toEqual([]);
  });
});
