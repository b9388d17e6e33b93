import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

/** What a cluster could leave behind on the host, as plain strings to compare. */
function footprint(): { netns: string[]; links: string[]; iptables: string[]; mounts: string[]; cgroups: string[] } {
  const lines = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  return {
    netns: existsSync('/run/netns') ? readdirSync('/run/netns').sort() : [],
    links: lines('ip', ['-o', 'link', 'show']).map((l) => l.split(':')[1]!.trim().split('@')[0]!).sort(),
    // The host's own rules (counters dropped): the node's live in its namespace.
    iptables: lines('iptables-save', []).filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/, '')),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => /nixrun|kubelet|containerd|netns/.test(p)).sort(),
    cgroups: readdirSync('/sys/fs/cgroup').flatMap((h) => {
      try {
        return readdirSync(`/sys/fs/cgroup/${h}`).filter((d) => d.startsWith('nixrun-') || d === 'kubepods').map((d) => `${h}/${d}`);
      } catch {
        return [];
      }
    }),
  };
}

describe('scripts/testenv.mjs', () => {
  it('`down` leaves nothing: processes, mounts, network namespaces, links, iptables rules, cgroups', async () => {
    const before = footprint();
    const state = (await up()) as Started;
    let pids: number[] = [];
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
      const during = footprint();
      expect(during.netns).toContain(state.net.netns);
      expect(during.netns.length).toBeGreaterThan(before.netns.length + 1); // the pod's own
      expect(during.links).toContain(state.net.hostIf);
      expect(during.mounts.length).toBeGreaterThan(before.mounts.length);
      pids = Object.values(state.procs).map((p) => p.pid);
    } finally {
      down(state);
    }
    const after = footprint();
    expect(after).toEqual(before);
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
