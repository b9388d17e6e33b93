import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { formatDuration } from '../duration.js';
import { ExitCode, NixrunError } from '../errors.js';
import type { Kube } from './client.js';
import { containerStatus } from './pods.js';
import { keepWatching } from './watch.js';

/** What the spinner says while a pod starts. */
export interface StartProgress {
  /** A short label: Scheduling, Pulling image, Starting, … */
  stage: string;
  /** The newest event message that explains it, if any. */
  detail?: string;
}

/** What the pod's events have said so far. */
export interface StartEvents {
  /** The newest event. */
  latest?: CoreV1Event;
  /** The kubelet's own words for a failed pull ("Failed to pull image …: <why>"). */
  pullFailure?: string;
  /** The cluster autoscaler is adding a node: being unschedulable is not final. */
  scaleUp: boolean;
}

/** When each slow failure was first seen: they become final after the grace period. */
export interface FirstSeen {
  pullError?: number;
  unschedulable?: number;
}

export type StartDecision =
  | { kind: 'started' }
  | { kind: 'wait'; progress: StartProgress; firstSeen: FirstSeen }
  | { kind: 'failed'; error: NixrunError };

// Waiting reasons after which the container will not start without someone changing something.
const FATAL_NOW = new Set(['InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);
// Reasons that the kubelet retries, but that almost never heal by themselves: fail after a grace.
const FATAL_AFTER_GRACE = new Set(['ErrImagePull', 'ImagePullBackOff']);

/**
 * Has the pod started, should we keep waiting, or will it never start? A pure function of what
 * the watches saw, like kubectl's podRunningAndReady: fails fast on image-pull and config errors,
 * and on scheduling failures after a grace period (unless the autoscaler is adding a node).
 */
export function assessStart(s: { name: string; pod: V1Pod; events: StartEvents; firstSeen: FirstSeen; now: number; graceMs: number }): StartDecision {
  const { name, pod, events, now, graceMs } = s;
  const firstSeen = { ...s.firstSeen };
  const phase = pod.status?.phase;
  const cs = containerStatus(pod);
  if (phase === 'Running' && cs?.state?.running) return { kind: 'started' };
  if (phase === 'Succeeded' || phase === 'Failed' || cs?.state?.terminated) return { kind: 'started' };
  const waiting = cs?.state?.waiting;
  if (waiting?.reason && FATAL_NOW.has(waiting.reason)) return { kind: 'failed', error: cannotStart(name, waiting.reason, waiting.message ?? events.latest?.message) };
  if (waiting?.reason && FATAL_AFTER_GRACE.has(waiting.reason)) {
    firstSeen.pullError ??= now;
    if (waiting.reason === 'ImagePullBackOff' || imageNotFound(waiting.message) || now - firstSeen.pullError >= graceMs) {
      return { kind: 'failed', error: cannotStart(name, waiting.reason, events.pullFailure ?? waiting.message) };
    }
  }
  const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  if (unschedulable && !events.scaleUp) {
    firstSeen.unschedulable ??= now;
    if (now - firstSeen.unschedulable >= graceMs) {
      return {
        kind: 'failed',
        error: new NixrunError(`pod ${name} cannot be scheduled: ${unschedulable.message ?? 'no node fits'}`, {
          exitCode: ExitCode.cannotRun,
          hint: 'check --node, --toleration, --requests and --arch against the cluster’s nodes',
        }),
      };
    }
  }
  return { kind: 'wait', progress: progressOf(pod, events.latest), firstSeen };
}

/**
 * Wait until the container runs (or already ran), showing what the kubelet and scheduler say,
 * and stop as soon as assessStart says it never will, instead of kubectl's silent "timed out
 * waiting for the condition".
 */
export async function waitForStart(
  kube: Kube,
  name: string,
  opts: { timeoutMs: number; graceMs: number; signal: AbortSignal; onProgress: (p: StartProgress) => void },
): Promise<V1Pod> {
  if (opts.signal.aborted) throw opts.signal.reason;
  const watching = new AbortController();
  const seenEvents = new Set<string>();
  const events: StartEvents = { scaleUp: false };
  let firstSeen: FirstSeen = {};
  let lastPod: V1Pod | undefined;
  let settle!: { resolve: (pod: V1Pod) => void; reject: (err: unknown) => void };
  const settled = new Promise<V1Pod>((resolve, reject) => {
    // Settle once, and stop the watches and timers at that very moment.
    const once = <T>(f: (v: T) => void) => (v: T) => {
      if (watching.signal.aborted) return;
      watching.abort();
      f(v);
    };
    settle = { resolve: once(resolve), reject: once(reject) };
  });

  const check = () => {
    if (!lastPod || watching.signal.aborted) return;
    const decision = assessStart({ name, pod: lastPod, events, firstSeen, now: Date.now(), graceMs: opts.graceMs });
    if (decision.kind === 'started') settle.resolve(lastPod);
    else if (decision.kind === 'failed') settle.reject(decision.error);
    else {
      firstSeen = decision.firstSeen;
      opts.onProgress(decision.progress);
    }
  };
  const onPod = (type: string, pod: V1Pod) => {
    if (type === 'DELETED') settle.reject(new NixrunError(`pod ${name} was deleted by someone else before it started`, { exitCode: ExitCode.tool }));
    else if (type === 'ADDED' || type === 'MODIFIED') {
      lastPod = pod;
      check();
    }
  };
  const onEvent = (type: string, ev: CoreV1Event) => {
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    const key = `${ev.metadata?.uid}/${ev.count ?? 1}/${ev.series?.count ?? 0}`;
    if (seenEvents.has(key)) return;
    seenEvents.add(key);
    if (ev.reason === 'TriggeredScaleUp') events.scaleUp = true;
    if (ev.reason === 'Failed' && ev.message?.startsWith('Failed to pull image')) events.pullFailure = ev.message;
    // A (re)started watch lists old events in no particular order: keep the newest.
    if (!events.latest || Number(ev.metadata?.resourceVersion ?? 0) >= Number(events.latest.metadata?.resourceVersion ?? 0)) events.latest = ev;
    check();
    if (!lastPod) opts.onProgress({ stage: ev.reason ?? 'Pending', detail: ev.message || undefined });
  };

  const onAbort = () => settle.reject(opts.signal.reason);
  opts.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => {
    settle.reject(
      new NixrunError(`pod ${name} did not start within ${formatDuration(opts.timeoutMs)}: ${describeWaiting(lastPod, events.latest)}`, {
        exitCode: ExitCode.tool,
        hint: 'give it longer with --pod-running-timeout, or look at: kubectl describe pod ' + name,
      }),
    );
  }, opts.timeoutMs);
  // Re-evaluate the grace periods even when nothing new arrives.
  const tick = setInterval(check, 1000);
  watching.signal.addEventListener('abort', () => {
    clearTimeout(timer);
    clearInterval(tick);
  });
  void keepWatching<V1Pod>(kube.kc, `/api/v1/namespaces/${kube.namespace}/pods`, { fieldSelector: `metadata.name=${name}` }, onPod, watching.signal);
  void keepWatching<CoreV1Event>(kube.kc, `/api/v1/namespaces/${kube.namespace}/events`, { fieldSelector: `involvedObject.name=${name},involvedObject.kind=Pod` }, onEvent, watching.signal);
  try {
    return await settled;
  } finally {
    watching.abort();
    opts.signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The runtime asked the registry and it has no such image (containerd: "rpc error: code =
 * NotFound … not found"): the kubelet would only retry with a back-off, so waiting is pointless.
 */
function imageNotFound(message: string | undefined): boolean {
  return /code = NotFound\b/.test(message ?? '');
}

function progressOf(pod: V1Pod, ev: CoreV1Event | undefined): StartProgress {
  const waiting = containerStatus(pod)?.state?.waiting;
  const scheduled = pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True');
  if (!scheduled) {
    const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    return { stage: 'Scheduling', detail: cond?.message || undefined };
  }
  if (ev?.reason === 'Pulling') return { stage: 'Pulling image', detail: pod.spec?.nodeName ? `on ${pod.spec.nodeName}` : '' };
  if (ev?.reason === 'Pulled') return { stage: 'Image pulled', detail: ev.message ?? '' };
  if (waiting?.reason) return { stage: waiting.reason, detail: waiting.message || undefined };
  return { stage: ev?.reason ?? 'Pending', detail: ev?.message || undefined };
}

const CANNOT_START_HINTS: Record<string, string> = {
  ErrImagePull: 'the node could not pull the image: check the node can reach the registry (or set --registry to a mirror it can reach)',
  ImagePullBackOff: 'the node could not pull the image: check the node can reach the registry (or set --registry to a mirror it can reach)',
  InvalidImageName: 'the image reference is invalid; this is a bug if it came from package names: please report it',
  CreateContainerConfigError: 'a secret or config map the pod refers to is missing: check --env-from (kubectl get secret,configmap -n the namespace) and --overrides',
};

function cannotStart(name: string, reason: string, message: string | undefined): NixrunError {
  const hint = imageNotFound(message)
    ? 'the registry has no image by that name: check the package names (kubectl nixrun which …); with the pre-flight on, the registry names the packages it lacks'
    : CANNOT_START_HINTS[reason];
  return new NixrunError(`pod ${name} cannot start: ${reason}${message ? `: ${oneLine(message)}` : ''}`, { exitCode: ExitCode.cannotRun, hint });
}

function describeWaiting(pod: V1Pod | undefined, ev: CoreV1Event | undefined): string {
  if (!pod) return 'the pod never appeared';
  const p = progressOf(pod, ev);
  return `still ${p.stage}${p.detail ? ` (${oneLine(p.detail)})` : ''}`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
