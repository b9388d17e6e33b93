// The cluster's node, as kind makes one: its own network namespace joined to the host by a veth
// pair, with containerd (Debian's, own root/state/socket), runc, a CNI bridge for the pods, the
// kubelet, kube-proxy and CoreDNS inside it. Test traffic stays on loopback and on that veth
// link: the node namespace has no default route, so nothing a pod sends can leave the machine.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './proc.mjs';

// Link 10.213.N.0/24 (host .1, node .2) and pods 10.214.N.0/24: N is free on this machine, so
// several clusters (tests, the demo) can run at once.
const LINK_PREFIX = '10.213';
const POD_PREFIX = '10.214';
export const SERVICE_CIDR = '10.96.0.0/16';
export const CLUSTER_DOMAIN = 'cluster.local';

/** Names and addresses for a new node (pure but for reading what is already in use). */
export function planNetwork(id) {
  const used = new Set();
  const addrs = run('ip', ['-4', '-o', 'addr', 'show'], { allowFail: true }).stdout ?? '';
  for (const m of addrs.matchAll(new RegExp(`inet ${LINK_PREFIX.replace('.', '\\.')}\\.(\\d+)\\.`, 'g'))) used.add(Number(m[1]));
  let n = 1 + (parseInt(createHash('sha256').update(id).digest('hex').slice(0, 4), 16) % 250);
  while (used.has(n)) n = (n % 250) + 1;
  return {
    netns: `nixrun-${id}`,
    hostIf: `nr${id}`,
    peerIf: `nr${id}p`, // renamed to eth0 inside the namespace
    hostIP: `${LINK_PREFIX}.${n}.1`,
    nodeIP: `${LINK_PREFIX}.${n}.2`,
    podCIDR: `${POD_PREFIX}.${n}.0/24`,
  };
}

export function createNetwork(net) {
  const ip = (...args) => run('ip', args);
  ip('netns', 'add', net.netns);
  ip('link', 'add', net.hostIf, 'type', 'veth', 'peer', 'name', net.peerIf);
  ip('link', 'set', net.peerIf, 'netns', net.netns);
  ip('addr', 'add', `${net.hostIP}/24`, 'dev', net.hostIf);
  ip('link', 'set', net.hostIf, 'up');
  ip('-n', net.netns, 'link', 'set', net.peerIf, 'name', 'eth0');
  ip('-n', net.netns, 'addr', 'add', `${net.nodeIP}/24`, 'dev', 'eth0');
  ip('-n', net.netns, 'link', 'set', 'eth0', 'up');
  ip('-n', net.netns, 'link', 'set', 'lo', 'up');
  // The pods' bridge routes between pods and the link; the CNI bridge plugin needs forwarding.
  run('ip', ['netns', 'exec', net.netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
}

/** Deleting the namespace takes its veth end, the bridge, its routes and all its iptables rules. */
export function deleteNetwork(net) {
  run('ip', ['netns', 'delete', net.netns], { allowFail: true });
  run('ip', ['link', 'delete', net.hostIf], { allowFail: true });
}

/** Processes of the node run in its network namespace but share the host's mounts. */
export function inNode(net) {
  return ['nsenter', `--net=/run/netns/${net.netns}`, '--'];
}

/** containerd 1.6 (Debian 12) for one node; nothing shared with a system containerd. */
export function containerdConfig(state) {
  const { node } = state;
  return `# Written by scripts/testenv (node ${state.nodeName}).
version = 2
root = "${node.containerdRoot}"
state = "${node.runDir}/containerd"
# No oom_score: root in this VM lacks CAP_SYS_RESOURCE, so lowering oom_score_adj fails (EPERM).

[grpc]
  address = "${node.containerdSocket}"

[ttrpc]
  address = "${node.runDir}/containerd.sock.ttrpc"

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "${state.pauseImage}"
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_unprivileged_icmp = false
    enable_unprivileged_ports = false
    disable_hugetlb_controller = true
    tolerate_missing_hugetlb_controller = true
    # Required here: without CAP_SYS_RESOURCE runc cannot give the sandbox oom_score_adj -998
    # ("can't get final child's PID from pipe: EOF"); this clamps it to containerd's own score.
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          BinaryName = "/usr/sbin/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "${node.dir}/cni"
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "${node.dir}/certs.d"
`;
}

export function cniConfig(state) {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: `nixrun-${state.id}`,
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: state.net.podCIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: `${state.node.runDir}/cni-ipam` },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export function kubeletConfig(state) {
  const { node, pki } = state;
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://${node.containerdSocket}
imageServiceEndpoint: unix://${node.containerdSocket}
cgroupDriver: cgroupfs
# Every node of every test cluster has its own cgroup tree, so two clusters never share kubepods.
cgroupRoot: /${state.net.netns}
failCgroupV1: false
failSwapOn: false
# The default -999 needs CAP_SYS_RESOURCE, which root lacks in this VM.
oomScoreAdj: 0
address: ${state.net.nodeIP}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: ${pki.kubeletServing.cert}
tlsPrivateKeyFile: ${pki.kubeletServing.key}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${pki.caCert}}
authorization:
  mode: Webhook
clusterDomain: ${CLUSTER_DOMAIN}
clusterDNS: [${state.net.nodeIP}]
resolvConf: ${node.dir}/resolv.conf
podLogsDir: ${node.dir}/pod-logs
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%"
  nodefs.inodesFree: "1%"
  imagefs.available: "1%"
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
nodeStatusReportFrequency: 10s
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
fileCheckFrequency: 5s
serializeImagePulls: false
maxPods: 60
rotateCertificates: false
serverTLSBootstrap: false
shutdownGracePeriod: 0s
`;
}

export function kubeProxyConfig(state) {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: ${state.kubeconfigs.kubeProxy}
hostnameOverride: ${state.nodeName}
bindAddress: ${state.net.nodeIP}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
clusterCIDR: ${state.net.podCIDR}
nodePortAddresses: [primary]
conntrack:
  # Leave the host's conntrack table size alone.
  maxPerCore: 0
`;
}

/** Cluster names only: no forward plugin, so a query for anything else is refused. */
export function corefile(state) {
  return `${CLUSTER_DOMAIN}:53 in-addr.arpa:53 ip6.arpa:53 {
    bind ${state.net.nodeIP}
    errors
    ready 127.0.0.1:8181
    health 127.0.0.1:8080
    cache 5
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        kubeconfig ${state.kubeconfigs.coredns}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
}
`;
}

/** The RBAC CoreDNS needs (kubeadm's system:coredns ClusterRole), bound to its client certificate. */
export const COREDNS_RBAC = [
  {
    path: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
  },
  {
    path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:coredns' }],
    },
  },
];

/** cgroup v1 hierarchies (or the v2 root) mounted on this machine. */
function cgroupMounts() {
  const out = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const fstype = post.split(' ')[0];
    if (fstype === 'cgroup' || fstype === 'cgroup2') out.push({ path: pre.split(' ')[4], fstype });
  }
  return out;
}

/**
 * The kubelet insists that its cgroupRoot exists in every hierarchy. cpuset children start with
 * no CPUs and no memory nodes, so they get the parent's.
 */
export function createCgroupRoot(net) {
  for (const { path } of cgroupMounts()) {
    const dir = join(path, net.netns);
    mkdirSync(dir, { recursive: true });
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(path, f))) writeFileSync(join(dir, f), readFileSync(join(path, f), 'utf8').trim() || '0');
    }
  }
}

/** Remove the node's cgroup tree, leaves first (a cgroup with processes cannot be removed). */
export function removeCgroupRoot(net) {
  const left = [];
  const rm = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rm(join(dir, e.name));
    try {
      rmdirSync(dir);
    } catch {
      left.push(dir);
    }
  };
  for (const { path } of cgroupMounts()) {
    const dir = join(path, net.netns);
    if (existsSync(dir)) rm(dir);
  }
  return left;
}

/** Mount points at or below any of `prefixes`, deepest first. */
export function mountsUnder(prefixes) {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p && prefixes.some((pre) => p === pre || p.startsWith(`${pre}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export function unmountAll(prefixes) {
  // A bind mount of a directory onto itself (the kubelet's root dir) can be stacked: repeat.
  for (let i = 0; i < 5; i++) {
    const points = mountsUnder(prefixes);
    if (points.length === 0) return;
    for (const p of points) run('umount', ['-l', p], { allowFail: true });
  }
}

/**
 * The processes containerd started (shims, and under them the containers): found by the socket
 * path in their command line, so nothing of another cluster or of a system containerd matches.
 */
export function shimPids(node) {
  const pids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('containerd-shim-runc-v2') && cmd.includes(node.containerdSocket)) pids.push(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** Network namespaces of the node's pod sandboxes (containerd mounts them under /run/netns). */
export function sandboxNetnsPaths(node) {
  const paths = new Set();
  const ctr = ['--address', node.containerdSocket, '-n', 'k8s.io'];
  const ids = run('ctr', [...ctr, 'containers', 'ls', '-q'], { allowFail: true }).stdout?.split('\n').filter(Boolean) ?? [];
  for (const id of ids) {
    const info = run('ctr', [...ctr, 'containers', 'info', id], { allowFail: true });
    if (info.status !== 0) continue;
    try {
      for (const ns of JSON.parse(info.stdout).Spec?.linux?.namespaces ?? []) {
        if (ns.type === 'network' && ns.path?.startsWith('/var/run/netns/')) paths.add(ns.path.replace('/var/run/', '/run/'));
        if (ns.type === 'network' && ns.path?.startsWith('/run/netns/')) paths.add(ns.path);
      }
    } catch {
      // Not JSON: skip.
    }
  }
  return [...paths];
}

export function removePath(p) {
  rmSync(p, { recursive: true, force: true });
}
