import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/cluster.js';
// @ts-expect-error: a plain .mjs script shared with `npm run cluster:up`.
import { alive, down, envExports, up } from '../../scripts/testenv.mjs';

interface Started {
  dir: string;
  kubeconfig: string;
  pauseImage: string;
  net: { netns: string; hostIf: string };
  node: { runDir: string };
  registry?: { host: string };
  bins: string;
  procs: Record<string, { pid: number }>;
}

/**
 * What a cluster could leave behind on the host, as plain strings to compare. Another cluster
 * (the suite's own) runs meanwhile, and its pods' network namespaces and volume mounts come and
 * go: those are compared only for this cluster (`mine`), everything else as a whole.
 */
function footprint(): { netns: string[]; links: string[]; iptables: string[] } {
  const lines = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  return {
    netns: existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => !n.startsWith('cni-')).sort() : [],
    links: lines('ip', ['-o', 'link', 'show']).map((l) => l.split(':')[1]!.trim().split('@')[0]!).sort(),
    // The host's own rules (counters dropped): a node's live in its namespace.
    iptables: lines('iptables-save', []).filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/, '')),
  };
}

/** This cluster's mounts, cgroups and sandbox network namespaces. */
function mine(state: Started, sandboxNetns: string[]): { mounts: string[]; cgroups: string[]; sandboxes: string[] } {
  const prefixes = [state.dir, state.node.runDir, ...sandboxNetns];
  return {
    mounts: readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((p) => prefixes.some((pre) => p === pre || p.startsWith(`${pre}/`))),
    cgroups: readdirSync('/sys/fs/cgroup').filter((h) => existsSync(`/sys/fs/cgroup/${h}/${state.net.netns}`)),
    sandboxes: sandboxNetns.filter((p) => existsSync(p)),
  };
}

/** /run/netns entries that are the network namespace of one of these processes. */
function netnsOf(pids: number[]): string[] {
  const inodes = new Set(pids.flatMap((p) => {
    try {
      return [statSync(`/proc/${p}/ns/net`).ino];
    } catch {
      return [];
    }
  }));
  return readdirSync('/run/netns').map((n) => `/run/netns/${n}`).filter((p) => inodes.has(statSync(p).ino));
}

describe('scripts/testenv.mjs', () => {
  it('`down` leaves nothing: processes, mounts, network namespaces, links, iptables rules, cgroups', async () => {
    const before = footprint();
    const state = (await up()) as Started;
    let pids: number[] = [];
    let sandboxNetns: string[] = [];
    try {
      // Exports for a shell: the kubeconfig, the registry, the cluster's kubectl first on PATH.
      const exports = envExports(state) as string;
      expect(exports).toContain(`export KUBECONFIG='${state.kubeconfig}'`);
      expect(exports).toMatch(/^export NIXRUN_REGISTRY='127\.0\.0\.1:\d+'$/m);
      expect(exports).toContain(`export PATH='${state.bins}':"$PATH"`);
      // A running pod, so there are containers, mounts and a sandbox network namespace to clean.
      const kc = new KubeConfig();
      kc.loadFromFile(state.kubeconfig);
      const api = kc.makeApiClient(CoreV1Api);
      await waitFor(async () => (await api.readNamespacedServiceAccount({ name: 'default', namespace: 'default' })).metadata, 30_000, 'the default ServiceAccount');
      await api.createNamespacedPod({
        namespace: 'default',
        body: { metadata: { name: 'left-running' }, spec: { containers: [{ name: 'p', image: state.pauseImage, imagePullPolicy: 'Never' }] } },
      });
      await waitFor(async () => (await api.readNamespacedPod({ name: 'left-running', namespace: 'default' })).status?.phase === 'Running', 60_000, 'the pod to run');
      // The pod's sandbox: the pause process in this node's cgroups (not the suite cluster's).
      const pause = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8') === '/pause\0' && readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(`/${state.net.netns}/`);
        } catch {
          return false;
        }
      });
      sandboxNetns = netnsOf(pause).filter((p) => p.includes('/cni-'));
      const during = footprint();
      expect(during.netns).toContain(state.net.netns);
      expect(during.links).toContain(state.net.hostIf);
      const inUse = mine(state, sandboxNetns);
      expect(inUse.sandboxes.length).toBeGreaterThan(0);
      expect(inUse.mounts.length).toBeGreaterThan(0);
      expect(inUse.cgroups.length).toBeGreaterThan(0);
      pids = Object.values(state.procs).map((p) => p.pid);
    } finally {
      down(state);
    }
    expect(footprint()).toEqual(before);
    expect(mine(state, sandboxNetns)).toEqual({ mounts: [], cgroups: [], sandboxes: [] });
    // (A stopped child of this process is a zombie until the event loop reaps it: not alive.)
    expect(pids.filter((p) => alive(p))).toEqual([]);
    // Nothing of the cluster's processes (shims, containers) is left: none names its directories.
    const stray = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
          return cmd.includes(state.dir) || cmd.includes(state.node.runDir);
        } catch {
          return false;
        }
      });
    expect(stray).toEqual([]);
    expect(existsSync(state.dir)).toBe(false);
  }, 180_000);
});
