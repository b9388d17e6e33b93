import type { V1Pod } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import type { Kube } from '../kube/client.js';
import { deletePod } from '../kube/pods.js';
import { MANAGED_BY_SELECTOR, OWNER_ANNOTATIONS } from '../pod/index.js';

export interface StaleReason {
  pod: V1Pod;
  reason: string;
}

/**
 * Why a pod of ours is garbage, or undefined when it may still be in use:
 * - its owner process ran on this host and is gone (kill -9, crash, closed laptop lid);
 * - it finished (Succeeded/Failed, e.g. past its deadline) and nobody deleted it;
 * - it is older than the TTL, whoever owns it.
 * Pods started with --keep are only removed by the TTL.
 */
export function staleReason(pod: V1Pod, opts: { host: string; now: number; ttlMs?: number; isAlive: (pid: number) => boolean }): string | undefined {
  const ann = pod.metadata?.annotations ?? {};
  if (pod.metadata?.deletionTimestamp) return undefined;
  const created = Date.parse(String(pod.metadata?.creationTimestamp ?? ann[OWNER_ANNOTATIONS.startedAt] ?? ''));
  const ageMs = Number.isNaN(created) ? 0 : opts.now - created;
  if (opts.ttlMs !== undefined && ageMs > opts.ttlMs) return `older than ${Math.round(opts.ttlMs / 3_600_000)}h`;
  if (ann['nixrun.dev/keep'] === 'true') return undefined;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return `finished (${phase}${pod.status?.reason ? `, ${pod.status.reason}` : ''})`;
  const pid = Number(ann[OWNER_ANNOTATIONS.pid]);
  if (ann[OWNER_ANNOTATIONS.host] === opts.host && Number.isInteger(pid) && pid > 0 && pid !== process.pid && !opts.isAlive(pid)) {
    return `owner process ${pid} on this host is gone`;
  }
  return undefined;
}

export function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function findStale(kube: Kube, opts: { allNamespaces: boolean; ttlMs?: number }): Promise<StaleReason[]> {
  const list = opts.allNamespaces
    ? await kube.core.listPodForAllNamespaces({ labelSelector: MANAGED_BY_SELECTOR })
    : await kube.core.listNamespacedPod({ namespace: kube.namespace, labelSelector: MANAGED_BY_SELECTOR });
  const ctx = { host: hostname(), now: Date.now(), isAlive: pidIsAlive, ...(opts.ttlMs === undefined ? {} : { ttlMs: opts.ttlMs }) };
  const stale: StaleReason[] = [];
  for (const pod of list.items) {
    const reason = staleReason(pod, ctx);
    if (reason) stale.push({ pod, reason });
  }
  return stale;
}

/** The cheap sweep at start: our own namespace, no TTL, never slows the run down on failure. */
export async function sweepStale(kube: Kube, opts: { signal: AbortSignal }): Promise<number> {
  const stale = await findStale(kube, { allNamespaces: false });
  let n = 0;
  for (const { pod } of stale) {
    if (opts.signal.aborted) break;
    const name = pod.metadata?.name;
    if (!name) continue;
    if ((await deletePod(kube, name, { gracePeriodSeconds: 0, retryForMs: 0 }).catch(() => 'failed')) === 'deleted') n++;
  }
  return n;
}
