import type { V1Pod } from '@kubernetes/client-node';
import { MODE_LABEL } from './copy.js';
import { buildPod, type PodInput } from './manifest.js';

/** Where the node's root filesystem appears in the node pod (kubectl debug, oc debug: the same). */
export const HOST_ROOT = '/host';

/**
 * --host-shell: enter every namespace of the host's PID 1 (util-linux nsenter) and run the host's
 * own shell, or the user's command. The script is a constant; the user's command is passed as
 * arguments after it, never as shell text.
 */
export function hostShellCommand(command: string[]): string[] {
  // The namespaces one by one, as node-shell does: --all would add the user namespace, which
  // hardened hosts refuse to let even a privileged container stat.
  const enter = ['nsenter', '--target', '1', '--mount', '--uts', '--ipc', '--net', '--pid', '--'];
  if (command.length > 0) return [...enter, ...command];
  return [...enter, '/bin/sh', '-c', 'command -v bash >/dev/null 2>&1 && exec bash -l; exec sh -l'];
}

/**
 * A pod on one node, in its host namespaces: nodeName (no scheduler, so cordons and NoSchedule
 * taints do not stop it), every taint tolerated (NoExecute ones would evict it), hostPID,
 * hostNetwork and hostIPC, the host's / at /host, and the tools from the image rather than the
 * host's (Talos and Bottlerocket have no shell). The profile decides the container's privileges
 * (sysadmin by default: privileged, as oc debug and node-shell).
 */
export function buildNodePod(input: Omit<PodInput, 'node' | 'tolerations' | 'hostNetwork' | 'nodeSelector'> & { node: string; arch: string }): V1Pod {
  const pod = buildPod({ ...input, nodeSelector: undefined, node: undefined, hostNetwork: true });
  const spec = pod.spec!;
  spec.nodeName = input.node;
  // The node is fixed: only the OS and architecture selectors would stand in the kubelet's way.
  delete spec.nodeSelector;
  spec.tolerations = [{ operator: 'Exists' }];
  spec.hostPID = true;
  spec.hostIPC = true;
  spec.volumes = [...(spec.volumes ?? []), { name: 'host-root', hostPath: { path: '/', type: 'Directory' } }];
  const c = spec.containers[0]!;
  c.volumeMounts = [...(c.volumeMounts ?? []), { name: 'host-root', mountPath: HOST_ROOT }];
  c.env = [...(c.env ?? []), { name: 'HOST', value: HOST_ROOT }];
  pod.metadata!.labels = { ...pod.metadata!.labels, [MODE_LABEL]: 'node' };
  return pod;
}
