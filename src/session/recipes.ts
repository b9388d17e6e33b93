import type { V1Pod } from '@kubernetes/client-node';
import { ExitCode, NixrunError } from '../errors.js';
import type { Kube } from '../kube/client.js';
import { httpStatus } from '../kube/errors.js';
import { namespaceLabels } from '../kube/ephemeral.js';
import { checkNode } from '../kube/node-check.js';
import { PodNotCreatedError } from '../kube/pods.js';
import { resolvePod } from '../kube/targets.js';
import { containerCommand } from '../pod/command.js';
import { buildPodCopy, copyContainerName, copyName } from '../pod/copy.js';
import { chooseContainer, mountsFrom } from '../pod/ephemeral.js';
import { enforceLevel, fitCandidates, identityOf, psaRefusal, type Fit, type PsaLevel } from '../pod/fit.js';
import { podFor } from '../pod/for-plan.js';
import { podName, type Owner } from '../pod/manifest.js';
import { nodePodFor } from '../pod/for-mode.js';
import { planForArch } from '../plan/arch.js';
import type { RunPlan } from '../plan/types.js';
import type { Arch } from '../image/ref.js';
import type { Ui } from '../ui/output.js';

/** How one mode makes the pod the session creates, attaches to and deletes. */
export interface PodRecipe {
  name: string;
  /** The node whose architecture the image must have (undefined: the cluster's). */
  archNode?: string;
  build(o: { image: string; arch: Arch; owner: Owner; name: string }): V1Pod;
  /** The container that runs the command (undefined: ours, in a fresh pod). */
  container(pod: V1Pod): string | undefined;
  /** A refusal of the create, in the mode's own words (Pod Security for a node pod). */
  explainRefusal?(err: unknown): unknown;
}

export async function podRecipe(plan: RunPlan, kube: Kube, ui: Ui): Promise<PodRecipe> {
  const mode = plan.mode;
  if (mode.kind === 'copy') return copyRecipe(plan, mode, kube, ui);
  if (mode.kind === 'node') return nodeRecipe(plan, mode, kube, ui);
  return { name: podName(plan.exe), archNode: plan.node, build: (o) => podFor(plan, o), container: () => undefined };
}

/** The namespace's enforce level, or undefined when we may not read the namespace. */
export async function psaLevel(kube: Kube): Promise<PsaLevel | undefined> {
  const labels = await namespaceLabels(kube);
  return labels === undefined ? undefined : enforceLevel(labels);
}

async function copyRecipe(plan: RunPlan, mode: Extract<RunPlan['mode'], { kind: 'copy' }>, kube: Kube, ui: Ui): Promise<PodRecipe> {
  const [source, level] = await Promise.all([resolvePod(kube, mode.ref), psaLevel(kube)]);
  const sourceName = source.metadata?.name ?? mode.ref.name;
  const target = chooseContainer(source, mode.replace ?? mode.container, mode.replace !== undefined ? '--replace' : '-c');
  const candidates = fitCandidates({ explicit: plan.profileExplicit ? plan.profile : undefined, level, target: identityOf(source, target), namespace: kube.namespace, what: 'the copy’s container' });
  // Without the namespace's level, take the safest candidate that still fits a root target: the
  // create itself is the check, and a refused copy leaves nothing behind.
  const fit: Fit = level === undefined ? candidates[candidates.length - 1]! : candidates[0]!;
  const mounts = mode.mountFrom !== undefined ? mountsFrom(chooseContainer(source, mode.mountFrom, '--mount-from'), { allowSubPath: true }).mounts : undefined;
  ui.note(`copy of pod ${sourceName}${mode.replace ? ` with container ${mode.replace} replaced` : ''}, ${fit.why} (--profile ${fit.profile})`);
  const name = copyName(sourceName);
  return {
    name,
    archNode: source.spec?.nodeName,
    build(o) {
      const p = planForArch(plan, o.arch);
      return buildPodCopy({
        source,
        name: o.name,
        image: o.image,
        command: containerCommand(p.command, { init: p.init, gate: p.stdin, subreaper: true }),
        stdin: p.stdin,
        tty: p.tty,
        env: p.env,
        securityContext: fit.securityContext,
        replace: mode.replace,
        volumeMounts: mounts,
        shareProcesses: mode.shareProcesses,
        sameNode: mode.sameNode,
        arch: o.arch,
        activeDeadlineSeconds: p.deadlineSeconds,
        requests: p.requests,
        limits: p.limits,
        imagePullPolicy: p.imagePullPolicy,
        labels: p.labels,
        annotations: p.annotations,
        keep: p.keep,
        packages: [...p.packages, ...p.addedPackages],
        exe: p.exe,
        owner: o.owner,
      });
    },
    container: (pod) => copyContainerName(pod, mode.replace),
    explainRefusal: (err) => psaExplained(err, kube, fit.profile, 'the copy'),
  };
}

async function nodeRecipe(plan: RunPlan, mode: Extract<RunPlan['mode'], { kind: 'node' }>, kube: Kube, ui: Ui): Promise<PodRecipe> {
  const [level, node] = await Promise.all([psaLevel(kube), checkNode(kube, mode.node)]);
  // Refused up front, nothing created: a node pod needs the privileged level whatever the profile.
  if (level !== undefined && level !== 'privileged') throw psaRefusal({ namespace: kube.namespace, level, profile: 'node', what: 'a node pod' });
  if (node.warning) ui.warn(node.warning);
  return {
    name: podName(`node-${mode.node}`),
    archNode: mode.node,
    build: (o) => nodePodFor(plan, mode.node, o),
    container: () => undefined,
    explainRefusal: (err) => psaExplained(err, kube, 'node', 'a node pod'),
  };
}

/** A Pod Security rejection of the create, explained with the label that would allow it. */
function psaExplained(err: unknown, kube: Kube, profile: Fit['profile'] | 'node', what: string): unknown {
  const cause = err instanceof NixrunError ? err.cause : err;
  if (!(err instanceof PodNotCreatedError) || httpStatus(cause) !== 403) return err;
  const m = /Pod Security "([a-z]+)"/.exec(err.message);
  if (!m) return err;
  const refusal = psaRefusal({ namespace: kube.namespace, level: m[1] as PsaLevel, profile, what });
  return new NixrunError(refusal.message, { exitCode: ExitCode.cannotRun, hint: refusal.hint, cause: err });
}
