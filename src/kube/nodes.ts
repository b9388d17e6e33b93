import type { Kube } from './client.js';
import { explainApiError, httpStatus } from './errors.js';

export type NodeArch = 'amd64' | 'arm64';

export interface ArchDecision {
  arch: NodeArch;
  /** Why, in a few words, for the user when it was a guess. */
  note?: string;
}

/**
 * The image's architecture for --arch auto: the named node's, else the one most schedulable
 * nodes share. Nixery images are single-arch, so the pod is then pinned to nodes of that arch.
 */
export async function detectArch(kube: Kube, node: string | undefined): Promise<ArchDecision> {
  try {
    if (node !== undefined) {
      const n = await kube.core.readNode({ name: node });
      return { arch: toArch(n.metadata?.labels?.['kubernetes.io/arch']) ?? 'amd64' };
    }
    const list = await kube.core.listNode({ labelSelector: 'kubernetes.io/os=linux' });
    const counts = new Map<NodeArch, number>();
    for (const n of list.items) {
      if (n.spec?.unschedulable) continue;
      const arch = toArch(n.metadata?.labels?.['kubernetes.io/arch']);
      if (arch) counts.set(arch, (counts.get(arch) ?? 0) + 1);
    }
    if (counts.size === 0) return { arch: 'amd64', note: 'no schedulable linux nodes seen; assuming amd64' };
    const arm = counts.get('arm64') ?? 0;
    const amd = counts.get('amd64') ?? 0;
    return { arch: arm > amd ? 'arm64' : 'amd64' };
  } catch (err) {
    const status = httpStatus(err);
    if (status === 404 && node !== undefined) return { arch: 'amd64', note: `node ${node} not found; assuming amd64` };
    if (status === 403) return { arch: 'amd64', note: 'not allowed to read nodes; assuming amd64 (set --arch to choose)' };
    throw explainApiError(err, { action: "read the nodes' architecture", namespace: kube.namespace, server: kube.server, proxy: kube.proxy });
  }
}

function toArch(label: string | undefined): NodeArch | undefined {
  return label === 'amd64' || label === 'arm64' ? label : undefined;
}
