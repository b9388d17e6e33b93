import type { V1Pod } from '@kubernetes/client-node';
import { OWNER_ANNOTATIONS, podName } from '../pod/manifest.js';

const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/**
 * A script's `--dry-run` manifest is for `kubectl apply` and a repository, not for a session:
 * a fixed name (applying twice is the same pod), no session owner (this process's pid and host
 * mean nothing once committed), and not labelled as managed by kubectl-nixrun, so `gc` and the
 * sweep at the start of every run never delete a pod somebody applied on purpose.
 */
export function standaloneManifest(pod: V1Pod, exe: string): V1Pod {
  const name = podName(exe, () => '').replace(/-$/, '');
  const annotations = { ...pod.metadata?.annotations };
  for (const key of [OWNER_ANNOTATIONS.host, OWNER_ANNOTATIONS.pid, OWNER_ANNOTATIONS.user, OWNER_ANNOTATIONS.startedAt, OWNER_ANNOTATIONS.session]) delete annotations[key];
  const labels = { ...pod.metadata?.labels };
  delete labels[MANAGED_BY_LABEL];
  return { ...pod, metadata: { ...pod.metadata, name, labels, annotations } };
}
