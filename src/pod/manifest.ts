import type { V1Container, V1EnvFromSource, V1EnvVar, V1Pod, V1PodSpec, V1Toleration } from '@kubernetes/client-node';
import { UsageError } from '../errors.js';
import { strategicMerge } from './merge.js';
import { applyProfile, needsPingSysctl, type ProfileName } from './profiles.js';

export const CONTAINER_NAME = 'nixrun';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kubectl-nixrun';
export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
/** `--keep`: gc leaves the pod alone even after its owner process is gone (only --ttl removes it). */
export const KEEP_ANNOTATION = 'nixrun.dev/keep';

/** Who started a pod and with what: read back by `gc` and by people running kubectl describe. */
export const OWNER_ANNOTATIONS = {
  host: 'nixrun.dev/owner-host',
  pid: 'nixrun.dev/owner-pid',
  user: 'nixrun.dev/owner-user',
  startedAt: 'nixrun.dev/started-at',
  session: 'nixrun.dev/session',
  packages: 'nixrun.dev/packages',
  executable: 'nixrun.dev/executable',
} as const;

export interface Owner {
  host: string;
  pid: number;
  user: string;
  startedAt: string;
  session: string;
}

export interface PodInput {
  name: string;
  namespace?: string;
  image: string;
  /** argv, always set: Nixery images have no entrypoint. */
  command: string[];
  stdin: boolean;
  tty: boolean;
  env: Array<{ name: string; value: string }>;
  /** Secrets and ConfigMaps whose keys become variables (`--env-from`). */
  envFrom?: V1EnvFromSource[];
  /** The node's network namespace (`--host-network`); DNS stays the cluster's. */
  hostNetwork?: boolean;
  profile: ProfileName;
  packages: string[];
  exe: string;
  serviceAccount?: string;
  node?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  requests?: Record<string, string>;
  limits?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Marks the pod with KEEP_ANNOTATION. */
  keep?: boolean;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  imagePullSecrets?: string[];
  activeDeadlineSeconds: number;
  terminationGracePeriodSeconds?: number;
  /** Applied last, as a strategic merge patch. */
  overrides?: unknown;
  owner: Owner;
}

/** Defaults for Nixery images: no HOME, no passwd, and `/` read-only for non-root (nixery.md §5). */
export const BASE_ENV: V1EnvVar[] = [
  { name: 'HOME', value: '/tmp' },
  { name: 'TMPDIR', value: '/tmp' },
  { name: 'NIX_SSL_CERT_FILE', value: '/etc/ssl/certs/ca-bundle.crt' },
];

export function buildPod(input: PodInput): V1Pod {
  const env = mergeEnv(BASE_ENV, input.env);
  const container: V1Container = {
    name: CONTAINER_NAME,
    image: input.image,
    command: [...input.command],
    stdin: input.stdin,
    stdinOnce: input.stdin,
    tty: input.tty,
    env,
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
  if (input.envFrom && input.envFrom.length > 0) container.envFrom = input.envFrom;
  if (input.imagePullPolicy) container.imagePullPolicy = input.imagePullPolicy;
  if (input.requests || input.limits) {
    container.resources = { requests: input.requests, limits: input.limits };
  }

  const nodeSelector: Record<string, string> = { 'kubernetes.io/os': 'linux', ...input.nodeSelector };
  // A node selector rather than spec.nodeName: the scheduler still checks taints, resources and
  // architecture, and says why when the node does not fit, instead of the kubelet rejecting it.
  if (input.node) nodeSelector['kubernetes.io/hostname'] = input.node;

  const spec: V1PodSpec = {
    restartPolicy: 'Never',
    containers: [container],
    volumes: [{ name: 'tmp', emptyDir: {} }],
    activeDeadlineSeconds: input.activeDeadlineSeconds,
    terminationGracePeriodSeconds: input.terminationGracePeriodSeconds ?? 1,
    enableServiceLinks: false,
    automountServiceAccountToken: input.serviceAccount !== undefined,
    nodeSelector,
  };
  if (input.serviceAccount) spec.serviceAccountName = input.serviceAccount;
  if (input.imagePullSecrets && input.imagePullSecrets.length > 0) spec.imagePullSecrets = input.imagePullSecrets.map((name) => ({ name }));
  if (input.hostNetwork) {
    spec.hostNetwork = true;
    // With the host's network, the default policy would use the node's resolv.conf: keep cluster
    // names (my-svc.my-ns) resolving, as a debugging user expects.
    spec.dnsPolicy = 'ClusterFirstWithHostNet';
  }
  if (input.tolerations && input.tolerations.length > 0) spec.tolerations = input.tolerations;
  applyProfile(spec, container, input.profile, { pingSysctl: needsPingSysctl([input.exe, input.command[0] ?? '', ...input.command.map(basename)]) });

  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: {
        ...input.labels,
        [MANAGED_BY_LABEL]: MANAGED_BY,
        'app.kubernetes.io/name': 'nixrun',
      },
      annotations: {
        ...ownerAnnotations(input),
      },
    },
    spec,
  };
  if (input.overrides === undefined) return pod;
  const merged = strategicMerge(pod, input.overrides) as V1Pod;
  const broken = sessionInvariantBroken(merged, input.name);
  if (broken) throw new UsageError(`--overrides must not change ${broken}`, 'the session creates, attaches to and deletes this one pod: override other fields');
  return merged;
}

/** Refuse --overrides that would break the session's pod, before anything else happens (a stand-in pod is enough: a patch acts by paths and merge keys). */
export function checkOverrides(overrides: unknown): void {
  const owner = { host: '', pid: 0, user: '', startedAt: '', session: '' };
  buildPod({ name: 'nixrun-check-xxxxx', image: 'x', command: ['x'], stdin: true, tty: false, env: [], profile: 'restricted', packages: [], exe: 'x', activeDeadlineSeconds: 1, owner, overrides });
}

/**
 * What the session relies on, whatever --overrides did: the pod's name (to watch and delete it),
 * restartPolicy Never (the exit code is the container's one run), and our container with its
 * command (Nixery images have no entrypoint).
 */
export function sessionInvariantBroken(pod: V1Pod, name: string): string | undefined {
  if (pod.metadata?.name !== name) return 'metadata.name';
  if (pod.spec?.restartPolicy !== 'Never') return 'spec.restartPolicy (it must stay Never)';
  const container = Array.isArray(pod.spec.containers) ? pod.spec.containers.find((c) => c?.name === CONTAINER_NAME) : undefined;
  if (!container) return `the container "${CONTAINER_NAME}"`;
  if (!Array.isArray(container.command) || container.command.length === 0) return `the command of container "${CONTAINER_NAME}"`;
  return undefined;
}

/** The user's variables win over the defaults, in the user's order. */
export function mergeEnv(base: V1EnvVar[], user: Array<{ name: string; value: string }>): V1EnvVar[] {
  const names = new Set(user.map((e) => e.name));
  return [...base.filter((e) => !names.has(e.name)), ...user.map((e) => ({ name: e.name, value: e.value }))];
}

/** nixrun-<exe>-<5 random>, a valid DNS-1123 label (≤ 63). */
export function podName(exe: string, rand: () => string = randomSuffix): string {
  const base =
    exe
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63 - 'nixrun--'.length - 5)
      .replace(/-+$/, '') || 'run';
  return `nixrun-${base}-${rand()}`;
}

export function randomSuffix(): string {
  // A name must be unlikely to collide, not be unguessable (kubectl's generateName is no more):
  // Math.random spares a run loading node:crypto (~9 ms of a dry run's start).
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return Array.from({ length: 5 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
}

export function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i === -1 ? p : p.slice(i + 1);
}

/** The user's annotations, the keep mark, and who started the pod (for gc), on every pod of ours. */
export function ownerAnnotations(input: { annotations?: Record<string, string>; keep?: boolean; owner: Owner; packages: string[]; exe: string }): Record<string, string> {
  return {
    ...input.annotations,
    ...(input.keep ? { [KEEP_ANNOTATION]: 'true' } : {}),
    [OWNER_ANNOTATIONS.host]: input.owner.host,
    [OWNER_ANNOTATIONS.pid]: String(input.owner.pid),
    [OWNER_ANNOTATIONS.user]: input.owner.user,
    [OWNER_ANNOTATIONS.startedAt]: input.owner.startedAt,
    [OWNER_ANNOTATIONS.session]: input.owner.session,
    [OWNER_ANNOTATIONS.packages]: input.packages.join(','),
    [OWNER_ANNOTATIONS.executable]: input.exe,
  };
}
