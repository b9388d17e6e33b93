import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { errnoCode, ExitCode, NixrunError } from '../errors.js';
import { CONTAINER_NAME, MANAGED_BY_SELECTOR } from '../pod/manifest.js';
import { retry } from '../retry.js';
import type { Kube } from './client.js';
import { explainApiError, httpStatus, isNotFound, isTransient, TLS_TRUST_CODES } from './errors.js';

/**
 * The API server refused the pod outright (a 4xx answer: validation, admission, RBAC, quota, a
 * name taken by somebody else's pod), so there is nothing of ours to delete. After a timeout or a
 * 5xx it may exist, and cleanup must still try.
 */
export class PodNotCreatedError extends NixrunError {}

export async function createPod(kube: Kube, pod: V1Pod, profile: string): Promise<V1Pod> {
  try {
    return await kube.core.createNamespacedPod({ namespace: kube.namespace, body: pod });
  } catch (err) {
    const explained = explainApiError(err, { action: 'create the pod', namespace: kube.namespace, server: kube.server, proxy: kube.proxy, profile });
    const status = httpStatus(err);
    // Refused (4xx), or the TLS handshake failed, so the request never reached the server.
    const untrusted = status === undefined && TLS_TRUST_CODES.has(errnoCode(err) ?? '');
    if ((status !== undefined && status >= 400 && status < 500) || untrusted) {
      throw new PodNotCreatedError(explained.message, { exitCode: explained.exitCode, hint: explained.hint, cause: err });
    }
    throw explained;
  }
}

/**
 * Delete with a short grace period, retrying while the API is unreachable. A pod that already
 * finished goes at once (the API server skips the grace period for terminated pods).
 */
export async function deletePod(
  kube: Kube,
  name: string,
  opts: { namespace?: string; gracePeriodSeconds?: number; retryForMs?: number; onRetry?: (attempt: number, err: unknown) => void } = {},
): Promise<'deleted' | 'gone'> {
  try {
    const result = await retry<'deleted' | 'gone'>(
      async () => {
        try {
          await kube.core.deleteNamespacedPod({ name, namespace: opts.namespace ?? kube.namespace, gracePeriodSeconds: opts.gracePeriodSeconds ?? 1, propagationPolicy: 'Background' });
          return 'deleted';
        } catch (err) {
          if (isNotFound(err)) return 'gone';
          throw err;
        }
      },
      { firstDelayMs: 250, maxDelayMs: 4000, forMs: opts.retryForMs ?? 30_000, retryIf: isTransient, onRetry: opts.onRetry },
    );
    return result!;
  } catch (err) {
    throw explainApiError(err, { action: `delete pod ${name}`, namespace: kube.namespace, server: kube.server, proxy: kube.proxy });
  }
}

export interface ExitStatus {
  exitCode: number;
  reason?: string;
  message?: string;
}

/**
 * After the attach stream ends, the container's exit code, read from its terminated status as
 * kubectl does. Polls briefly because the kubelet reports the exit a moment after the stream ends.
 */
const KILLED_PHASE_WAIT_MS = 3000;

export async function waitForExit(kube: Kube, name: string, opts: { timeoutMs: number; signal: AbortSignal; container?: string }): Promise<ExitStatus | undefined> {
  // A container the kubelet killed (its deadline, an eviction) ends before the pod's phase and
  // reason say why: for a signal exit, wait briefly for the phase, so DeadlineExceeded is told.
  let killedSeenAt: number | undefined;
  const status = await retry<ExitStatus | 'gone'>(
    async () => {
      let pod: V1Pod;
      try {
        pod = await kube.core.readNamespacedPod({ name, namespace: kube.namespace });
      } catch (err) {
        if (isNotFound(err)) return 'gone';
        if (isTransient(err)) return undefined;
        throw explainApiError(err, { action: `read pod ${name}`, namespace: kube.namespace, server: kube.server, proxy: kube.proxy });
      }
      const t = containerStatus(pod, opts.container)?.state?.terminated;
      const phaseFinal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
      if (t && !phaseFinal && (t.exitCode === 137 || t.exitCode === 143) && Date.now() - (killedSeenAt ??= Date.now()) < KILLED_PHASE_WAIT_MS) return undefined;
      if (t) return { exitCode: t.exitCode, reason: (pod.status?.reason === 'DeadlineExceeded' ? pod.status.reason : t.reason) || undefined, message: t.message || undefined };
      // Deadline exceeded or evicted: the container never reported an exit code.
      if (pod.status?.phase === 'Failed') return { exitCode: ExitCode.tool, reason: pod.status.reason ?? 'Failed', message: pod.status.message ?? 'the pod failed' };
      return undefined;
    },
    // The status trails the exit by the kubelet's status round: poll often, so it is read when it lands.
    { firstDelayMs: 50, maxDelayMs: 250, forMs: opts.timeoutMs, signal: opts.signal },
  );
  return status === 'gone' ? undefined : status;
}

/**
 * Read the pod, retrying for a while when the API server is unreachable or still starting (a
 * restarting server answers 403 until its RBAC cache is filled). Undefined: gone, or no answer.
 */
export async function readPodPatiently(kube: Kube, name: string, forMs: number): Promise<V1Pod | undefined> {
  const pod = await retry<V1Pod | 'gone'>(
    async () => {
      try {
        return await kube.core.readNamespacedPod({ name, namespace: kube.namespace });
      } catch (err) {
        return isNotFound(err) ? 'gone' : undefined;
      }
    },
    { firstDelayMs: 200, maxDelayMs: 2000, forMs },
  );
  return pod === 'gone' ? undefined : pod;
}

/** Our pods, found by the managed-by label: in the connection's namespace, or in all of them. */
export async function listOurPods(kube: Kube, opts: { allNamespaces: boolean }): Promise<V1Pod[]> {
  const list = opts.allNamespaces
    ? await kube.core.listPodForAllNamespaces({ labelSelector: MANAGED_BY_SELECTOR })
    : await kube.core.listNamespacedPod({ namespace: kube.namespace, labelSelector: MANAGED_BY_SELECTOR });
  return list.items;
}

/**
 * A container's status. Named: that container, regular or ephemeral (a copy or a target pod has
 * others whose status must not be taken for ours). Unnamed: ours in a fresh pod, else its first.
 */
export function containerStatus(pod: V1Pod | undefined, name?: string): V1ContainerStatus | undefined {
  if (name !== undefined) {
    const s = pod?.status;
    return s?.containerStatuses?.find((c) => c.name === name) ?? s?.ephemeralContainerStatuses?.find((c) => c.name === name);
  }
  return pod?.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME) ?? pod?.status?.containerStatuses?.[0];
}
