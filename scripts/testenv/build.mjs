// The cluster's binaries, built from the official Go modules into a cache outside the repo: the
// control plane and the node's kubelet and kube-proxy from one wrapper module (testenv/kube, one
// Kubernetes version for all), etcd, CoreDNS, kwok (a second, arm64-labelled node), kubectl and
// krew (the plugin tests use them), and the pod sandbox's pause binary. containerd, runc and the
// CNI plugins are Debian's (scripts/ci-testenv.sh installs them); their versions are recorded.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from './proc.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TESTENV = join(ROOT, 'testenv');
export const VERSIONS = { kubernetes: 'v1.34.4', etcd: 'v3.6.16', coredns: 'v1.13.2', kwok: 'v0.8.0', krew: 'v0.4.3' };
export const CACHE_ROOT = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kubectl-nixrun', 'testenv');
export const DEBIAN_PACKAGES = ['containerd', 'runc', 'containernetworking-plugins', 'iptables', 'iproute2', 'socat', 'conntrack'];

const KUBE = ['kube-apiserver', 'kube-scheduler', 'kube-controller-manager', 'kubelet', 'kube-proxy'];
const BINARIES = [...KUBE, 'etcd', 'coredns', 'kwok', 'kubectl', 'krew', 'validate-krew-manifest', 'pause.oci.tar'];

function goVersion() {
  return execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
}

/** The cache key changes when a pin, the Go version or one of our sources changes. */
function cacheDir() {
  const h = createHash('sha256');
  const add = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      h.update(e.name);
      if (e.isDirectory()) add(join(d, e.name));
      else h.update(readFileSync(join(d, e.name)));
    }
  };
  for (const dir of ['kube', 'etcd', 'coredns', 'kwok', 'krew', 'pause']) add(join(TESTENV, dir));
  h.update(goVersion()).update(process.arch);
  return join(CACHE_ROOT, `k8s-${VERSIONS.kubernetes}-etcd-${VERSIONS.etcd}-coredns-${VERSIONS.coredns}-${h.digest('hex').slice(0, 12)}`);
}

export function binDir() {
  return cacheDir();
}

/** The installed Debian package versions the node runs (recorded, not pinned: Debian 12's). */
export function debianVersions() {
  const out = {};
  for (const p of DEBIAN_PACKAGES) {
    try {
      out[p] = execFileSync('dpkg-query', ['-W', '-f=${Version}', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      out[p] = null;
    }
  }
  return out;
}

/** Build whatever is missing from the cache (CGO off, trimmed, stripped, version-stamped). */
export function build() {
  const out = cacheDir();
  const missing = BINARIES.filter((b) => !existsSync(join(out, b)));
  if (missing.length === 0) return out;
  mkdirSync(out, { recursive: true });
  const env = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-trimpath' };
  const go = (dir, args) => {
    const t0 = Date.now();
    log(`go ${args.join(' ')} (in testenv/${dir})`);
    execFileSync('go', args, { cwd: join(TESTENV, dir), env, stdio: ['ignore', 'inherit', 'inherit'] });
    log(`  done in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  };
  const stamp = (v) => {
    const [maj, min] = v.slice(1).split('.');
    const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']
      .flatMap((p) => [`-X ${p}.gitVersion=${v}`, `-X ${p}.gitMajor=${maj}`, `-X ${p}.gitMinor=${min}`, `-X ${p}.gitTreeState=clean`, `-X ${p}.buildDate=${date}`])
      .join(' ');
  };
  const k8s = `-ldflags=-s -w ${stamp(VERSIONS.kubernetes)}`;
  if (missing.some((b) => KUBE.includes(b))) {
    // The kubelet's SELinux and seccomp support compile in without cgo; `notest` drops test hooks.
    go('kube', ['build', '-tags=selinux,notest', k8s, '-o', `${out}/`, ...KUBE.map((b) => `k8s.io/kubernetes/cmd/${b}`)]);
  }
  if (missing.includes('kubectl')) go('kube', ['build', k8s, '-o', join(out, 'kubectl'), 'k8s.io/kubernetes/cmd/kubectl']);
  if (missing.includes('krew') || missing.includes('validate-krew-manifest')) {
    go('krew', ['build', `-ldflags=-s -w -X sigs.k8s.io/krew/internal/version.gitTag=${VERSIONS.krew}`, '-o', `${out}/`, 'sigs.k8s.io/krew/cmd/krew', 'sigs.k8s.io/krew/cmd/validate-krew-manifest']);
  }
  if (missing.includes('etcd')) go('etcd', ['build', '-ldflags=-s -w', '-o', join(out, 'etcd'), '.']);
  if (missing.includes('coredns')) {
    go('coredns', ['build', `-ldflags=-s -w -X github.com/coredns/coredns/coremain.GitCommit=${VERSIONS.coredns}`, '-o', join(out, 'coredns'), '.']);
  }
  if (missing.includes('kwok')) go('kwok', ['build', '-ldflags=-s -w', '-o', join(out, 'kwok'), 'sigs.k8s.io/kwok/cmd/kwok']);
  if (missing.includes('pause.oci.tar')) buildPauseImage(out);
  writeFileSync(join(out, 'versions.json'), `${JSON.stringify({ ...VERSIONS, go: goVersion(), debian: debianVersions(), builtAt: new Date().toISOString() }, null, 2)}\n`);
  // Builds for older pins are dead weight (about 600 MB each); one from today may belong to
  // another checkout on this machine.
  for (const d of readdirSync(CACHE_ROOT)) {
    const p = join(CACHE_ROOT, d);
    if (d.startsWith('k8s-') && p !== out && Date.now() - statSync(p).mtimeMs > 86_400_000) rmSync(p, { recursive: true, force: true });
  }
  return out;
}

export const PAUSE_IMAGE = 'localhost/nixrun/pause:1';

/**
 * The sandbox image as an OCI archive for `ctr images import`: one layer holding /pause (static),
 * with fixed timestamps and owners so every build gives the same digest.
 */
function buildPauseImage(out) {
  const work = mkdtempSync(join(tmpdir(), 'nixrun-pause-'));
  try {
    const rootfs = join(work, 'rootfs');
    mkdirSync(rootfs);
    execFileSync('gcc', ['-static', '-Os', '-s', '-o', join(rootfs, 'pause'), join(TESTENV, 'pause', 'pause.c')]);
    const layer = join(work, 'layer.tar');
    execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', rootfs, '-cf', layer, 'pause']);
    const layout = join(work, 'oci');
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    const blob = (data) => {
      const digest = createHash('sha256').update(data).digest('hex');
      writeFileSync(join(layout, 'blobs', 'sha256', digest), data);
      return { digest: `sha256:${digest}`, size: data.length };
    };
    const layerBlob = blob(readFileSync(layer));
    const config = blob(
      Buffer.from(
        JSON.stringify({
          architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
          os: 'linux',
          config: { Entrypoint: ['/pause'], User: '65535:65535' },
          rootfs: { type: 'layers', diff_ids: [layerBlob.digest] },
        }),
      ),
    );
    const manifest = blob(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layerBlob }],
        }),
      ),
    );
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'io.containerd.image.name': PAUSE_IMAGE, 'org.opencontainers.image.ref.name': '1' } }],
      }),
    );
    execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', layout, '-cf', join(out, 'pause.oci.tar'), '.']);
    log(`pause image ${manifest.digest}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
