import type { V1Pod } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import type { Kube } from '../kube/client.js';
import { deletePod, listOurPods } from '../kube/pods.js';
import { pidIsAlive, staleReason } from './stale.js';

export interface StalePod {
  pod: V1Pod;
  reason: string;
}

/** Our pods (by label) that nobody will come back for, each with why. */
export async function findStale(kube: Kube, opts: { allNamespaces: boolean; ttlMs?: number }): Promise<StalePod[]> {
  const pods = await listOurPods(kube, { allNamespaces: opts.allNamespaces });
  const ctx = { host: hostname(), pid: process.pid, now: Date.now(), isAlive: pidIsAlive, ttlMs: opts.ttlMs };
  const stale: StalePod[] = [];
  for (const pod of pods) {
    const reason = staleReason(pod, ctx);
    if (reason) stale.push({ pod, reason });
  }
  return stale;
}

/** The cheap sweep at a session's start: our own namespace, no TTL, never slows the run down on failure. */
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
