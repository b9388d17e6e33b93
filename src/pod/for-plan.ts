import type { V1Pod } from '@kubernetes/client-node';
import type { Arch } from '../image/ref.js';
import { planForArch } from '../plan/arch.js';
import type { RunPlan } from '../plan/types.js';
import { containerCommand } from './command.js';
import { withScript } from '../script/pod.js';
import { buildPod, podName, type Owner } from './manifest.js';

/** The pod that will be sent: `image` may be the tag reference or the digest-pinned one. */
export function podFor(plan0: RunPlan, opts: { image: string; arch: Arch; owner: Owner; name?: string }): V1Pod {
  const plan = planForArch(plan0, opts.arch);
  const pod = buildPod({
    name: opts.name ?? podName(plan.exe),
    namespace: plan.namespace,
    image: opts.image,
    command: containerCommand(plan.command, { init: plan.init, gate: plan.stdin }),
    stdin: plan.stdin,
    tty: plan.tty,
    env: plan.env,
    envFrom: plan.envFrom,
    hostNetwork: plan.hostNetwork,
    profile: plan.profile,
    packages: [...plan.packages, ...plan.addedPackages],
    exe: plan.exe,
    // Pin the architecture the image was built for, so an amd64 image never lands on an arm64 node.
    nodeSelector: { 'kubernetes.io/arch': opts.arch },
    tolerations: plan.tolerations,
    labels: plan.labels,
    annotations: plan.annotations,
    keep: plan.keep,
    activeDeadlineSeconds: plan.deadlineSeconds,
    owner: opts.owner,
    serviceAccount: plan.serviceAccount,
    node: plan.node,
    requests: plan.requests,
    limits: plan.limits,
    imagePullPolicy: plan.imagePullPolicy,
    imagePullSecrets: plan.imagePullSecrets,
    overrides: plan.overrides,
  });
  return plan.script ? withScript(pod, plan.script) : pod;
}
