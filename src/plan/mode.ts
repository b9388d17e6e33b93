import { UsageError } from '../errors.js';
import { isDnsLabel, isDnsSubdomain } from '../pod/parse.js';
import type { ProfileName } from '../pod/profiles.js';

/**
 * What a run works on. `pod`: a fresh pod (the default). `target`: an ephemeral container in a
 * running pod. `copy`: a disposable copy of a pod. `node`: a pod in a node's host namespaces.
 */
export type Mode =
  | { kind: 'pod' }
  | { kind: 'target'; ref: WorkloadRef; container?: string; mountFrom?: string }
  | { kind: 'copy'; ref: WorkloadRef; replace?: string; container?: string; mountFrom?: string; shareProcesses?: boolean; sameNode: boolean }
  | { kind: 'node'; node: string; hostShell: boolean };

/** A pod, or a workload that resolves to one of its pods as `kubectl exec deploy/web` does. */
export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
}

export type WorkloadKind = 'pod' | 'deployment' | 'statefulset' | 'daemonset' | 'replicaset' | 'job';

/** kubectl's names and short names for the kinds a pod can be picked from. */
const KINDS: Record<string, WorkloadKind> = {
  pod: 'pod',
  pods: 'pod',
  po: 'pod',
  deployment: 'deployment',
  deployments: 'deployment',
  deploy: 'deployment',
  'deployment.apps': 'deployment',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  sts: 'statefulset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  ds: 'daemonset',
  replicaset: 'replicaset',
  replicasets: 'replicaset',
  rs: 'replicaset',
  job: 'job',
  jobs: 'job',
};

/** The mode flags as the CLI hands them over (`node/NAME` as the positional is already taken apart). */
export interface ModeFlags {
  target?: string;
  container?: string;
  mountFrom?: string;
  copy?: string;
  replace?: string;
  shareProcesses?: boolean;
  sameNode?: boolean;
  nodeShell?: string;
  hostShell?: boolean;
}

/** The flags of a fresh pod that have no meaning (or no place in the API) in a mode, with why. */
export interface PodOnlyFlags {
  hostNetwork?: boolean;
  node?: string;
  serviceAccount?: string;
  requests?: string;
  limits?: string;
  labels?: string[];
  annotations?: string[];
  overrides?: string;
  toleration?: string[];
  keep?: boolean;
  envFrom?: string[];
}

/**
 * `pod/web:app`, `pod/web`, `deploy/web`, `sts/db:postgres` → the workload and the container.
 * A bare name is refused: kubectl debug's --target takes a container name, so `--target app`
 * most likely means `-c app`.
 */
export function parseWorkloadRef(flag: string, value: string): { ref: WorkloadRef; container?: string } {
  const slash = value.indexOf('/');
  if (slash === -1) {
    throw new UsageError(
      `${flag} ${JSON.stringify(value)}: expected pod/NAME[:CONTAINER] (or deploy/NAME, sts/NAME, …)`,
      `the pod comes first: ${flag} pod/${value || 'NAME'}; a container is named with :CONTAINER or -c CONTAINER`,
    );
  }
  const kindWord = value.slice(0, slash).toLowerCase();
  const kind = KINDS[kindWord];
  if (!kind) throw new UsageError(`${flag}: unknown kind "${value.slice(0, slash)}"`, 'use pod/NAME, deploy/NAME, sts/NAME, ds/NAME, rs/NAME or job/NAME');
  const rest = value.slice(slash + 1);
  const colon = rest.indexOf(':');
  const name = colon === -1 ? rest : rest.slice(0, colon);
  const container = colon === -1 ? undefined : rest.slice(colon + 1);
  if (!isDnsSubdomain(name)) throw new UsageError(`${flag}: invalid ${kind} name ${JSON.stringify(name)}: expected a lower-case DNS name`);
  if (container !== undefined) checkContainerName(`${flag} …:CONTAINER`, container);
  return { ref: { kind, name }, container };
}

export function checkContainerName(flag: string, value: string): void {
  if (!isDnsLabel(value)) throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: container names are lower-case DNS labels (a-z, 0-9, -)`);
}

/**
 * Which mode the flags ask for, every conflict refused here (exit 2, before any I/O). Flags that
 * shape a fresh pod are refused in the modes where they cannot act, instead of being ignored.
 */
export function validateMode(m: ModeFlags, pod: PodOnlyFlags, opts: { profile: ProfileName; profileExplicit: boolean }): Mode {
  const chosen = [m.target !== undefined && '--target', m.copy !== undefined && '--copy', m.nodeShell !== undefined && 'node/NAME (--node-shell)'].filter(Boolean) as string[];
  if (chosen.length > 1) throw new UsageError(`${chosen.join(' and ')} cannot be combined`, 'choose one: an ephemeral container (--target), a copy (--copy) or the node (node/NAME)');
  const only = (flag: string, set: boolean | undefined, needs: string) => {
    if (set) throw new UsageError(`${flag} needs ${needs}`);
  };
  only('-c/--container', m.container !== undefined && m.target === undefined && m.copy === undefined, '--target pod/NAME or --copy pod/NAME');
  only('--mount-from', m.mountFrom !== undefined && m.target === undefined && m.copy === undefined, '--target pod/NAME or --copy pod/NAME');
  only('--replace', m.replace !== undefined && m.copy === undefined, '--copy pod/NAME');
  only('--share-processes', m.shareProcesses !== undefined && m.copy === undefined, '--copy pod/NAME');
  only('--same-node', m.sameNode === true && m.copy === undefined, '--copy pod/NAME');
  only('--host-shell', m.hostShell === true && m.nodeShell === undefined, 'node/NAME (or --node-shell NAME)');
  for (const [flag, v] of [['-c/--container', m.container], ['--mount-from', m.mountFrom], ['--replace', m.replace]] as const) {
    if (v !== undefined) checkContainerName(flag, v);
  }

  if (m.target !== undefined) {
    const { ref, container: inRef } = parseWorkloadRef('--target', m.target);
    const container = pickContainer(inRef, m.container);
    refuse(pod, 'an ephemeral container', {
      hostNetwork: 'it shares the pod’s network; use node/NAME for the node’s',
      node: 'it runs where the pod runs',
      serviceAccount: 'it runs with the pod’s own service account',
      requests: 'the API forbids resources on ephemeral containers (they use what the pod has)',
      limits: 'the API forbids resources on ephemeral containers (they use what the pod has)',
      labels: 'no pod is created (the target pod’s labels are not changed)',
      annotations: 'no pod is created',
      overrides: 'no pod is created',
      toleration: 'it runs where the pod runs',
      keep: 'an ephemeral container always stays in the pod’s spec',
      envFrom: 'use --env (the pod’s own Secrets stay as they are)',
    });
    return { kind: 'target', ref, container, mountFrom: m.mountFrom };
  }
  if (m.copy !== undefined) {
    const { ref, container: inRef } = parseWorkloadRef('--copy', m.copy);
    const container = pickContainer(inRef, m.container);
    if (m.replace !== undefined && container !== undefined && container !== m.replace) {
      throw new UsageError(`--replace ${m.replace} and container ${container} disagree`, 'name the container once: --copy pod/NAME --replace CONTAINER');
    }
    refuse(pod, 'a copy', {
      hostNetwork: 'the copy keeps the pod’s own network settings; use node/NAME for the node’s',
      node: 'use --same-node to keep the pod’s node',
      serviceAccount: 'the copy keeps the pod’s service account',
    });
    return { kind: 'copy', ref, replace: m.replace, container, mountFrom: m.mountFrom, shareProcesses: m.shareProcesses, sameNode: m.sameNode ?? false };
  }
  if (m.nodeShell !== undefined) {
    if (!isDnsSubdomain(m.nodeShell)) throw new UsageError(`invalid node name ${JSON.stringify(m.nodeShell)}: expected a lower-case DNS name`);
    if (opts.profileExplicit && opts.profile === 'restricted') {
      throw new UsageError('node/NAME runs as root in the node’s namespaces: --profile restricted cannot do that', 'drop --profile (the default is sysadmin: privileged), or use baseline or netadmin');
    }
    refuse(pod, 'a node pod', {
      hostNetwork: 'the node pod always has the node’s network',
      node: 'the node is the one in node/NAME',
      toleration: 'the node pod tolerates every taint already',
      overrides: 'the node pod is fixed by design; use a fresh pod with --node and --overrides instead',
    });
    return { kind: 'node', node: m.nodeShell, hostShell: m.hostShell ?? false };
  }
  return { kind: 'pod' };
}

function pickContainer(inRef: string | undefined, flag: string | undefined): string | undefined {
  if (inRef !== undefined && flag !== undefined && inRef !== flag) {
    throw new UsageError(`two containers named: :${inRef} and -c ${flag}`, 'name it once, with pod/NAME:CONTAINER or -c CONTAINER');
  }
  return inRef ?? flag;
}

function refuse(pod: PodOnlyFlags, what: string, why: Partial<Record<keyof PodOnlyFlags, string>>): void {
  const flagName: Record<keyof PodOnlyFlags, string> = {
    hostNetwork: '--host-network',
    node: '--node',
    serviceAccount: '--service-account',
    requests: '--requests',
    limits: '--limits',
    labels: '-l/--labels',
    annotations: '--annotations',
    overrides: '--overrides',
    toleration: '--toleration',
    keep: '--keep',
    envFrom: '--env-from',
  };
  for (const [key, reason] of Object.entries(why) as Array<[keyof PodOnlyFlags, string]>) {
    const v = pod[key];
    const set = Array.isArray(v) ? v.length > 0 : v !== undefined && v !== false;
    if (set) throw new UsageError(`${flagName[key]} does not apply to ${what}: ${reason}`);
  }
}
