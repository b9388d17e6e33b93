#!/usr/bin/env node
// A real local Kubernetes for tests and the demo: etcd, kube-apiserver, kube-controller-manager
// and kube-scheduler on the host's loopback and node link; one real node (kubelet + containerd +
// runc + a CNI bridge, kube-proxy and CoreDNS) in its own network namespace; a local registry
// that plays Nixery; and kwok managing a second, arm64-labelled node that never runs anything.
// Needs root (network namespaces, mounts, cgroups). See docs/testenv.md.
//
//   node scripts/testenv.mjs build                 build the binaries into the cache (once)
//   node scripts/testenv.mjs up [--dir DIR]        start a cluster; prints KUBECONFIG=…
//   node scripts/testenv.mjs env [--dir DIR]       shell exports for the running cluster
//   node scripts/testenv.mjs down [--dir DIR]      stop it and remove everything it made
//   node scripts/testenv.mjs restart-apiserver [--down-ms N] [--crash]
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binDir, build, CACHE_ROOT, PAUSE_IMAGE, ROOT, VERSIONS } from './testenv/build.mjs';
import {
  cniConfig,
  containerdConfig,
  COREDNS_RBAC,
  corefile,
  createCgroupRoot,
  createNetwork,
  deleteNetwork,
  inNode,
  kubeletConfig,
  kubeProxyConfig,
  planNetwork,
  removeCgroupRoot,
  sandboxNetnsPaths,
  SERVICE_CIDR,
  shimPids,
  unmountAll,
} from './testenv/node.mjs';
import { kubeconfig, makePki } from './testenv/pki.mjs';
import { alive, log, run, startProcess, stopProcess, tail, waitFor } from './testenv/proc.mjs';

export { binDir, build, VERSIONS };
const CURRENT = join(CACHE_ROOT, 'current-run');
const NIXERY = join(ROOT, 'testenv', 'nixery', 'serve.mjs');

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

const save = (state) => writeFileSync(join(state.dir, 'state.json'), JSON.stringify(state, null, 2));

/** HTTPS request to the API server as the admin (the CA verifies its certificate). */
async function api(state, path, opts = {}) {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      {
        host: state.net.hostIP,
        port: state.ports.apiserver,
        path,
        method: opts.method ?? 'GET',
        ca: readFileSync(state.pki.caCert),
        headers: { Authorization: `Bearer ${state.token}`, 'Content-Type': 'application/json', ...(body ? { 'Content-Length': Buffer.byteLength(body) } : {}) },
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

async function create(state, path, body) {
  const r = await api(state, path, { method: 'POST', body });
  if (r.status !== 201 && r.status !== 409) throw new Error(`POST ${path}: ${r.status} ${r.body}`);
}

function apiserverArgs(state) {
  const { pki, dir } = state;
  return [
    `--etcd-servers=http://127.0.0.1:${state.ports.etcd}`,
    // The node reaches the API server over its link; the host's own clients too, so there is
    // one address in every kubeconfig and certificate.
    `--bind-address=${state.net.hostIP}`,
    `--secure-port=${state.ports.apiserver}`,
    `--advertise-address=${state.net.hostIP}`,
    `--tls-cert-file=${pki.apiserver.cert}`,
    `--tls-private-key-file=${pki.apiserver.key}`,
    `--client-ca-file=${pki.caCert}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    `--kubelet-client-certificate=${pki.apiserverKubeletClient.cert}`,
    `--kubelet-client-key=${pki.apiserverKubeletClient.key}`,
    `--kubelet-certificate-authority=${pki.caCert}`,
    '--kubelet-preferred-address-types=InternalIP',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--allow-privileged=true',
    '--enable-priority-and-fairness=false',
    `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
    `--audit-log-path=${join(dir, 'audit.log')}`,
    '--audit-log-format=json',
    '--audit-log-mode=blocking',
  ];
}

/** Start a cluster; resolves with its state (dir, kubeconfig, ports, pids). */
export async function up(opts = {}) {
  const t0 = Date.now();
  if (process.getuid?.() !== 0) throw new Error('testenv: the local node needs root (network namespaces, mounts, cgroups)');
  const bins = build();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kubectl-nixrun-testenv-'));
  const id = randomBytes(2).toString('hex');
  const net = planNetwork(id);
  const nodeName = 'nixrun-node-0';
  const state = {
    dir,
    bins,
    id,
    net,
    nodeName,
    token: randomBytes(24).toString('hex'),
    // A second identity, so tests can count the API requests one CLI run made in the audit log.
    testerToken: randomBytes(24).toString('hex'),
    // A user with no permissions at all, for RBAC tests (grant it what a test needs).
    limitedToken: randomBytes(24).toString('hex'),
    ports: { etcd: await freePort(), etcdPeer: await freePort(), apiserver: 6443, scheduler: await freePort(), controllerManager: await freePort(), kwok: await freePort() },
    procs: {},
    kubeconfig: join(dir, 'kubeconfig'),
    auditLog: join(dir, 'audit.log'),
    restrictedNamespace: 'nixrun-restricted',
    nodes: { real: nodeName, kwok: 'kwok-arm64-0' },
    pauseImage: PAUSE_IMAGE,
    node: {
      dir: join(dir, 'node'),
      runDir: `/run/${net.netns}`,
      containerdRoot: join(dir, 'node', 'containerd'),
      containerdSocket: `/run/${net.netns}/containerd.sock`,
      kubeletRoot: join(dir, 'node', 'kubelet'),
    },
    kubeconfigs: {},
  };
  for (const d of [dir, join(dir, 'logs'), state.node.dir, join(state.node.dir, 'cni'), join(state.node.dir, 'certs.d'), join(state.node.dir, 'pod-logs'), state.node.runDir]) mkdirSync(d, { recursive: true });
  save(state);
  try {
    createNetwork(net);
    createCgroupRoot(net);
    state.networkCreated = true;
    save(state);

    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'tokens.csv'), `${state.token},admin,admin-uid,"system:masters"\n${state.testerToken},tester,tester-uid,"system:masters"\n${state.limitedToken},limited,limited-uid\n`);
    // Metadata of every request, so tests can prove that bad input made no API call.
    writeFileSync(join(dir, 'audit-policy.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ["RequestReceived"]\nrules:\n- level: Metadata\n');
    const pki = makePki(join(dir, 'pki'), { apiserverIPs: [net.hostIP, '10.96.0.1'], nodeName, nodeIP: net.nodeIP });
    state.pki = pki;
    const server = `https://${net.hostIP}:${state.ports.apiserver}`;
    const certUser = (c) => [`client-certificate: ${c.cert}`, `client-key: ${c.key}`];
    const b64 = (f) => readFileSync(f).toString('base64');
    const write = (name, user) => {
      const file = join(dir, name);
      writeFileSync(file, kubeconfig({ server, caCert: pki.caCert, user }));
      return file;
    };
    // Like a kind or kubeadm cluster: the admin authenticates with a client certificate.
    write('kubeconfig', [`client-certificate-data: ${b64(pki.admin.cert)}`, `client-key-data: ${b64(pki.admin.key)}`]);
    state.tokenKubeconfig = write('kubeconfig-token', [`token: ${state.token}`]);
    state.testerKubeconfig = write('kubeconfig-tester', [`token: ${state.testerToken}`]);
    state.limitedKubeconfig = write('kubeconfig-limited', [`token: ${state.limitedToken}`]);
    state.kubeconfigs = {
      controllerManager: write('kubeconfig-controller-manager', certUser(pki.controllerManager)),
      scheduler: write('kubeconfig-scheduler', certUser(pki.scheduler)),
      kubelet: write('kubeconfig-kubelet', certUser(pki.node)),
      kubeProxy: write('kubeconfig-kube-proxy', certUser(pki.kubeProxy)),
      coredns: write('kubeconfig-coredns', certUser(pki.coredns)),
    };
    save(state);

    // --- control plane, on the host ---
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
      '--listen-metrics-urls=',
      '--auto-compaction-retention=1',
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    save(state);
    await waitFor('etcd', async () => (await fetch(`http://127.0.0.1:${state.ports.etcd}/health`)).ok, 30_000, state);
    startProcess(state, 'kube-apiserver', join(bins, 'kube-apiserver'), apiserverArgs(state));
    save(state);

    // The registry and containerd do not need the API server: start them while it comes up.
    await startRegistry(state);
    writeFileSync(join(state.node.dir, 'containerd.toml'), containerdConfig(state));
    writeFileSync(join(state.node.dir, 'cni', '10-nixrun.conflist'), cniConfig(state));
    writeFileSync(join(state.node.dir, 'resolv.conf'), `nameserver ${net.nodeIP}\n`);
    startProcess(state, 'containerd', '/usr/bin/containerd', ['--config', join(state.node.dir, 'containerd.toml')], { wrap: inNode(net) });
    save(state);

    await waitFor('kube-apiserver', async () => (await api(state, '/readyz')).status === 200, 60_000, state);
    const common = (kc, port) => [`--kubeconfig=${kc}`, `--authentication-kubeconfig=${kc}`, `--authorization-kubeconfig=${kc}`, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${port}`];
    startProcess(state, 'kube-controller-manager', join(bins, 'kube-controller-manager'), [
      ...common(state.kubeconfigs.controllerManager, state.ports.controllerManager),
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${join(dir, 'sa.key')}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      // Controllers that act on nodes or need a cloud: not for a one-node test cluster.
      '--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route',
    ]);
    startProcess(state, 'kube-scheduler', join(bins, 'kube-scheduler'), [...common(state.kubeconfigs.scheduler, state.ports.scheduler), '-v=1']);
    for (const { path, body } of COREDNS_RBAC) await create(state, path, body);
    save(state);

    // --- the node ---
    const ctr = ['--address', state.node.containerdSocket, '-n', 'k8s.io'];
    await waitFor('containerd', () => run('ctr', [...ctr, 'version'], { allowFail: true }).status === 0, 30_000, state);
    run('ctr', [...ctr, 'images', 'import', '--all-platforms', join(bins, 'pause.oci.tar')]);
    writeFileSync(join(state.node.dir, 'kubelet.yaml'), kubeletConfig(state));
    startProcess(
      state,
      'kubelet',
      join(bins, 'kubelet'),
      [`--config=${join(state.node.dir, 'kubelet.yaml')}`, `--kubeconfig=${state.kubeconfigs.kubelet}`, `--root-dir=${state.node.kubeletRoot}`, `--hostname-override=${nodeName}`, `--node-ip=${net.nodeIP}`, '--v=1'],
      { wrap: inNode(net) },
    );
    writeFileSync(join(state.node.dir, 'kube-proxy.yaml'), kubeProxyConfig(state));
    startProcess(state, 'kube-proxy', join(bins, 'kube-proxy'), [`--config=${join(state.node.dir, 'kube-proxy.yaml')}`], { wrap: inNode(net) });
    writeFileSync(join(state.node.dir, 'Corefile'), corefile(state));
    startProcess(state, 'coredns', join(bins, 'coredns'), ['-conf', join(state.node.dir, 'Corefile')], { wrap: inNode(net) });
    await startKwok(state);
    save(state);

    await waitFor(
      `node ${nodeName} Ready`,
      async () => {
        const r = await api(state, `/api/v1/nodes/${nodeName}`);
        if (r.status !== 200) return false;
        const n = JSON.parse(r.body);
        return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !(n.spec?.taints?.length > 0);
      },
      60_000,
      state,
    );
    state.nodeReadyMs = Date.now() - t0;
    await create(state, '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: state.restrictedNamespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });
    // kube-controller-manager makes each namespace's default ServiceAccount; pods wait for it.
    await waitFor('the default ServiceAccount', async () => (await api(state, '/api/v1/namespaces/default/serviceaccounts/default')).status === 200, 60_000, state);
    await waitFor('cluster DNS', () => runInNode(net, 'curl', ['-fsS', '--max-time', '1', 'http://127.0.0.1:8181/ready']).status === 0, 30_000, state);
    state.readyMs = Date.now() - t0;
    save(state);
    mkdirSync(CACHE_ROOT, { recursive: true });
    writeFileSync(CURRENT, dir);
    return state;
  } catch (err) {
    down(state);
    throw err;
  }
}

/** Run a command inside the node's network namespace (for checks such as CoreDNS's /ready). */
export function runInNode(net, cmd, args) {
  const [nsenter, ...opts] = inNode(net);
  return run(nsenter, [...opts, cmd, ...args], { allowFail: true });
}

/**
 * The local Nixery on the host (loopback, where the plugin's pre-flight reaches it over plain
 * HTTP, and the node link), and a forwarder on the node's loopback to it: containerd pulls
 * `127.0.0.1:PORT/…` exactly as the plugin names it, over plain HTTP as it does for loopback
 * registries, with no mirror configuration (a mirror would add `?ns=`, which Nixery's routes
 * reject).
 */
async function startRegistry(state) {
  if (!existsSync(NIXERY)) {
    log('testenv/nixery/serve.mjs is missing: no local registry');
    return;
  }
  startProcess(state, 'nixery', process.execPath, [NIXERY, '--listen', '127.0.0.1:0', '--listen', `${state.net.hostIP}:0`]);
  const ready = await waitFor(
    'the local Nixery',
    () => {
      const line = readFileSync(state.procs.nixery.log, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('{') && l.includes('"port"'));
      return line ? JSON.parse(line) : undefined;
    },
    60_000,
    state,
  );
  state.registry = { host: `127.0.0.1:${ready.port}`, port: ready.port };
  startProcess(state, 'registry-forward', 'socat', [`TCP-LISTEN:${ready.port},bind=127.0.0.1,reuseaddr,fork`, `TCP:${state.net.hostIP}:${ready.port}`], { wrap: inNode(state.net) });
  await startPrivateRegistry(state);
}

/**
 * A second local Nixery that wants credentials, as a private registry does: a Bearer challenge
 * whose token endpoint takes basic credentials (what Docker Hub, GHCR and Harbor do). The node
 * pulls from it only with an image pull secret; the plugin's pre-flight only with credentials.
 */
async function startPrivateRegistry(state) {
  const user = 'nixrun';
  const password = randomBytes(12).toString('hex');
  startProcess(state, 'nixery-private', process.execPath, [NIXERY, '--listen', '127.0.0.1:0', '--listen', `${state.net.hostIP}:0`, '--auth-bearer', `${user}:${password}`]);
  const ready = await waitFor(
    'the private local Nixery',
    () => {
      const line = readFileSync(state.procs['nixery-private'].log, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('{') && l.includes('"port"'));
      return line ? JSON.parse(line) : undefined;
    },
    60_000,
    state,
  );
  state.privateRegistry = { host: `127.0.0.1:${ready.port}`, port: ready.port, user, password };
  startProcess(state, 'private-registry-forward', 'socat', [`TCP-LISTEN:${ready.port},bind=127.0.0.1,reuseaddr,fork`, `TCP:${state.net.hostIP}:${ready.port}`], { wrap: inNode(state.net) });
}

async function startKwok(state) {
  const modcache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  const kwokMod = join(modcache, 'sigs.k8s.io', `kwok@${VERSIONS.kwok}`, 'kustomize');
  if (!existsSync(kwokMod)) {
    execFileSync('go', ['mod', 'download', `sigs.k8s.io/kwok@${VERSIONS.kwok}`], { cwd: join(ROOT, 'testenv', 'kwok'), stdio: 'ignore' });
  }
  await create(state, '/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: state.nodes.kwok,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: { type: 'kwok', 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': state.nodes.kwok },
    },
    // There is no arm64 machine here: only pods that ask for it land on this node, and it runs
    // nothing. Tests use it for architecture detection only.
    spec: { taints: [{ key: 'nixrun.test/kwok', value: 'true', effect: 'NoSchedule' }] },
  });
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

/** Every process of the node's containers: they live in its cgroup tree. */
function containerPids(state) {
  const pids = new Set();
  const walk = (d) => {
    try {
      for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) pids.add(Number(p));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      // Gone meanwhile.
    }
  };
  for (const h of ['pids', 'memory', 'freezer', 'cpu', 'unified', '']) walk(join('/sys/fs/cgroup', h, state.net.netns));
  return [...pids];
}

/** The network namespace inode of each process, to find the sandboxes' /run/netns mounts. */
function netnsInodes(pids) {
  const inodes = new Set();
  for (const p of pids) {
    try {
      inodes.add(statSync(`/proc/${p}/ns/net`).ino);
    } catch {
      // Gone meanwhile.
    }
  }
  return inodes;
}

export function down(stateArg) {
  // A restart from another process (a test worker) changed the pids on disk: trust the file.
  let state = stateArg;
  try {
    state = JSON.parse(readFileSync(join(stateArg.dir, 'state.json'), 'utf8'));
  } catch {
    // No state file: use what we were given.
  }
  const procs = state.procs ?? {};
  const node = state.node;
  // 1. The kubelet first, so it does not restart what is stopped next.
  stopProcess(procs.kubelet);
  let sandboxNetns = [];
  if (node && state.net) {
    const pids = containerPids(state);
    const inodes = netnsInodes(pids);
    sandboxNetns = sandboxNetnsPaths(node);
    try {
      for (const f of readdirSync('/run/netns')) {
        const p = join('/run/netns', f);
        try {
          if (inodes.has(statSync(p).ino)) sandboxNetns.push(p);
        } catch {
          // Not a namespace mount.
        }
      }
    } catch {
      // No /run/netns.
    }
    // 2. Every container process, then the shims that ran them, then containerd.
    for (const pid of [...pids, ...shimPids(node)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  // The node's daemons, the registries, then the control plane (etcd last); then anything else
  // recorded, so a process added to up() is never left running.
  const order = ['containerd', 'kube-proxy', 'coredns', 'registry-forward', 'private-registry-forward', 'kwok', 'nixery', 'nixery-private', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
  for (const name of [...order, ...Object.keys(procs).filter((n) => !order.includes(n))]) stopProcess(procs[name]);
  if (node) for (const pid of shimPids(node)) stopProcess({ pid }, 'SIGKILL', 1000);
  // 3. Mounts (overlay root filesystems, shm, volumes, the kubelet's own bind mount, the pods'
  // network namespaces), the node's network namespace (veth, bridge, routes, iptables rules go
  // with it), its cgroups, files the runtime keeps outside our directories.
  if (node) {
    unmountAll([state.dir, node.runDir, ...new Set(sandboxNetns)]);
    for (const p of new Set(sandboxNetns)) rmSync(p, { force: true });
  }
  if (state.net && state.networkCreated) {
    deleteNetwork(state.net);
    for (let i = 0; i < 20 && removeCgroupRoot(state.net).length > 0; i++) execFileSync('sleep', ['0.1']);
  }
  removeOwnedFiles(state);
  if (state.etcdData?.startsWith('/dev/shm/')) rmSync(state.etcdData, { recursive: true, force: true });
  if (node) rmSync(node.runDir, { recursive: true, force: true });
  if (!process.env.NIXRUN_TESTENV_KEEP) rmSync(state.dir, { recursive: true, force: true });
  try {
    if (readFileSync(CURRENT, 'utf8') === state.dir) rmSync(CURRENT);
  } catch {
    // No pointer to remove.
  }
}

/**
 * The kubelet links container logs into /var/log/containers and the CNI library caches results
 * in /var/lib/cni, whatever the configuration says: remove what points into this cluster.
 */
function removeOwnedFiles(state) {
  try {
    for (const f of readdirSync('/var/log/containers')) {
      const p = join('/var/log/containers', f);
      try {
        if (lstatSync(p).isSymbolicLink() && readlinkSync(p).startsWith(state.dir)) rmSync(p);
      } catch {
        // Gone meanwhile.
      }
    }
  } catch {
    // No such directory.
  }
  for (const d of ['/var/lib/cni/results', '/var/lib/cni/cache/results']) {
    try {
      for (const f of readdirSync(d)) if (f.startsWith(`nixrun-${state.id}-`)) rmSync(join(d, f), { force: true });
    } catch {
      // No such directory.
    }
  }
}

/**
 * Stop kube-apiserver (gracefully, or `crash: true` for SIGKILL, which drops every connection at
 * once), wait, start it again with the same flags and ports. Resolves once the cluster works
 * again: the API is ready and the node is Ready again.
 */
export async function restartApiserver(state, downMs = 0, opts = {}) {
  const p = state.procs['kube-apiserver'];
  stopProcess(p, opts.crash ? 'SIGKILL' : 'SIGTERM');
  await new Promise((r) => setTimeout(r, downMs));
  startProcess(state, 'kube-apiserver', p.bin, p.args);
  save(state);
  await waitFor('kube-apiserver (restarted)', async () => (await api(state, '/readyz')).status === 200, 60_000, state);
  const probe = `probe-${randomBytes(3).toString('hex')}`;
  // Right after /readyz the admission chain may still answer "not yet ready to handle request".
  await waitFor(
    'the probe namespace',
    async () => [201, 409].includes((await api(state, '/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: probe } } })).status),
    30_000,
    state,
  );
  await ensureControllers(state, probe);
  await ensureScheduling(state, probe);
}

/**
 * Right after a restart the API server's RBAC cache is empty, and kube-controller-manager's
 * informers that were refused (403) back off for a minute or more before the namespace's default
 * ServiceAccount appears. The next test cannot wait that long: restart the controller manager
 * when the probe namespace has none after 5 s.
 */
async function ensureControllers(state, namespace) {
  const sa = async () => (await api(state, `/api/v1/namespaces/${namespace}/serviceaccounts/default`)).status === 200;
  await restartIfSlow(state, 'kube-controller-manager', 'the probe namespace’s ServiceAccount', sa, 5000);
}

/**
 * After an API outage, client-go's reflectors in kube-scheduler retry with a backoff that grows
 * to 30 s, so the next test's pod could sit unscheduled for that long. A real scheduler catches
 * up eventually; tests need it now: schedule a probe pod, and restart the scheduler if it is slow.
 */
async function ensureScheduling(state, namespace) {
  const name = `probe-${randomBytes(3).toString('hex')}`;
  const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { restartPolicy: 'Never', containers: [{ name: 'probe', image: state.pauseImage, imagePullPolicy: 'Never' }] } };
  const r = await api(state, `/api/v1/namespaces/${namespace}/pods`, { method: 'POST', body });
  if (r.status !== 201) throw new Error(`probe pod: HTTP ${r.status} ${r.body}`);
  const bound = async () => JSON.parse((await api(state, `/api/v1/namespaces/${namespace}/pods/${name}`)).body).spec?.nodeName;
  await restartIfSlow(state, 'kube-scheduler', 'the scheduler to bind the probe pod', bound, 3000);
  await api(state, `/api/v1/namespaces/${namespace}/pods/${name}?gracePeriodSeconds=0`, { method: 'DELETE' });
}

/** Wait `patienceMs` for `check`; if it is still false, restart the component and wait longer. */
async function restartIfSlow(state, component, what, check, patienceMs) {
  try {
    await waitFor(what, check, patienceMs);
  } catch {
    log(`${component} is backing off after the outage: restarting it`);
    const p = state.procs[component];
    stopProcess(p);
    startProcess(state, component, p.bin, p.args);
    save(state);
    await waitFor(`${what} (after restarting ${component})`, check, 60_000, state);
  }
}

export function loadState(dir) {
  const d = dir ?? (existsSync(CURRENT) ? readFileSync(CURRENT, 'utf8') : undefined);
  if (!d || !existsSync(join(d, 'state.json'))) throw new Error('testenv: no running cluster found (run: npm run cluster:up)');
  return JSON.parse(readFileSync(join(d, 'state.json'), 'utf8'));
}

/** Shell exports for a running cluster: its kubeconfig, its registry, its kubectl first on PATH. */
export function envExports(state) {
  const q = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;
  return [`export KUBECONFIG=${q(state.kubeconfig)}`, `export NIXRUN_REGISTRY=${q(state.registry?.host ?? '')}`, `export PATH=${q(state.bins)}:"$PATH"`].join('\n');
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
      log(`node Ready in ${(state.nodeReadyMs / 1000).toFixed(1)}s, cluster ready in ${(state.readyMs / 1000).toFixed(1)}s`);
      process.stdout.write(`KUBECONFIG=${state.kubeconfig}\n`);
      break;
    }
    case 'env':
      process.stdout.write(`${envExports(loadState(flag('--dir')))}\n`);
      break;
    case 'down':
      down(loadState(flag('--dir')));
      break;
    case 'restart-apiserver':
      await restartApiserver(loadState(flag('--dir')), Number(flag('--down-ms') ?? 0), { crash: rest.includes('--crash') });
      break;
    default:
      process.stderr.write('usage: node scripts/testenv.mjs build|up|env|down|restart-apiserver [--dir DIR] [--down-ms N] [--crash]\n');
      process.exit(2);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  cli().catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
}

export { alive, tail };
