import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { ExitCode, NixrunError } from '../errors.js';
import type { Kube } from './client.js';
import { explainApiError, httpStatus, isNotFound, isTransient } from './errors.js';
import { keepWatching } from './watch.js';

export const CONTAINER = 'nixrun';

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
    const explained = explainApiError(err, { action: 'create the pod', namespace: kube.namespace, server: kube.server, profile });
    const status = httpStatus(err);
    if (status !== undefined && status >= 400 && status < 500) {
      throw new PodNotCreatedError(explained.message, { exitCode: explained.exitCode, ...(explained.hint === undefined ? {} : { hint: explained.hint }), cause: err });
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
  const deadline = Date.now() + (opts.retryForMs ?? 30_000);
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      await kube.core.deleteNamespacedPod({
        name,
        namespace: opts.namespace ?? kube.namespace,
        gracePeriodSeconds: opts.gracePeriodSeconds ?? 1,
        propagationPolicy: 'Background',
      });
      return 'deleted';
    } catch (err) {
      if (isNotFound(err)) return 'gone';
      if (!isTransient(err) || Date.now() + delay > deadline) {
        throw explainApiError(err, { action: `delete pod ${name}`, namespace: kube.namespace, server: kube.server });
      }
      opts.onRetry?.(attempt, err);
      await sleep(delay);
      delay = Math.min(delay * 2, 4000);
    }
  }
}

export interface Progress {
  /** A short label: Scheduling, Pulling image, Starting, … */
  stage: string;
  /** The newest event message that explains it, if any. */
  detail?: string;
}

// Waiting reasons after which the container will not start without someone changing something.
const FATAL_NOW = new Set(['InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);
// Reasons that the kubelet retries, but that almost never heal by themselves: fail after a grace.
const FATAL_AFTER_GRACE = new Set(['ErrImagePull', 'ImagePullBackOff']);

/**
 * Wait until the container runs (or already ran), showing what the kubelet and scheduler say.
 * Fails fast with the reason on image-pull and config errors, and on scheduling failures after a
 * grace period, instead of kubectl's silent "timed out waiting for the condition".
 */
export async function waitForStart(
  kube: Kube,
  name: string,
  opts: { timeoutMs: number; graceMs: number; signal: AbortSignal; onProgress: (p: Progress) => void },
): Promise<V1Pod> {
  const ctrl = new AbortController();
  const abortAll = () => ctrl.abort();
  opts.signal.addEventListener('abort', abortAll, { once: true });
  const seenEvents = new Set<string>();
  let lastEvent: CoreV1Event | undefined;
  // The kubelet's own words for a failed pull ("Failed to pull image …: <why>").
  let pullFailure: string | undefined;
  let firstPullError: number | undefined;
  let firstUnschedulable: number | undefined;
  let scaleUp = false;
  let lastPod: V1Pod | undefined;

  try {
    return await new Promise<V1Pod>((resolve, reject) => {
      const fail = (e: unknown) => {
        ctrl.abort();
        reject(e);
      };
      const timer = setTimeout(() => {
        fail(
          new NixrunError(`pod ${name} did not start within ${formatDuration(opts.timeoutMs)}: ${describeWaiting(lastPod, lastEvent)}`, {
            exitCode: ExitCode.tool,
            hint: 'give it longer with --pod-running-timeout, or look at: kubectl describe pod ' + name,
          }),
        );
      }, opts.timeoutMs);
      ctrl.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
      if (opts.signal.aborted) return fail(opts.signal.reason);
      opts.signal.addEventListener('abort', () => reject(opts.signal.reason), { once: true });

      const check = () => {
        const pod = lastPod;
        if (!pod) return;
        const phase = pod.status?.phase;
        const cs = containerStatus(pod);
        if (phase === 'Running' && cs?.state?.running) return done(pod);
        if (phase === 'Succeeded' || phase === 'Failed' || cs?.state?.terminated) return done(pod);
        const waiting = cs?.state?.waiting;
        const now = Date.now();
        if (waiting?.reason && FATAL_NOW.has(waiting.reason)) return fail(cannotStart(name, waiting.reason, waiting.message ?? lastEvent?.message));
        if (waiting?.reason && FATAL_AFTER_GRACE.has(waiting.reason)) {
          firstPullError ??= now;
          if (waiting.reason === 'ImagePullBackOff' || now - firstPullError >= opts.graceMs) {
            return fail(cannotStart(name, waiting.reason, pullFailure ?? waiting.message));
          }
        }
        const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
        if (unschedulable && !scaleUp) {
          firstUnschedulable ??= now;
          if (now - firstUnschedulable >= opts.graceMs) {
            return fail(
              new NixrunError(`pod ${name} cannot be scheduled: ${unschedulable.message ?? 'no node fits'}`, {
                exitCode: ExitCode.cannotRun,
                hint: 'check --node, --toleration, --requests and --arch against the cluster’s nodes',
              }),
            );
          }
        }
        opts.onProgress(progressOf(pod, lastEvent));
      };
      const done = (pod: V1Pod) => {
        ctrl.abort();
        resolve(pod);
      };

      void keepWatching<V1Pod>(
        kube.kc,
        `/api/v1/namespaces/${kube.namespace}/pods`,
        { fieldSelector: `metadata.name=${name}` },
        (type, pod) => {
          if (type === 'DELETED') {
            return fail(new NixrunError(`pod ${name} was deleted by someone else before it started`, { exitCode: ExitCode.tool }));
          }
          if (type === 'ADDED' || type === 'MODIFIED') {
            lastPod = pod;
            check();
          }
        },
        ctrl.signal,
      );
      void keepWatching<CoreV1Event>(
        kube.kc,
        `/api/v1/namespaces/${kube.namespace}/events`,
        { fieldSelector: `involvedObject.name=${name},involvedObject.kind=Pod` },
        (type, ev) => {
          if (type !== 'ADDED' && type !== 'MODIFIED') return;
          const key = `${ev.metadata?.uid}/${ev.count ?? 1}/${ev.series?.count ?? 0}`;
          if (seenEvents.has(key)) return;
          seenEvents.add(key);
          if (ev.reason === 'TriggeredScaleUp') scaleUp = true;
          if (ev.reason === 'Failed' && ev.message?.startsWith('Failed to pull image')) pullFailure = ev.message;
          // A (re)started watch lists old events in no particular order: keep the newest.
          if (!lastEvent || Number(ev.metadata?.resourceVersion ?? 0) >= Number(lastEvent.metadata?.resourceVersion ?? 0)) lastEvent = ev;
          check();
          if (!lastPod) opts.onProgress({ stage: ev.reason ?? 'Pending', ...(ev.message ? { detail: ev.message } : {}) });
        },
        ctrl.signal,
      );
      // Re-evaluate the grace periods even when nothing new arrives.
      const tick = setInterval(check, 1000);
      ctrl.signal.addEventListener('abort', () => clearInterval(tick), { once: true });
    });
  } finally {
    opts.signal.removeEventListener('abort', abortAll);
    ctrl.abort();
  }
}

/**
 * After the attach stream ends, the container's exit code, read from its terminated status as
 * kubectl does. Polls briefly because the kubelet reports the exit a moment after the stream ends.
 */
export async function waitForExit(kube: Kube, name: string, opts: { timeoutMs: number; signal: AbortSignal }): Promise<{ exitCode: number; reason?: string; message?: string } | undefined> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = 100;
  while (!opts.signal.aborted) {
    try {
      const pod = await kube.core.readNamespacedPod({ name, namespace: kube.namespace });
      const t = containerStatus(pod)?.state?.terminated;
      if (t) return { exitCode: t.exitCode, ...(t.reason ? { reason: t.reason } : {}), ...(t.message ? { message: t.message } : {}) };
      if (pod.status?.phase === 'Failed') {
        // Deadline exceeded or evicted: the container never reported an exit code.
        return { exitCode: ExitCode.tool, reason: pod.status.reason ?? 'Failed', message: pod.status.message ?? 'the pod failed' };
      }
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (!isTransient(err)) throw explainApiError(err, { action: `read pod ${name}`, namespace: kube.namespace, server: kube.server });
    }
    if (Date.now() + delay > deadline) return undefined;
    await sleep(delay);
    delay = Math.min(delay * 2, 1000);
  }
  return undefined;
}

export function containerStatus(pod: V1Pod | undefined): V1ContainerStatus | undefined {
  return pod?.status?.containerStatuses?.find((c) => c.name === CONTAINER) ?? pod?.status?.containerStatuses?.[0];
}

function progressOf(pod: V1Pod, ev: CoreV1Event | undefined): Progress {
  const waiting = containerStatus(pod)?.state?.waiting;
  const scheduled = pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True');
  if (!scheduled) {
    const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    return { stage: 'Scheduling', ...(cond?.message ? { detail: cond.message } : {}) };
  }
  if (ev?.reason === 'Pulling') return { stage: 'Pulling image', detail: pod.spec?.nodeName ? `on ${pod.spec.nodeName}` : '' };
  if (ev?.reason === 'Pulled') return { stage: 'Image pulled', detail: ev.message ?? '' };
  if (waiting?.reason) return { stage: waiting.reason, ...(waiting.message ? { detail: waiting.message } : {}) };
  return { stage: ev?.reason ?? 'Pending', ...(ev?.message ? { detail: ev.message } : {}) };
}

function cannotStart(name: string, reason: string, message: string | undefined): NixrunError {
  const hints: Record<string, string> = {
    ErrImagePull: 'the node could not pull the image: check the node can reach the registry (or set --registry to a mirror it can reach)',
    ImagePullBackOff: 'the node could not pull the image: check the node can reach the registry (or set --registry to a mirror it can reach)',
    InvalidImageName: 'the image reference is invalid; this is a bug if it came from package names: please report it',
    CreateContainerConfigError: 'a secret or config map the pod refers to is missing: check --env-from (kubectl get secret,configmap -n the namespace) and --overrides',
  };
  return new NixrunError(`pod ${name} cannot start: ${reason}${message ? `: ${oneLine(message)}` : ''}`, {
    exitCode: ExitCode.cannotRun,
    ...(hints[reason] ? { hint: hints[reason] } : {}),
  });
}

function describeWaiting(pod: V1Pod | undefined, ev: CoreV1Event | undefined): string {
  if (!pod) return 'the pod never appeared';
  const p = progressOf(pod, ev);
  return `still ${p.stage}${p.detail ? ` (${oneLine(p.detail)})` : ''}`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
