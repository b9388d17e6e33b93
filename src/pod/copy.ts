import type { V1Container, V1EnvVar, V1Pod, V1SecurityContext, V1VolumeMount } from '@kubernetes/client-node';
import { UsageError } from '../errors.js';
import { BASE_ENV, CONTAINER_NAME, MANAGED_BY, MANAGED_BY_LABEL, mergeEnv, ownerAnnotations, randomSuffix, type Owner } from './manifest.js';

/** Marks what a pod of ours was made from, for people running kubectl describe (and gc's listing). */
export const COPY_OF_ANNOTATION = 'nixrun.dev/copy-of';
export const MODE_LABEL = 'nixrun.dev/mode';
const TMP_VOLUME = 'nixrun-tmp';

export interface CopyInput {
  source: V1Pod;
  name: string;
  image: string;
  /** argv, always set: Nixery images have no entrypoint. */
  command: string[];
  stdin: boolean;
  tty: boolean;
  env: Array<{ name: string; value: string }>;
  securityContext: V1SecurityContext;
  /** Replace this container's image and command instead of adding one. */
  replace?: string;
  /** Mounts to give our added container (--mount-from). */
  volumeMounts?: V1VolumeMount[];
  /** Default: on when a container is added (its processes are what one wants to see). */
  shareProcesses?: boolean;
  sameNode: boolean;
  arch: string;
  activeDeadlineSeconds: number;
  requests?: Record<string, string>;
  limits?: Record<string, string>;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  keep?: boolean;
  packages: string[];
  exe: string;
  owner: Owner;
}

/** `<pod>-nixrun-<5 random>`, a DNS label (≤ 63): the copy is recognisable next to its original. */
export function copyName(source: string, rand: () => string = randomSuffix): string {
  const base = source.slice(0, 63 - '-nixrun-'.length - 5).replace(/[-.]+$/, '');
  return `${base}-nixrun-${rand()}`;
}

/**
 * A disposable copy of a pod, made so that nothing mistakes it for the original: its labels are
 * ours alone (no Service selects it, no ReplicaSet adopts it), no owner references (no controller
 * deletes or counts it), no probes (a debugged app is expected to be unhealthy), no host ports
 * (they would collide with the original), restartPolicy Never (the exit code is the command's one
 * run) and a deadline. The node is left to the scheduler unless --same-node.
 */
export function buildPodCopy(input: CopyInput): V1Pod {
  const src = input.source;
  const spec = structuredClone(src.spec ?? { containers: [] });
  delete spec.ephemeralContainers; // "cannot be set on create"
  if (!input.sameNode) delete spec.nodeName;
  spec.restartPolicy = 'Never';
  spec.activeDeadlineSeconds = input.activeDeadlineSeconds;
  spec.terminationGracePeriodSeconds = 1;
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) stripForCopy(c);
  if (!input.sameNode) spec.nodeSelector = { ...spec.nodeSelector, 'kubernetes.io/arch': input.arch };

  const env = mergeEnv(BASE_ENV, input.env);
  if (input.replace !== undefined) {
    const c = spec.containers.find((x) => x.name === input.replace);
    if (!c) throw new UsageError(`pod ${src.metadata?.name} has no container "${input.replace}" (--replace)`, `its containers: ${spec.containers.map((x) => x.name).join(', ')}`);
    c.image = input.image;
    c.command = [...input.command];
    delete c.args;
    delete c.workingDir; // the app image's directory is not in ours
    delete c.lifecycle; // its hooks call the app image's programs
    c.stdin = input.stdin;
    c.stdinOnce = input.stdin;
    c.tty = input.tty;
    // The app's own variables stay (the point of a copy); ours are added, the user's win.
    c.env = mergeEnvVars(c.env ?? [], env);
    c.securityContext = input.securityContext;
    if (input.imagePullPolicy) c.imagePullPolicy = input.imagePullPolicy;
    else if (input.image.includes('@sha256:')) c.imagePullPolicy = 'IfNotPresent';
    if (input.requests || input.limits) c.resources = { requests: input.requests, limits: input.limits };
    spec.shareProcessNamespace = input.shareProcesses ?? spec.shareProcessNamespace;
  } else {
    const taken = new Set([...spec.containers, ...(spec.initContainers ?? [])].map((c) => c.name));
    let name = CONTAINER_NAME;
    while (taken.has(name)) name = `${CONTAINER_NAME}-${randomSuffix()}`;
    const mounts = [...(input.volumeMounts ?? [])];
    if (!mounts.some((m) => m.mountPath === '/tmp')) {
      mounts.push({ name: TMP_VOLUME, mountPath: '/tmp' });
      spec.volumes = [...(spec.volumes ?? []), { name: TMP_VOLUME, emptyDir: {} }];
    }
    const ours: V1Container = {
      name,
      image: input.image,
      command: [...input.command],
      stdin: input.stdin,
      stdinOnce: input.stdin,
      tty: input.tty,
      env,
      volumeMounts: mounts,
      securityContext: input.securityContext,
      terminationMessagePolicy: 'FallbackToLogsOnError',
    };
    if (input.imagePullPolicy) ours.imagePullPolicy = input.imagePullPolicy;
    else if (input.image.includes('@sha256:')) ours.imagePullPolicy = 'IfNotPresent';
    if (input.requests || input.limits) ours.resources = { requests: input.requests, limits: input.limits };
    spec.containers = [...spec.containers, ours];
    spec.shareProcessNamespace = input.shareProcesses ?? true;
  }
  if (spec.shareProcessNamespace === undefined) delete spec.shareProcessNamespace;

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.name,
      namespace: src.metadata?.namespace,
      labels: { ...input.labels, [MANAGED_BY_LABEL]: MANAGED_BY, 'app.kubernetes.io/name': 'nixrun', [MODE_LABEL]: 'copy' },
      annotations: {
        ...ownerAnnotations(input),
        [COPY_OF_ANNOTATION]: `pod/${src.metadata?.name ?? ''}`,
      },
    },
    spec,
  };
}

/** The container of the copy that runs our command (the replaced one, or the added one). */
export function copyContainerName(pod: V1Pod, replace: string | undefined): string {
  if (replace !== undefined) return replace;
  return pod.spec?.containers[pod.spec.containers.length - 1]?.name ?? CONTAINER_NAME;
}

function stripForCopy(c: V1Container): void {
  delete c.livenessProbe;
  delete c.readinessProbe;
  delete c.startupProbe;
  for (const p of c.ports ?? []) delete p.hostPort;
}

function mergeEnvVars(base: V1EnvVar[], extra: V1EnvVar[]): V1EnvVar[] {
  const names = new Set(extra.map((e) => e.name));
  return [...base.filter((e) => !names.has(e.name)), ...extra];
}
