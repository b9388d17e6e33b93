import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestNamespace, e2eEnv, expectNoPodsLeft, listPods, testenv } from '../support/cluster.js';
import { kubeconfigThrough, PROXY_ONLY_NAME, startProxy, startTlsRegistry, type TestProxy } from '../support/proxy.js';

// Issue 16 (c): proxies, in the npm build (Node: undici for REST, ws + hpagent for the attach).
// The standalone binary's runs are in access-dist.test.ts. A test-owned forward proxy records
// what goes through it; the cluster is also given a name only the proxy resolves (one in the
// API server's certificate), so a run that works at all proved that the REST calls and the
// attach WebSocket both went through the proxy.

type State = ReturnType<typeof testenv> & { pki: { caCert: string; caKey: string } };
const state = () => testenv() as State;
const apiPort = () => state().ports.apiserver!;
const apiAddr = () => `${state().net.hostIP}:${apiPort()}`;
/** No proxy variables from the machine running the tests: each test sets its own. */
const clean = { HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '', NO_PROXY: '', no_proxy: '' };
const env = (extra: NodeJS.ProcessEnv) => e2eEnv({ ...clean, ...extra });

let proxy: TestProxy;
let loginProxy: TestProxy;
beforeAll(async () => {
  const hosts = { [`${PROXY_ONLY_NAME}:${apiPort()}`]: apiAddr() };
  proxy = await startProxy({ hosts });
  loginProxy = await startProxy({ hosts, auth: { user: 'alice', password: 'pr0xy-s3cret' } });
});
afterAll(async () => {
  await proxy?.close();
  await loginProxy?.close();
});

const targets = (p: TestProxy) => p.records.map((r) => `${r.method} ${r.target} ${r.status}`);

describe('HTTPS_PROXY and NO_PROXY for the API server (kubectl rules)', () => {
  it('REST and the attach go through HTTPS_PROXY: a cluster only the proxy can reach runs a session; the loopback registry is asked directly', async () => {
    const ns = await createTestNamespace('proxy-env');
    const kc = kubeconfigThrough(state().kubeconfig, { server: `https://${PROXY_ONLY_NAME}:${apiPort()}` });
    proxy.records.length = 0;
    const r = await runCli(['--kubeconfig', kc, '-n', ns, '--no-sweep', '--', 'cat'], { env: env({ HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url }), input: 'through-the-proxy\n' });
    expect(r.code, r.stderr).toBe(0);
    // stdin went up the attach and came back down it.
    expect(r.stdout).toBe('through-the-proxy\n');
    expect(r.stderr).toMatch(/image ready in/);
    const seen = targets(proxy);
    expect(seen.length, seen.join('\n')).toBeGreaterThanOrEqual(2); // REST, and the WebSocket's own tunnel
    expect(new Set(seen)).toEqual(new Set([`CONNECT ${PROXY_ONLY_NAME}:${apiPort()} 200`]));
    // The attach's tunnel carried the session (the WebSocket upgrade, frames, close).
    expect(Math.max(...proxy.records.map((x) => x.down))).toBeGreaterThan(1000);
    await expectNoPodsLeft(ns);
  });

  it('NO_PROXY naming the API server (a CIDR) sends nothing to the proxy; without it the IP server is proxied too', async () => {
    const ns = await createTestNamespace('proxy-noproxy');
    proxy.records.length = 0;
    const direct = await runCli(['--kubeconfig', state().kubeconfig, '-n', ns, '--no-sweep', '--no-preflight', '--', 'echo', 'direct'], {
      env: env({ HTTPS_PROXY: proxy.url, NO_PROXY: `example.invalid, ${state().net.hostIP.replace(/\.\d+$/, '.0')}/24` }),
    });
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stdout).toBe('direct\n');
    expect(targets(proxy)).toEqual([]);
    const proxied = await runCli(['--kubeconfig', state().kubeconfig, '-n', ns, '--no-sweep', '--no-preflight', '--', 'echo', 'proxied'], { env: env({ https_proxy: proxy.url, NO_PROXY: 'example.invalid' }) });
    expect(proxied.code, proxied.stderr).toBe(0);
    expect(proxied.stdout).toBe('proxied\n');
    expect(new Set(targets(proxy))).toEqual(new Set([`CONNECT ${apiAddr()} 200`]));
    await expectNoPodsLeft(ns);
  });

  it('a proxy that is not there: one line naming it and where it was set, exit 125, no pod', async () => {
    const ns = await createTestNamespace('proxy-dead');
    const r = await runCli(['--kubeconfig', state().kubeconfig, '-n', ns, '--no-sweep', '--no-preflight', '--', 'echo', 'x'], { env: env({ HTTPS_PROXY: 'http://127.0.0.1:9' }) });
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr).toMatch(/^error: cannot reach the Kubernetes API at https:\/\/[\d.]+:\d+: the proxy http:\/\/127\.0\.0\.1:9 \(HTTPS_PROXY\) is not answering \(ECONNREFUSED\), while trying to (create the pod|read the nodes' architecture)\nhint: check HTTPS_PROXY; add the host to NO_PROXY/m);
    expect(await listPods(ns)).toEqual([]);
  });

  it('a malformed HTTPS_PROXY is a usage error before any request (exit 2)', async () => {
    const r = await runCli(['--kubeconfig', state().kubeconfig, '--', 'echo', 'x'], { env: env({ HTTPS_PROXY: 'ftp://user:hunter2@proxy:21' }) });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: the proxy HTTPS_PROXY=ftp:\/\/user:\*\*\*@proxy:21 is not a proxy URL\nhint: use http:\/\/host:port/m);
    expect(r.stderr).not.toContain('hunter2');
  });
});

describe("the kubeconfig's proxy-url", () => {
  it('is used for every request, with its login, whatever NO_PROXY says (as client-go does)', async () => {
    const ns = await createTestNamespace('proxy-url');
    const kc = kubeconfigThrough(state().kubeconfig, { server: `https://${PROXY_ONLY_NAME}:${apiPort()}`, proxyUrl: loginProxy.url.replace('http://', 'http://alice:pr0xy-s3cret@') });
    loginProxy.records.length = 0;
    const r = await runCli(['--kubeconfig', kc, '-n', ns, '--no-sweep', '--no-preflight', '--', 'cat'], { env: env({ NO_PROXY: '*' }), input: 'via-proxy-url\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('via-proxy-url\n');
    expect(loginProxy.records.length).toBeGreaterThanOrEqual(2);
    const basic = `Basic ${Buffer.from('alice:pr0xy-s3cret').toString('base64')}`;
    for (const rec of loginProxy.records) expect(rec).toMatchObject({ method: 'CONNECT', target: `${PROXY_ONLY_NAME}:${apiPort()}`, status: 200, authorization: basic });
    await expectNoPodsLeft(ns);
  });

  it('a proxy that wants a login it did not get (407): one line, the hint says where the login goes, exit 125, no pod', async () => {
    const ns = await createTestNamespace('proxy-407');
    const kc = kubeconfigThrough(state().kubeconfig, { proxyUrl: loginProxy.url });
    const r = await runCli(['--kubeconfig', kc, '-n', ns, '--no-sweep', '--no-preflight', '--', 'echo', 'x'], { env: env({}) });
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr).toMatch(/^error: cannot reach the Kubernetes API at \S+: the proxy http:\/\/127\.0\.0\.1:\d+ \(proxy-url\) wants a login \(HTTP 407\), while trying to (create the pod|read the nodes' architecture)\nhint: put the login in the proxy URL/m);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(2);
    expect(await listPods(ns)).toEqual([]);
  });
});

describe('the registry pre-flight behind a proxy', () => {
  let registry: Awaited<ReturnType<typeof startTlsRegistry>>;
  beforeAll(async () => {
    registry = await startTlsRegistry({ ip: state().net.hostIP, upstream: state().registry.host, caCert: state().pki.caCert, caKey: state().pki.caKey });
  });
  afterAll(() => registry?.close());
  const pin = (extra: NodeJS.ProcessEnv) =>
    runCli(['--dry-run', '--pin', '-o', 'json', '--registry', registry.host, 'jq'], { env: env({ NODE_EXTRA_CA_CERTS: state().pki.caCert, ...extra }) });

  it('goes through HTTPS_PROXY, and straight to the registry when NO_PROXY names it', async () => {
    proxy.records.length = 0;
    const viaProxy = await pin({ HTTPS_PROXY: proxy.url });
    expect(viaProxy.code, viaProxy.stderr).toBe(0);
    const image = (JSON.parse(viaProxy.stdout) as { spec: { containers: Array<{ image: string }> } }).spec.containers[0]!.image;
    expect(image).toMatch(new RegExp(`^${registry.host.replace(/\./g, '\\.')}/.*jq.*@sha256:[0-9a-f]{64}$`));
    expect(targets(proxy)).toEqual([`CONNECT ${registry.host} 200`]);
    expect(registry.requests.some((q) => /^GET \/v2\/.*jq.*\/manifests\/latest$/.test(q))).toBe(true);

    proxy.records.length = 0;
    const direct = await pin({ HTTPS_PROXY: proxy.url, NO_PROXY: state().net.hostIP });
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stdout).toContain(image);
    expect(targets(proxy)).toEqual([]);
  });

  it("a proxy's 407 on the pre-flight is said as such (a pin that cannot be had is an error)", async () => {
    const r = await pin({ HTTPS_PROXY: loginProxy.url });
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr).toMatch(new RegExp(`^error: cannot pin \\S+ by digest: cannot reach ${registry.host.replace(/\./g, '\\.')} \\(the proxy http://127\\.0\\.0\\.1:\\d+ \\(HTTPS_PROXY\\) wants a login \\(HTTP 407\\)\\)$`, 'm'));
  });
});
