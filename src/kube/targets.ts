import { AppsV1Api, BatchV1Api, type V1LabelSelector, type V1Pod } from '@kubernetes/client-node';
import { ExitCode, NixrunError } from '../errors.js';
import type { WorkloadRef } from '../plan/mode.js';
import type { Kube } from './client.js';
import { explainApiError, isNotFound } from './errors.js';

/**
 * The pod a --target or --copy names: the pod itself, or one of a workload's pods picked as
 * `kubectl exec deploy/web` does (running and ready first, then the newest).
 */
export async function resolvePod(kube: Kube, ref: WorkloadRef): Promise<V1Pod> {
  const what = `${ref.kind}/${ref.name}`;
  try {
    if (ref.kind === 'pod') return await kube.core.readNamespacedPod({ name: ref.name, namespace: kube.namespace });
    const selector = await workloadSelector(kube, ref);
    const pods = (await kube.core.listNamespacedPod({ namespace: kube.namespace, labelSelector: selector })).items.filter((p) => !p.metadata?.deletionTimestamp);
    const best = pickPod(pods);
    if (!best) throw new NixrunError(`${what} in ${kube.namespace} has no pods`, { exitCode: ExitCode.tool, hint: `kubectl get pods -n ${kube.namespace} -l ${selector}` });
    return best;
  } catch (err) {
    if (err instanceof NixrunError) throw err;
    if (isNotFound(err)) throw new NixrunError(`${what} not found in namespace ${kube.namespace}`, { exitCode: ExitCode.tool, hint: `kubectl get ${ref.kind === 'pod' ? 'pods' : ref.kind} -n ${kube.namespace}` });
    throw explainApiError(err, { action: `read ${what}`, namespace: kube.namespace, server: kube.server, proxy: kube.proxy });
  }
}

async function workloadSelector(kube: Kube, ref: WorkloadRef): Promise<string> {
  const apps = kube.kc.makeApiClient(AppsV1Api);
  const q = { name: ref.name, namespace: kube.namespace };
  let sel: V1LabelSelector | undefined;
  switch (ref.kind) {
    case 'deployment':
      sel = (await apps.readNamespacedDeployment(q)).spec?.selector;
      break;
    case 'statefulset':
      sel = (await apps.readNamespacedStatefulSet(q)).spec?.selector;
      break;
    case 'daemonset':
      sel = (await apps.readNamespacedDaemonSet(q)).spec?.selector;
      break;
    case 'replicaset':
      sel = (await apps.readNamespacedReplicaSet(q)).spec?.selector;
      break;
    case 'job':
      sel = (await kube.kc.makeApiClient(BatchV1Api).readNamespacedJob(q)).spec?.selector;
      break;
    default:
      break;
  }
  const s = selectorString(sel);
  if (!s) throw new NixrunError(`${ref.kind}/${ref.name} has no pod selector`, { exitCode: ExitCode.tool });
  return s;
}

/** A label selector as the list API takes it. */
export function selectorString(sel: V1LabelSelector | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** kubectl's ordering (ActivePods, reversed for "best"): running before pending, ready before not, then newest. */
export function pickPod(pods: V1Pod[]): V1Pod | undefined {
  const score = (p: V1Pod) => [
    p.status?.phase === 'Running' ? 1 : 0,
    p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 1 : 0,
    p.spec?.nodeName ? 1 : 0,
    Date.parse(String(p.metadata?.creationTimestamp ?? 0)) || 0,
  ];
  return [...pods].sort((a, b) => {
    const x = score(a);
    const y = score(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return y[i]! - x[i]!;
    return 0;
  })[0];
}
