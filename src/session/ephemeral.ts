import type { V1Container, V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import { formatDuration } from '../duration.js';
import { ExitCode, NixrunError } from '../errors.js';
import { imageFor } from '../image/index.js';
import type { Kube } from '../kube/client.js';
import { patchEphemeral, PodSecurityRejection } from '../kube/ephemeral.js';
import { detectArch } from '../kube/nodes.js';
import { containerStatus, waitForExit } from '../kube/pods.js';
import { waitForStart } from '../kube/start.js';
import { resolvePod } from '../kube/targets.js';
import { containerCommand } from '../pod/command.js';
import { buildEphemeralContainer, chooseContainer, containerNames, ephemeralPatch, mountsFrom } from '../pod/ephemeral.js';
import { fitCandidates, identityOf, psaRefusal, type Fit, type PsaLevel } from '../pod/fit.js';
import { BASE_ENV, mergeEnv } from '../pod/manifest.js';
import { planForArch } from '../plan/arch.js';
import type { RunPlan } from '../plan/types.js';
import type { Arch } from '../image/ref.js';
import type { Ui } from '../ui/output.js';
import { Session } from './index.js';
import { psaLevel } from './recipes.js';

type TargetMode = Extract<RunPlan['mode'], { kind: 'target' }>;

/** The kubelet reports the exit a moment after the stream ends. */
const EXIT_STATUS_WAIT_MS = 30_000;
const FAIL_FAST_GRACE_MS = 20_000;

/** What is known about the target before anything is sent: the pod, its container, the profiles that fit. */
export interface EphemeralTarget {
  pod: V1Pod;
  name: string;
  target: V1Container;
  candidates: Fit[];
  level?: PsaLevel;
  mounts: V1Container['volumeMounts'];
  skippedMounts: string[];
}

/** Read the target (GETs only) and decide what could be added: shared by the run and --dry-run. */
export async function inspectTarget(plan: RunPlan, kube: Kube): Promise<EphemeralTarget> {
  const mode = plan.mode as TargetMode;
  const [pod, level] = await Promise.all([resolvePod(kube, mode.ref), psaLevel(kube)]);
  const name = pod.metadata?.name ?? mode.ref.name;
  const target = chooseContainer(pod, mode.container);
  const candidates = fitCandidates({ explicit: plan.profileExplicit ? plan.profile : undefined, level, target: identityOf(pod, target), namespace: kube.namespace, what: 'an ephemeral container' });
  const from = mode.mountFrom !== undefined ? mountsFrom(chooseContainer(pod, mode.mountFrom, '--mount-from'), { allowSubPath: false }) : { mounts: [], skipped: [] };
  return { pod, name, target, candidates, level, mounts: from.mounts, skippedMounts: from.skipped };
}

/** The ephemeral container for one fitted profile. */
export function ephemeralFor(plan0: RunPlan, t: EphemeralTarget, fit: Fit, o: { image: string; arch: Arch }): V1EphemeralContainer {
  const plan = planForArch(plan0, o.arch);
  // The image's /tmp is read-only for anyone but root and an ephemeral container cannot have
  // volumes of its own: a non-root user gets the pod's /dev/shm (a writable tmpfs) for HOME.
  const home = fit.uid === 0 || (t.mounts ?? []).some((m) => m.mountPath === '/tmp') ? '/tmp' : '/dev/shm';
  const base = BASE_ENV.map((e) => (e.name === 'HOME' || e.name === 'TMPDIR' ? { ...e, value: home } : e));
  return buildEphemeralContainer({
    taken: containerNames(t.pod),
    exe: plan.exe,
    image: o.image,
    command: containerCommand(plan.command, { init: plan.init, gate: plan.stdin, subreaper: true, timeoutSeconds: plan.deadlineSeconds }),
    target: t.target.name,
    stdin: plan.stdin,
    tty: plan.tty,
    env: mergeEnv(base, plan.env),
    securityContext: fit.securityContext,
    volumeMounts: t.mounts,
    imagePullPolicy: plan.imagePullPolicy,
  });
}

/**
 * --target: an ephemeral container in a running pod. It can never be removed, so everything that
 * can fail is checked before it is added: the target runs, the image exists (pre-flight, pinned
 * by digest, for the architecture of the pod's node), and a server-side dry run of the very same
 * patch passes validation and admission (Pod Security included). Nothing is deleted afterwards:
 * there is nothing that could be.
 */
export class EphemeralSession extends Session {
  protected override async steps(): Promise<number> {
    const { plan, ui, kube } = this;
    const signal = this.abort.signal;
    const mode = plan.mode as TargetMode;
    this.status.update(`reading ${mode.ref.kind}/${mode.ref.name} in ${kube.namespace}`, { restartClock: true });
    const t = await this.cancellable(inspectTarget(plan, kube));
    this.status.stop();
    const phase = t.pod.status?.phase;
    if (phase !== 'Running') {
      throw new NixrunError(`pod ${t.name} is ${phase ?? 'not running'}: an ephemeral container only starts in a running pod`, { exitCode: ExitCode.cannotRun, hint: `debug a copy instead: kubectl nixrun --copy pod/${t.name} …` });
    }
    const ts = t.pod.status?.containerStatuses?.find((s) => s.name === t.target.name);
    if (!ts?.state?.running) {
      const why = ts?.state?.waiting?.reason ?? (ts?.state?.terminated ? `terminated, ${ts.state.terminated.reason ?? `exit ${ts.state.terminated.exitCode}`}` : 'not started');
      throw new NixrunError(`container ${t.target.name} of pod ${t.name} is not running (${why}): there are no processes to share`, { exitCode: ExitCode.cannotRun, hint: `run the tools in a copy instead: kubectl nixrun --copy pod/${t.name} --replace ${t.target.name} …` });
    }
    for (const m of t.skippedMounts) ui.warn(`--mount-from: ${m} is a subPath mount, which ephemeral containers cannot have; it is left out`);

    const arch = plan.arch === 'auto' ? (await this.cancellable(detectArch(kube, t.pod.spec?.nodeName))).arch : plan.arch;
    const image = imageFor(plan, arch);
    for (const w of image.warnings) ui.warn(w);
    let imageRef = image.ref;
    if (plan.preflight) {
      imageRef = await this.preflight(image);
      if (!imageRef.includes('@sha256:')) {
        throw new NixrunError(`the image could not be checked on ${image.registry}, and an ephemeral container whose image fails can never be removed from pod ${t.name}: not adding it`, {
          exitCode: ExitCode.cannotRun,
          hint: 'if the nodes can reach the registry, add --no-preflight to add it unchecked',
        });
      }
    } else ui.warn('--no-preflight: the image is not checked; if it cannot be pulled, the failed container stays in the pod until the pod is recreated');

    // The same patch twice: a dry run first, where validation and admission speak without
    // anything being stored; without the namespace's level, each fitting profile in turn.
    let ec: V1EphemeralContainer | undefined;
    let fit: Fit | undefined;
    this.status.update(`checking the ephemeral container with the API server (dry run)`, { restartClock: true });
    for (const [i, candidate] of t.candidates.entries()) {
      const attempt = ephemeralFor(plan, t, candidate, { image: imageRef, arch });
      try {
        ui.debug(`PATCH /api/v1/namespaces/${kube.namespace}/pods/${t.name}/ephemeralcontainers?dryRun=All (${candidate.profile})`);
        await this.cancellable(patchEphemeral(kube, t.name, ephemeralPatch(attempt), { dryRun: true }));
        ec = attempt;
        fit = candidate;
        break;
      } catch (err) {
        if (!(err instanceof PodSecurityRejection)) throw err;
        if (i < t.candidates.length - 1) continue;
        this.status.stop();
        const refusal = psaRefusal({ namespace: kube.namespace, level: err.level as PsaLevel, profile: candidate.profile, what: 'an ephemeral container' });
        throw new NixrunError(`${refusal.message}: ${err.message.replace(/^namespace \S+ enforces Pod Security "[a-z]+" and rejected the pod: /, '')}`, { exitCode: ExitCode.cannotRun, hint: refusal.hint, cause: err });
      }
    }
    this.status.stop();
    if (!ec || !fit) throw new NixrunError('no profile fits this pod', { exitCode: ExitCode.cannotRun });

    ui.info(
      `adding ephemeral container ${ec.name} to pod ${t.name} (targeting ${t.target.name}, ${fit.why}, --profile ${fit.profile}); ` +
        `it stays in the pod's spec until the pod is recreated (Kubernetes cannot remove ephemeral containers), and its command is stopped after ${formatDuration(plan.deadlineSeconds * 1000)} (--deadline)`,
    );
    ui.debug(`PATCH /api/v1/namespaces/${kube.namespace}/pods/${t.name}/ephemeralcontainers (${ec.name}, image ${imageRef})`);
    await this.cancellable(patchEphemeral(kube, t.name, ephemeralPatch(ec), { dryRun: false }));
    this.added = { pod: t.name, container: ec.name };
    this.container = ec.name;

    this.status.update(`starting ${ec.name} in pod ${t.name}`, { restartClock: true });
    const started = await waitForStart(kube, t.name, {
      timeoutMs: plan.podRunningTimeoutSeconds * 1000,
      graceMs: Math.min(FAIL_FAST_GRACE_MS, (plan.podRunningTimeoutSeconds * 1000) / 2),
      signal,
      onProgress: (p) => this.status.update(`${ec.name} in pod ${t.name}: ${p.stage}`),
      container: ec.name,
    });
    this.status.stop();
    if (!containerStatus(started, ec.name)?.state?.terminated) {
      if (plan.stdin) await this.attach(kube, t.name);
      else await this.followLogs(kube, t.name);
    } else await this.followLogs(kube, t.name);

    const exit = await this.cancellable(waitForExit(kube, t.name, { timeoutMs: EXIT_STATUS_WAIT_MS, signal, container: ec.name }));
    if (!exit) throw new NixrunError(`could not read the exit code of ephemeral container ${ec.name}`, { exitCode: ExitCode.tool, hint: `kubectl get pod ${t.name} -o jsonpath='{.status.ephemeralContainerStatuses}'` });
    this.finished = true;
    if (exit.exitCode === 124 && plan.deadlineSeconds > 0) ui.warn(`exit 124: the command may have reached its --deadline (${formatDuration(plan.deadlineSeconds * 1000)})`);
    return exit.exitCode;
  }

  private added: { pod: string; container: string } | undefined;
  private finished = false;

  /** Nothing can be deleted; say what is left when the command may still run. */
  protected override async cleanup(): Promise<void> {
    if (!this.added || this.finished) return;
    const { pod, container } = this.added;
    this.ui.warn(
      `ephemeral container ${container} may still be running in pod ${pod} until its command ends (at most --deadline); ` +
        `reattach: kubectl attach -it -n ${this.kube.namespace} ${pod} -c ${container}`,
    );
  }
}

/** For --dry-run: what would be sent, with the first fitting profile and the unpinned image. */
export async function ephemeralDryRun(plan: RunPlan, kube: Kube, ui: Ui): Promise<object> {
  const t = await inspectTarget(plan, kube);
  const arch = plan.arch === 'auto' ? (await detectArch(kube, t.pod.spec?.nodeName)).arch : plan.arch;
  const image = imageFor(plan, arch);
  const fit = t.candidates[0]!;
  ui.note(`--dry-run: PATCH /api/v1/namespaces/${kube.namespace}/pods/${t.name}/ephemeralcontainers (strategic merge) would send this (${fit.why}); the run pre-flights the image and pins its digest`);
  return ephemeralPatch(ephemeralFor(plan, t, fit, { image: image.ref, arch }));
}
