import { Log, type V1Pod } from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
import { ExitCode, NixrunError } from '../errors.js';
import { withDigest, type ImageRef } from '../image/index.js';
import { MissingPackagesError, preflight } from '../image/preflight.js';
import { attach, type Attached } from '../kube/attach.js';
import { connect, type Kube } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import { detectArch } from '../kube/nodes.js';
import { containerStatus, CONTAINER, createPod, deletePod, formatDuration, PodNotCreatedError, sleep, waitForExit, waitForStart } from '../kube/pods.js';
import { podName } from '../pod/index.js';
import { currentOwner } from '../cli/owner.js';
import { GATE_PREAMBLE, imageFor, podFor, type RunPlan } from '../cli/plan.js';
import type { Io, Ui } from '../ui/output.js';
import { Progress } from '../ui/progress.js';
import { sweepStale } from './gc.js';
import { Interrupted, signalExitCode, trapSignals } from './signals.js';

export interface SessionContext {
  /** Did-you-mean for packages Nixery does not know. */
  suggest?: (name: string) => string[];
}

/** Nixery builds synchronously; 90 s covers a first build of a typical closure (nixery.md §4.3). */
const PREFLIGHT_TIMEOUT_MS = 90_000;
/** How long a scheduling or pull failure may last before we call it final. */
const FAIL_FAST_GRACE_MS = 20_000;

/**
 * The run: pre-flight, create, wait (with progress), attach, exit code, and cleanup on every
 * path. The pod is deleted on normal exit, on errors, and on SIGINT/SIGTERM/SIGHUP/SIGQUIT in any
 * phase; `--keep` is the only way to leave it.
 */
export async function runSession(plan: RunPlan, ui: Ui, io: Io, ctx: SessionContext = {}): Promise<number> {
  const session = new Session(plan, ui, io, ctx);
  return session.run();
}

class Session {
  private readonly abort = new AbortController();
  private readonly progress: Progress;
  private kube: Kube | undefined;
  /** Set before the create call: from then on the pod may exist and must be cleaned up. */
  private podName: string | undefined;
  private podFinished = false;
  private rawMode = false;
  private attached: Attached | undefined;

  constructor(
    private readonly plan: RunPlan,
    private readonly ui: Ui,
    private readonly io: Io,
    private readonly ctx: SessionContext,
  ) {
    this.progress = new Progress(ui);
  }

  async run(): Promise<number> {
    const untrap = trapSignals(
      (sig) => this.abort.abort(new Interrupted(sig)),
      (sig) => {
        this.restoreTerminal();
        this.ui.warn(`second ${sig}: exiting without waiting for cleanup${this.podName ? `; pod ${this.podName} may be left (kubectl nixrun gc removes it)` : ''}`);
        process.exit(signalExitCode(sig));
      },
    );
    // A closed terminal (SIGHUP) makes writes fail; that must not stop the cleanup.
    const ignore = () => {};
    this.io.stdout.on('error', ignore);
    this.io.stderr.on('error', ignore);
    let code: number;
    let failure: unknown;
    try {
      code = await this.steps();
    } catch (err) {
      failure = err;
      code = exitCodeFor(err);
    } finally {
      this.progress.stop();
      this.restoreTerminal();
    }
    try {
      await this.cleanup();
    } catch (err) {
      failure ??= err;
      if (code === ExitCode.ok) code = exitCodeFor(err);
      else this.ui.error(err);
    }
    untrap();
    if (failure !== undefined) {
      if (failure instanceof Interrupted) return code;
      throw Object.assign(failure instanceof Error ? failure : new Error(String(failure)), { exitCode: code });
    }
    return code;
  }

  private async steps(): Promise<number> {
    const { plan, ui } = this;
    const signal = this.abort.signal;
    const kube = (this.kube = connect({ kubeconfig: plan.kubeconfig, context: plan.context, namespace: plan.namespace }, this.io.env));
    ui.debug(`context ${kube.context}, server ${kube.server}, namespace ${kube.namespace}`);
    const owner = currentOwner();
    const sweep = plan.sweep ? sweepStale(kube, { signal }).catch(() => 0) : Promise.resolve(0);

    const archDecision = plan.arch === 'auto' ? await this.cancellable(detectArch(kube, plan.node)) : { arch: plan.arch };
    if ('note' in archDecision && archDecision.note) ui.note(archDecision.note);
    const image = imageFor(plan, archDecision.arch);
    for (const w of image.warnings) ui.warn(w);

    ui.debug(`architecture ${archDecision.arch}; image ${image.ref}`);
    const imageRef = plan.preflight ? await this.preflight(image) : image.ref;
    const name = podName(plan.exe);
    const pod = podFor(plan, { image: imageRef, arch: archDecision.arch, owner, name, archSelector: true });

    this.podName = name;
    ui.debug(`POST /api/v1/namespaces/${kube.namespace}/pods (${name}, image ${imageRef})`);
    this.progress.update(`creating pod ${name} in ${kube.namespace}`, { restartClock: true });
    try {
      await this.cancellable(createPod(kube, pod, plan.profile));
    } catch (err) {
      if (err instanceof PodNotCreatedError) this.podName = undefined; // refused: nothing to delete
      throw err;
    }
    this.progress.update(`waiting for pod ${name}`, { restartClock: true });
    const started = await waitForStart(kube, name, {
      timeoutMs: plan.podRunningTimeoutSeconds * 1000,
      graceMs: Math.min(FAIL_FAST_GRACE_MS, (plan.podRunningTimeoutSeconds * 1000) / 2),
      signal,
      onProgress: (p) => this.progress.update(`pod ${name}: ${p.stage}`),
    });
    this.progress.stop();
    void sweep.then((n) => {
      if (n > 0) ui.note(`removed ${n} stale nixrun pod${n > 1 ? 's' : ''} left by earlier runs`);
    });

    if (!containerStatus(started)?.state?.terminated && started.status?.phase !== 'Succeeded' && started.status?.phase !== 'Failed') {
      if (plan.stdin) await this.attach(kube, name);
      else await this.followLogs(kube, name);
    } else if (!plan.stdin) {
      await this.followLogs(kube, name);
    }

    const exit = await this.cancellable(waitForExit(kube, name, { timeoutMs: 30_000, signal }));
    if (!exit) throw new NixrunError(`could not read the exit code of pod ${name}`, { exitCode: ExitCode.tool, hint: `kubectl get pod ${name} -o yaml` });
    this.podFinished = true;
    if (exit.reason === 'DeadlineExceeded') ui.warn(`pod ${name} reached its --deadline (${formatDuration(plan.deadlineSeconds * 1000)}) and was stopped`);
    return exit.exitCode;
  }

  private async preflight(image: ImageRef): Promise<string> {
    const what = image.packages.filter((p) => !this.plan.extraPackages.includes(p)).join(', ') || 'shell';
    this.progress.update(`building image ${what} on ${image.registry}`, { restartClock: true });
    try {
      const result = await preflight(
        { registry: image.registry, path: image.path, ...(image.tag === undefined ? {} : { tag: image.tag }) },
        { timeoutMs: PREFLIGHT_TIMEOUT_MS, signal: this.abort.signal },
      );
      if (result.kind === 'built') {
        this.progress.stop(this.ui.quiet ? undefined : `image ready in ${formatDuration(result.ms)}: ${image.ref}`);
        return withDigest(image, result.digest);
      }
      this.progress.stop();
      this.ui.warn(`${result.reason}; creating the pod with ${image.ref} (the nodes may reach the registry even if this machine cannot)`);
      return image.ref;
    } catch (err) {
      this.progress.stop();
      if (err instanceof MissingPackagesError && this.ctx.suggest) {
        const ideas = err.missing.flatMap((m) => this.ctx.suggest!(m.replace(/^_(?=\d)/, '')).slice(0, 3));
        if (ideas.length > 0) throw new NixrunError(err.message, { exitCode: err.exitCode, hint: `did you mean ${[...new Set(ideas)].join(', ')}? ${err.hint ?? ''}`.trim() });
      }
      throw err;
    }
  }

  private async attach(kube: Kube, name: string): Promise<void> {
    const { io, plan } = this;
    const tty = plan.tty;
    if (tty && io.stdin.setRawMode) {
      io.stdin.setRawMode(true);
      this.rawMode = true;
    }
    const size = tty && io.stdout.columns && io.stdout.rows ? { width: io.stdout.columns, height: io.stdout.rows } : undefined;
    this.ui.debug(`attach ${kube.namespace}/${name} (tty ${tty}, stdin on)`);
    const attached = await this.cancellable(
      attach(kube, {
        pod: name,
        tty,
        stdin: io.stdin,
        stdout: io.stdout,
        stderr: io.stderr,
        ...(size ? { size } : {}),
        preamble: GATE_PREAMBLE,
        ...heartbeatOption(io.env),
      }),
    );
    this.attached = attached;
    attached.onStdinEofUnsupported = () =>
      this.ui.warn('this API server cannot pass end-of-input to the container (needs Kubernetes 1.30+); the command may wait for more input');
    const onResize = () => {
      if (io.stdout.columns && io.stdout.rows) attached.resize(io.stdout.columns, io.stdout.rows);
    };
    if (tty) io.stdout.on('resize', onResize);
    let end;
    try {
      end = await this.cancellable(attached.ended);
    } finally {
      io.stdout.off('resize', onResize);
      attached.close();
    }
    // A normal end carries the kubelet's status frame. Without it the connection dropped (API
    // server restart, network): if the command still runs, follow its output from the logs.
    this.ui.debug(`attach ended: code ${end.code}, status ${end.status ? JSON.stringify(end.status) : 'none'}, ${attached.pongs()} heartbeat pongs`);
    if (end.status === undefined) {
      this.restoreTerminal();
      this.ui.warn(`the connection to pod ${name} dropped (code ${end.code}); continuing from its logs`);
      const pod = await this.cancellable(readPodPatiently(kube, name, 30_000));
      // The logs hold everything the container wrote: skip what the attach already showed.
      if (pod) await this.followLogs(kube, name, attached.received());
    }
  }

  /**
   * --stdin=false: nothing to send, so read the logs from the start instead (no output lost).
   * After a dropped attach, `skip` bytes were already shown.
   */
  private async followLogs(kube: Kube, name: string, skip = 0): Promise<void> {
    const out = new PassThrough();
    let toSkip = skip;
    out.on('data', (chunk: Buffer) => {
      if (toSkip >= chunk.length) {
        toSkip -= chunk.length;
        return;
      }
      this.io.stdout.write(toSkip > 0 ? chunk.subarray(toSkip) : chunk);
      toSkip = 0;
    });
    // client-node pipes the response into `out`; its end is the end of the container's output.
    const ended = new Promise<void>((resolve, reject) => {
      out.once('end', resolve);
      out.once('error', reject);
    });
    const ctrl = await this.cancellable(
      new Log(kube.kc).log(kube.namespace, name, CONTAINER, out, { follow: true }),
    );
    try {
      await this.cancellable(ended);
    } finally {
      ctrl.abort();
    }
  }

  /** Race a step against the abort signal, so a signal interrupts any wait at once. */
  private cancellable<T>(p: Promise<T>): Promise<T> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  private restoreTerminal(): void {
    if (this.rawMode) {
      try {
        this.io.stdin.setRawMode?.(false);
      } catch {
        // The terminal is gone (SIGHUP): nothing to restore.
      }
      this.rawMode = false;
    }
    this.attached?.close();
  }

  private async cleanup(): Promise<void> {
    const { kube, podName: name, ui } = this;
    if (!kube || !name) return;
    if (this.plan.keep) {
      ui.info(`pod ${name} kept in ${kube.namespace}; attach: kubectl attach -it -n ${kube.namespace} ${name}; delete: kubectl delete pod -n ${kube.namespace} ${name}`);
      return;
    }
    ui.debug(`DELETE /api/v1/namespaces/${kube.namespace}/pods/${name} (grace ${this.podFinished ? 0 : 1}s)`);
    const result = await deletePod(kube, name, {
      gracePeriodSeconds: this.podFinished ? 0 : 1,
      onRetry: (attempt) => {
        if (attempt === 1) ui.warn(`cannot reach the API server to delete pod ${name}; retrying for up to 30s`);
      },
    });
    if (result === 'deleted') ui.note(`pod ${name} deleted`);
  }
}

/**
 * Read the pod, retrying for a while when the API server is unreachable or still starting (a
 * restarting server answers 403 until its RBAC cache is filled).
 */
async function readPodPatiently(kube: Kube, name: string, forMs: number): Promise<V1Pod | undefined> {
  const deadline = Date.now() + forMs;
  for (let delay = 200; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await kube.core.readNamespacedPod({ name, namespace: kube.namespace });
    } catch (err) {
      if (isNotFound(err) || Date.now() + delay > deadline) return undefined;
      await sleep(delay);
    }
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof Interrupted) return signalExitCode(err.signal);
  if (err && typeof err === 'object' && 'exitCode' in err && typeof err.exitCode === 'number') return err.exitCode;
  return ExitCode.tool;
}

export type { V1Pod };

/** NIXRUN_PING_INTERVAL (a duration such as 5s or 500ms) changes the attach heartbeat. */
function heartbeatOption(env: NodeJS.ProcessEnv): { pingMs?: number } {
  const v = env.NIXRUN_PING_INTERVAL;
  if (!v) return {};
  const m = /^(\d+)(ms|s)$/.exec(v.trim());
  if (!m) return {};
  const ms = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  return ms >= 50 ? { pingMs: ms } : {};
}
