import type { V1Container, V1EphemeralContainer, V1EnvVar, V1Pod, V1VolumeMount } from '@kubernetes/client-node';
import { ExitCode, NixrunError, UsageError } from '../errors.js';
import { podName } from './manifest.js';

/** kubectl's rule (podcmd.FindOrDefaultContainerByName): this annotation, else the first container. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/**
 * The container of `pod` to work with: the one named, else the default-container annotation's,
 * else the first. A name the pod does not have is an error listing the ones it has.
 */
export function chooseContainer(pod: V1Pod, name: string | undefined, flag = '-c'): V1Container {
  const containers = pod.spec?.containers ?? [];
  const who = pod.metadata?.name ?? 'the pod';
  const wanted = name ?? pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (wanted !== undefined) {
    const found = containers.find((c) => c.name === wanted);
    if (found) return found;
    if (name === undefined && containers[0]) return containers[0]; // a stale annotation: kubectl falls back too
    throw new UsageError(`pod ${who} has no container "${wanted}" (${flag})`, `its containers: ${containers.map((c) => c.name).join(', ') || 'none'}`);
  }
  if (!containers[0]) throw new NixrunError(`pod ${who} has no containers`, { exitCode: ExitCode.tool });
  return containers[0];
}

/**
 * The target's volume mounts, so its files are at their usual paths. The API forbids subPath and
 * subPathExpr on ephemeral containers, so those mounts are left out and named.
 */
export function mountsFrom(container: V1Container, opts: { allowSubPath: boolean }): { mounts: V1VolumeMount[]; skipped: string[] } {
  const mounts: V1VolumeMount[] = [];
  const skipped: string[] = [];
  for (const m of container.volumeMounts ?? []) {
    if (!opts.allowSubPath && (m.subPath || m.subPathExpr)) skipped.push(m.mountPath);
    else mounts.push({ ...m });
  }
  return { mounts, skipped };
}

export interface EphemeralInput {
  /** The pod's existing container names (all kinds), so ours is unique. */
  taken: string[];
  exe: string;
  image: string;
  command: string[];
  target: string;
  stdin: boolean;
  tty: boolean;
  env: V1EnvVar[];
  securityContext: V1EphemeralContainer['securityContext'];
  volumeMounts?: V1VolumeMount[];
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  rand?: () => string;
}

/**
 * The ephemeral container. stdinOnce: a dropped session closes stdin, so a shell gets EOF and
 * ends instead of running forever (kubectl debug leaves it open). Digest-pinned images are pulled
 * IfNotPresent: nothing can change under the same digest.
 */
export function buildEphemeralContainer(input: EphemeralInput): V1EphemeralContainer {
  let name = podName(input.exe, input.rand);
  for (let i = 0; input.taken.includes(name) && i < 10; i++) name = podName(input.exe, input.rand);
  const ec: V1EphemeralContainer = {
    name,
    image: input.image,
    command: [...input.command],
    targetContainerName: input.target,
    stdin: input.stdin,
    stdinOnce: input.stdin,
    tty: input.tty,
    env: input.env,
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: input.securityContext,
  };
  if (input.volumeMounts && input.volumeMounts.length > 0) ec.volumeMounts = input.volumeMounts;
  const policy = input.imagePullPolicy ?? (input.image.includes('@sha256:') ? 'IfNotPresent' : undefined);
  if (policy) ec.imagePullPolicy = policy;
  return ec;
}

/**
 * The strategic merge patch for pods/NAME/ephemeralcontainers: a Pod patch (a bare container
 * "succeeds" and adds nothing), and ephemeralContainers merges by name, so it only adds ours.
 */
export function ephemeralPatch(ec: V1EphemeralContainer): { spec: { ephemeralContainers: V1EphemeralContainer[] } } {
  return { spec: { ephemeralContainers: [ec] } };
}

/** Every container name in the pod (regular, init, ephemeral): an ephemeral name must differ from all. */
export function containerNames(pod: V1Pod): string[] {
  const s = pod.spec;
  return [...(s?.containers ?? []), ...(s?.initContainers ?? []), ...(s?.ephemeralContainers ?? [])].map((c) => c.name);
}
