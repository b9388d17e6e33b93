#!/usr/bin/env node
// A real local Kubernetes for tests and the demo, with no container engine: etcd and
// kube-apiserver (+ kube-scheduler) built from the official Go modules, a test-owned
// fake-kubelet that runs each pod's command as a local process and serves pods/attach through
// the kubelet's streaming library, and kwok managing a second, arm64-labelled node.
//
//   node scripts/testenv.mjs build                 build the binaries into the cache (once)
//   node scripts/testenv.mjs up [--dir DIR]        start a cluster; prints KUBECONFIG=…
//   node scripts/testenv.mjs down [--dir DIR]      stop it and remove its files
//   node scripts/testenv.mjs restart-apiserver [--down-ms N]
//
// Everything listens on 127.0.0.1 with free ports. See docs/testenv.md.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TESTENV = join(ROOT, 'testenv');
export const VERSIONS = { kubernetes: 'v1.34.4', etcd: 'v3.6.16', kwok: 'v0.8.0', krew: 'v0.4.3' };
const CACHE_ROOT = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kubectl-nixrun', 'testenv');
const CURRENT = join(CACHE_ROOT, 'current-run');
const log = (...a) => process.stderr.write(`[testenv] ${a.join(' ')}\n`);

function goVersion() {
  return execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
}

/** The cache key changes when a pin, the Go version or the fake kubelet's source changes. */
function cacheDir() {
  const h = createHash('sha256');
  for (const dir of ['kube', 'etcd', 'kwok', 'krew']) {
    for (const f of ['go.mod', 'go.sum']) {
      const p = join(TESTENV, dir, f);
      if (existsSync(p)) h.update(readFileSync(p));
    }
  }
  const fk = join(TESTENV, 'kube', 'fakekubelet');
  for (const f of readdirSync(fk).sort()) h.update(f).update(readFileSync(join(fk, f)));
  h.update(goVersion()).update(process.arch);
  return join(CACHE_ROOT, `k8s-${VERSIONS.kubernetes}-etcd-${VERSIONS.etcd}-kwok-${VERSIONS.kwok}-${h.digest('hex').slice(0, 12)}`);
}

// kubectl and krew are not part of the cluster: the plugin tests use them (completion through
// kubectl, `kubectl plugin list`, krew's manifest validator, `krew install --archive`).
const BINARIES = ['kube-apiserver', 'kube-scheduler', 'fake-kubelet', 'etcd', 'kwok', 'kubectl', 'krew', 'validate-krew-manifest'];

export function binDir() {
  return cacheDir();
}

/** Build whatever is missing from the cache (CGO off, trimmed, stripped, version-stamped). */
export function build() {
  const out = cacheDir();
  const missing = BINARIES.filter((b) => !existsSync(join(out, b)));
  if (missing.length === 0) return out;
  mkdirSync(out, { recursive: true });
  const env = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-trimpath' };
  const go = (cwd, args) => {
    const t0 = Date.now();
    log(`go ${args.join(' ')} (in testenv/${cwd.split('/').pop()})`);
    execFileSync('go', args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
    log(`  done in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  };
  const stamp = (v) => {
    const [maj, min] = v.slice(1).split('.');
    const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']
      .flatMap((p) => [`-X ${p}.gitVersion=${v}`, `-X ${p}.gitMajor=${maj}`, `-X ${p}.gitMinor=${min}`, `-X ${p}.gitTreeState=clean`, `-X ${p}.buildDate=${date}`])
      .join(' ');
  };
  if (missing.some((b) => ['kube-apiserver', 'kube-scheduler', 'fake-kubelet'].includes(b))) {
    go(join(TESTENV, 'kube'), [
      'build',
      '-tags=selinux,notest',
      `-ldflags=-s -w ${stamp(VERSIONS.kubernetes)}`,
      '-o',
      `${out}/`,
      'k8s.io/kubernetes/cmd/kube-apiserver',
      'k8s.io/kubernetes/cmd/kube-scheduler',
    ]);
    go(join(TESTENV, 'kube'), ['build', '-ldflags=-s -w', '-o', join(out, 'fake-kubelet'), './fakekubelet']);
  }
  if (missing.includes('kubectl')) {
    go(join(TESTENV, 'kube'), ['build', `-ldflags=-s -w ${stamp(VERSIONS.kubernetes)}`, '-o', join(out, 'kubectl'), 'k8s.io/kubernetes/cmd/kubectl']);
  }
  if (missing.includes('krew') || missing.includes('validate-krew-manifest')) {
    go(join(TESTENV, 'krew'), ['build', `-ldflags=-s -w -X sigs.k8s.io/krew/internal/version.gitTag=${VERSIONS.krew}`, '-o', `${out}/`, 'sigs.k8s.io/krew/cmd/krew', 'sigs.k8s.io/krew/cmd/validate-krew-manifest']);
  }
  if (missing.includes('etcd')) go(join(TESTENV, 'etcd'), ['build', '-ldflags=-s -w', '-o', join(out, 'etcd'), '.']);
  if (missing.includes('kwok')) go(join(TESTENV, 'kwok'), ['build', '-ldflags=-s -w', '-o', join(out, 'kwok'), 'sigs.k8s.io/kwok/cmd/kwok']);
  writeFileSync(join(out, 'versions.json'), `${JSON.stringify({ ...VERSIONS, go: goVersion(), builtAt: new Date().toISOString() }, null, 2)}\n`);
  // Builds for older pins are dead weight (about 300 MB each).
  for (const d of readdirSync(CACHE_ROOT)) {
    if (d.startsWith('k8s-') && join(CACHE_ROOT, d) !== out) rmSync(join(CACHE_ROOT, d), { recursive: true, force: true });
  }
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function startProcess(state, name, bin, args) {
  const logFile = join(state.dir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  state.procs[name] = { pid: child.pid, bin, args, log: logFile };
  return child;
}

async function waitFor(what, fn, timeoutMs, state) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const tails = state
    ? Object.entries(state.procs)
        .map(([n, p]) => `--- ${n}.log (tail)\n${tail(p.log)}`)
        .join('\n')
    : '';
  throw new Error(`testenv: ${what} not ready after ${timeoutMs / 1000}s${lastErr ? ` (${lastErr.message})` : ''}\n${tails}`);
}

function tail(file, n = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/** HTTPS GET against the apiserver with the admin token (self-signed serving cert). */
async function api(state, path, opts = {}) {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      {
        host: '127.0.0.1',
        port: state.ports.apiserver,
        path,
        method: opts.method ?? 'GET',
        rejectUnauthorized: false,
        headers: { Authorization: `Bearer ${state.token}`, 'Content-Type': opts.contentType ?? 'application/json', ...(body ? { 'Content-Length': Buffer.byteLength(body) } : {}) },
        timeout: 5000,
      },
      (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode, body: data }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    if (body) req.write(body);
    req.end();
  });
}

function apiserverArgs(state) {
  const d = state.dir;
  return [
    `--etcd-servers=http://127.0.0.1:${state.ports.etcd}`,
    '--etcd-prefix=/registry',
    '--bind-address=127.0.0.1',
    `--secure-port=${state.ports.apiserver}`,
    '--advertise-address=127.0.0.1',
    '--endpoint-reconciler-type=none',
    `--tls-cert-file=${state.pki.servingCert}`,
    `--tls-private-key-file=${state.pki.servingKey}`,
    `--client-ca-file=${state.pki.caCert}`,
    `--token-auth-file=${join(d, 'tokens.csv')}`,
    '--authorization-mode=Node,RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${join(d, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(d, 'sa.key')}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--allow-privileged=true',
    '--kubelet-preferred-address-types=InternalIP,Hostname',
    '--enable-priority-and-fairness=false',
    `--audit-policy-file=${join(d, 'audit-policy.yaml')}`,
    `--audit-log-path=${join(d, 'audit.log')}`,
    '--audit-log-format=json',
    '--audit-log-mode=blocking',
  ];
}

/**
 * A CA, the API server's serving certificate (for 127.0.0.1 and localhost) and an admin client
 * certificate (O=system:masters), with the openssl command line. EC keys: quick to make.
 */
function makePki(dir) {
  mkdirSync(dir, { recursive: true });
  const f = (n) => join(dir, n);
  const ossl = (args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl(['req', '-x509', ...key, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '3', '-subj', '/CN=nixrun-test-ca']);
  const sign = (name, subj, ext) => {
    ossl(['req', ...key, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', subj]);
    writeFileSync(f(`${name}.ext`), ext);
    const serial = `0x${randomBytes(8).toString('hex')}`;
    ossl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', serial, '-out', f(`${name}.crt`), '-days', '3', '-extfile', f(`${name}.ext`)]);
  };
  sign('apiserver', '/CN=kube-apiserver', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n');
  sign('admin', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n');
  return { caCert: f('ca.crt'), servingCert: f('apiserver.crt'), servingKey: f('apiserver.key'), adminCert: f('admin.crt'), adminKey: f('admin.key') };
}

/** Start a cluster; resolves with its state (dir, kubeconfig, ports, pids). */
export async function up(opts = {}) {
  const t0 = Date.now();
  const bins = build();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kubectl-nixrun-testenv-'));
  mkdirSync(dir, { recursive: true });
  const state = {
    dir,
    bins,
    token: randomBytes(24).toString('hex'),
    // A second identity, so tests can count the API requests one CLI run made in the audit log.
    testerToken: randomBytes(24).toString('hex'),
    // A user with no permissions at all, for RBAC tests (grant it what a test needs).
    limitedToken: randomBytes(24).toString('hex'),
    ports: { etcd: await freePort(), etcdPeer: await freePort(), apiserver: await freePort(), scheduler: await freePort(), kubelet: await freePort(), kwok: await freePort() },
    procs: {},
    kubeconfig: join(dir, 'kubeconfig'),
    auditLog: join(dir, 'audit.log'),
    restrictedNamespace: 'nixrun-restricted',
    nodes: { fake: 'nixrun-node-0', kwok: 'kwok-arm64-0' },
  };
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'tokens.csv'), `${state.token},admin,admin-uid,"system:masters"\n${state.testerToken},tester,tester-uid,"system:masters"\n${state.limitedToken},limited,limited-uid\n`);
  // Metadata of every request, so tests can prove that bad input made no API call.
  writeFileSync(join(dir, 'audit-policy.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ["RequestReceived"]\nrules:\n- level: Metadata\n');
  state.testerKubeconfig = join(dir, 'kubeconfig-tester');
  state.tokenKubeconfig = join(dir, 'kubeconfig-token');
  // Like a kind or kubeadm cluster: the serving certificate is verified against the cluster's CA
  // (no insecure-skip-tls-verify), and the admin authenticates with a client certificate.
  const pki = makePki(join(dir, 'pki'));
  state.pki = pki;
  const b64 = (f) => readFileSync(f).toString('base64');
  const kubeconfigFor = (user) =>
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: nixrun-test',
      '  cluster:',
      `    server: https://127.0.0.1:${state.ports.apiserver}`,
      `    certificate-authority-data: ${b64(pki.caCert)}`,
      'users:',
      '- name: admin',
      '  user:',
      ...user.map((l) => `    ${l}`),
      'contexts:',
      '- name: nixrun-test',
      '  context: {cluster: nixrun-test, user: admin, namespace: default}',
      'current-context: nixrun-test',
      '',
    ].join('\n');
  writeFileSync(state.kubeconfig, kubeconfigFor([`client-certificate-data: ${b64(pki.adminCert)}`, `client-key-data: ${b64(pki.adminKey)}`]));
  writeFileSync(state.tokenKubeconfig, kubeconfigFor([`token: ${state.token}`]));
  writeFileSync(state.testerKubeconfig, kubeconfigFor([`token: ${state.testerToken}`]));
  state.limitedKubeconfig = join(dir, 'kubeconfig-limited');
  writeFileSync(state.limitedKubeconfig, kubeconfigFor([`token: ${state.limitedToken}`]));
  const shim = join(dir, 'shim');
  mkdirSync(shim);
  // The plugin runs commands as `tini -g -- CMD…`; no tini here, so drop its options and exec.
  writeFileSync(join(shim, 'tini'), '#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in --) shift; break;; -*) shift;; *) break;; esac; done\nexec "$@"\n', { mode: 0o755 });
  writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2));

  try {
    const etcdData = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/nixrun-etcd-') : join(dir, 'etcd');
    state.etcdData = etcdData;
    startProcess(state, 'etcd', join(bins, 'etcd'), [
      '--name=node0',
      `--data-dir=${etcdData}`,
      `--listen-client-urls=http://127.0.0.1:${state.ports.etcd}`,
      `--advertise-client-urls=http://127.0.0.1:${state.ports.etcd}`,
      `--listen-peer-urls=http://127.0.0.1:${state.ports.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${state.ports.etcdPeer}`,
      `--initial-cluster=node0=http://127.0.0.1:${state.ports.etcdPeer}`,
      '--auto-compaction-retention=1',
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2));
    await waitFor('etcd', async () => (await fetch(`http://127.0.0.1:${state.ports.etcd}/health`)).ok, 30_000, state);

    startProcess(state, 'kube-apiserver', join(bins, 'kube-apiserver'), apiserverArgs(state));
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2));
    await waitFor('kube-apiserver', async () => (await api(state, '/readyz')).status === 200, 60_000, state);

    startProcess(state, 'kube-scheduler', join(bins, 'kube-scheduler'), [
      `--kubeconfig=${state.kubeconfig}`,
      `--authentication-kubeconfig=${state.kubeconfig}`,
      `--authorization-kubeconfig=${state.kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${state.ports.scheduler}`,
      '-v=1',
    ]);
    startProcess(state, 'fake-kubelet', join(bins, 'fake-kubelet'), [
      `--kubeconfig=${state.kubeconfig}`,
      `--node-name=${state.nodes.fake}`,
      `--port=${state.ports.kubelet}`,
      `--shim-dir=${shim}`,
      `--work-dir=${dir}`,
    ]);
    await startKwok(state);
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2));

    await waitFor(
      `node ${state.nodes.fake}`,
      async () => {
        const r = await api(state, `/api/v1/nodes/${state.nodes.fake}`);
        if (r.status !== 200) return false;
        const n = JSON.parse(r.body);
        return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !(n.spec?.taints?.length > 0);
      },
      30_000,
      state,
    );
    const ns = await api(state, '/api/v1/namespaces', {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: state.restrictedNamespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
    });
    if (ns.status !== 201 && ns.status !== 409) throw new Error(`create namespace: ${ns.status} ${ns.body}`);
    // The scheduler must be serving before tests create pods.
    await waitFor('kube-scheduler', async () => (await api(state, '/api/v1/namespaces/default/serviceaccounts/default')).status === 200, 30_000, state);
    state.readyMs = Date.now() - t0;
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2));
    mkdirSync(CACHE_ROOT, { recursive: true });
    writeFileSync(CURRENT, dir);
    return state;
  } catch (err) {
    down(state);
    throw err;
  }
}

async function startKwok(state) {
  const modcache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  const kwokMod = join(modcache, 'sigs.k8s.io', `kwok@${VERSIONS.kwok}`, 'kustomize');
  if (!existsSync(kwokMod)) {
    execFileSync('go', ['mod', 'download', `sigs.k8s.io/kwok@${VERSIONS.kwok}`], { cwd: join(TESTENV, 'kwok'), stdio: 'ignore' });
  }
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: state.nodes.kwok,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: { type: 'kwok', 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': state.nodes.kwok },
    },
    // Only pods that ask for it land here: the fake kubelet's node is the one that runs commands.
    spec: { taints: [{ key: 'nixrun.test/kwok', value: 'true', effect: 'NoSchedule' }] },
  };
  const r = await api(state, '/api/v1/nodes', { method: 'POST', body: node });
  if (r.status !== 201 && r.status !== 409) throw new Error(`create kwok node: ${r.status} ${r.body}`);
  startProcess(state, 'kwok', join(state.bins, 'kwok'), [
    `--kubeconfig=${state.kubeconfig}`,
    `--config=${join(kwokMod, 'stage', 'node', 'fast')}`,
    `--config=${join(kwokMod, 'stage', 'pod', 'fast')}`,
    '--manage-nodes-with-label-selector=type=kwok',
    '--node-ip=127.0.0.1',
    `--server-address=127.0.0.1:${state.ports.kwok}`,
    `--node-port=${state.ports.kwok}`,
  ]);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A child of this process that exited stays a zombie until the event loop reaps it, and
  // down() waits synchronously: count a zombie as gone, or every stop waits its full 5 s.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

function stopProcess(p, signal = 'SIGTERM') {
  if (!p?.pid || !alive(p.pid)) return;
  try {
    process.kill(-p.pid, signal);
  } catch {
    try {
      process.kill(p.pid, signal);
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + 5000;
  while (alive(p.pid) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
  if (alive(p.pid)) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

export function down(stateArg) {
  // A restart from another process (a test worker) changed the pids on disk: trust the file.
  let state = stateArg;
  try {
    state = JSON.parse(readFileSync(join(stateArg.dir, 'state.json'), 'utf8'));
  } catch {
    // No state file: use what we were given.
  }
  for (const name of ['kwok', 'fake-kubelet', 'kube-scheduler', 'kube-apiserver', 'etcd']) stopProcess(state.procs?.[name]);
  if (state.etcdData?.startsWith('/dev/shm/')) rmSync(state.etcdData, { recursive: true, force: true });
  if (!process.env.NIXRUN_TESTENV_KEEP) rmSync(state.dir, { recursive: true, force: true });
  try {
    if (readFileSync(CURRENT, 'utf8') === state.dir) rmSync(CURRENT);
  } catch {
    // No pointer to remove.
  }
}

/**
 * Stop kube-apiserver (gracefully, or `crash: true` for SIGKILL, which drops every connection at
 * once), wait, start it again with the same flags and ports. Resolves once the cluster works
 * again: the API is ready and the node's informers have reconnected (their back-off can take
 * several seconds, as with a real kubelet).
 */
export async function restartApiserver(state, downMs = 0, opts = {}) {
  const p = state.procs['kube-apiserver'];
  stopProcess(p, opts.crash ? 'SIGKILL' : 'SIGTERM');
  await new Promise((r) => setTimeout(r, downMs));
  startProcess(state, 'kube-apiserver', p.bin, p.args);
  writeFileSync(join(state.dir, 'state.json'), JSON.stringify(state, null, 2));
  await waitFor('kube-apiserver (restarted)', async () => (await api(state, '/readyz')).status === 200, 60_000, state);
  const probe = `probe-${randomBytes(3).toString('hex')}`;
  // Right after /readyz the admission chain may still answer "not yet ready to handle request".
  await waitFor(
    'the probe namespace',
    async () => [201, 409].includes((await api(state, '/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: probe } } })).status),
    30_000,
    state,
  );
  await waitFor('the fake kubelet to reconnect', async () => (await api(state, `/api/v1/namespaces/${probe}/serviceaccounts/default`)).status === 200, 60_000, state);
  await ensureScheduling(state, probe);
}

/**
 * After an API outage, client-go's reflectors in kube-scheduler retry with a backoff that grows
 * to 30 s, so the next test's pod could sit unscheduled for that long. A real scheduler catches
 * up eventually; tests need it now: schedule a probe pod, and restart the scheduler if it is slow.
 */
async function ensureScheduling(state, namespace) {
  const probePod = async () => {
    const name = `probe-${randomBytes(3).toString('hex')}`;
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { restartPolicy: 'Never', containers: [{ name: 'probe', image: 'probe', command: ['true'] }] } };
    const r = await api(state, `/api/v1/namespaces/${namespace}/pods`, { method: 'POST', body });
    if (r.status !== 201) throw new Error(`probe pod: HTTP ${r.status} ${r.body}`);
    return name;
  };
  const bound = async (name) => JSON.parse((await api(state, `/api/v1/namespaces/${namespace}/pods/${name}`)).body).spec?.nodeName;
  const name = await probePod();
  try {
    await waitFor('the scheduler', () => bound(name), 3000);
  } catch {
    log('kube-scheduler is backing off after the outage: restarting it');
    const p = state.procs['kube-scheduler'];
    stopProcess(p);
    startProcess(state, 'kube-scheduler', p.bin, p.args);
    writeFileSync(join(state.dir, 'state.json'), JSON.stringify(state, null, 2));
    await waitFor('the restarted scheduler to bind the probe pod', () => bound(name), 60_000, state);
  }
  await api(state, `/api/v1/namespaces/${namespace}/pods/${name}?gracePeriodSeconds=0`, { method: 'DELETE' });
}

export function loadState(dir) {
  const d = dir ?? (existsSync(CURRENT) ? readFileSync(CURRENT, 'utf8') : undefined);
  if (!d || !existsSync(join(d, 'state.json'))) throw new Error('testenv: no running cluster found (run: npm run cluster:up)');
  return JSON.parse(readFileSync(join(d, 'state.json'), 'utf8'));
}

async function cli() {
  const [cmd, ...rest] = process.argv.slice(2);
  const flag = (name) => {
    const i = rest.indexOf(name);
    return i === -1 ? undefined : rest[i + 1];
  };
  switch (cmd) {
    case 'build': {
      const t0 = Date.now();
      const dir = build();
      log(`binaries in ${dir} (${((Date.now() - t0) / 1000).toFixed(0)}s)`);
      break;
    }
    case 'up': {
      const state = await up({ ...(flag('--dir') ? { dir: flag('--dir') } : {}) });
      log(`cluster ready in ${(state.readyMs / 1000).toFixed(1)}s`);
      process.stdout.write(`KUBECONFIG=${state.kubeconfig}\n`);
      break;
    }
    case 'down':
      down(loadState(flag('--dir')));
      break;
    case 'restart-apiserver':
      await restartApiserver(loadState(flag('--dir')), Number(flag('--down-ms') ?? 0), { crash: rest.includes('--crash') });
      break;
    default:
      process.stderr.write('usage: node scripts/testenv.mjs build|up|down|restart-apiserver [--dir DIR] [--down-ms N]\n');
      process.exit(2);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  cli().catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
}
