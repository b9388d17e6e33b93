import type { V1Pod } from '@kubernetes/client-node';
import { KEEP_ANNOTATION, OWNER_ANNOTATIONS } from '../pod/manifest.js';

export interface StaleContext {
  /** This machine's host name, as the owner annotation records it. */
  host: string;
  /** This process: never taken for a gone owner. */
  pid: number;
  now: number;
  ttlMs?: number;
  isAlive: (pid: number) => boolean;
}

/**
 * Why a pod of ours is garbage, or undefined when it may still be in use:
 * - its owner process ran on this host and is gone (kill -9, crash, closed laptop lid);
 * - it finished (Succeeded/Failed, e.g. past its deadline) and nobody deleted it;
 * - it is older than the TTL, whoever owns it.
 * Pods started with --keep are only removed by the TTL.
 */
export function staleReason(pod: V1Pod, ctx: StaleContext): string | undefined {
  const ann = pod.metadata?.annotations ?? {};
  if (pod.metadata?.deletionTimestamp) return undefined;
  const created = Date.parse(String(pod.metadata?.creationTimestamp ?? ann[OWNER_ANNOTATIONS.startedAt] ?? ''));
  const ageMs = Number.isNaN(created) ? 0 : ctx.now - created;
  if (ctx.ttlMs !== undefined && ageMs > ctx.ttlMs) return `older than ${Math.round(ctx.ttlMs / 3_600_000)}h`;
  if (ann[KEEP_ANNOTATION] === 'true') return undefined;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return `finished (${phase}${pod.status?.reason ? `, ${pod.status.reason}` : ''})`;
  const pid = Number(ann[OWNER_ANNOTATIONS.pid]);
  if (ann[OWNER_ANNOTATIONS.host] === ctx.host && Number.isInteger(pid) && pid > 0 && pid !== ctx.pid && !ctx.isAlive(pid)) {
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
