import type { V1Pod } from '@kubernetes/client-node';
import type { Arch } from '../image/ref.js';
import { planForArch } from '../plan/arch.js';
import type { RunPlan } from '../plan/types.js';
import { containerCommand } from './command.js';
import type { Owner } from './manifest.js';
import { buildNodePod } from './node.js';

/** The node pod of a node/NAME plan (pure: --dry-run prints it without a cluster). */
export function nodePodFor(plan0: RunPlan, node: string, o: { image: string; arch: Arch; owner: Owner; name: string }): V1Pod {
  const p = planForArch(plan0, o.arch);
  return buildNodePod({
    name: o.name,
    namespace: p.namespace,
    image: o.image,
    command: containerCommand(p.command, { init: p.init, gate: p.stdin, subreaper: true }),
    stdin: p.stdin,
    tty: p.tty,
    env: p.env,
    envFrom: p.envFrom,
    profile: p.profile,
    packages: [...p.packages, ...p.addedPackages],
    exe: p.exe,
    labels: p.labels,
    annotations: p.annotations,
    keep: p.keep,
    imagePullPolicy: p.imagePullPolicy,
    activeDeadlineSeconds: p.deadlineSeconds,
    owner: o.owner,
    serviceAccount: p.serviceAccount,
    requests: p.requests,
    limits: p.limits,
    node,
    arch: o.arch,
  });
}
