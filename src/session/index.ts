import { formatDuration } from '../duration.js';
import { ExitCode, exitCodeOf, NixrunError } from '../errors.js';
import { imageFor, withDigest, type ImageRef } from '../image/index.js';
import { MissingPackagesError, preflight } from '../image/preflight.js';
import { registryCredentials } from '../kube/pull-secrets.js';
import { sweepStale } from '../gc/index.js';
import { attach, type Attached } from '../kube/attach.js';
import type { Kube } from '../kube/client.js';
import { followLogs } from '../kube/logs.js';
import { containerStatus, createPod, deletePod, PodNotCreatedError, readPodPatiently, waitForExit } from '../kube/pods.js';
import { waitForStart } from '../kube/start.js';
import { GATE_PREAMBLE } from '../pod/index.js';
import type { RunPlan } from '../plan/types.js';
import type { Io, Ui } from '../ui/output.js';
import { StatusLine } from '../ui/status-line.js';
import { archFor } from './cluster-facts.js';
import { currentOwner } from './owner.js';
import { podRecipe } from './recipes.js';
import { Interrupted, signalExitCode, trapSignals } from './signals.js';

export interface SessionOptions {
  /** The connection the pod is run through (the caller connects, like stern's Complete). */
  kube: Kube;
  ui: Ui;
  io: Io;
  /** Did-you-mean for packages Nixery does not know. */
  suggest?: (name: string) => string[];
  /** The attach heartbeat interval (NIXRUN_PING_INTERVAL); default: kube/attach's. */
  pingMs?: number;
}

/** Nixery builds synchronously; 90 s covers a first build of a typical closure (nixery.md §4.3). */
const PREFLIGHT_TIMEOUT_MS = 90_000;
/** How long a scheduling or pull failure may last before we call it final. */
const FAIL_FAST_GRACE_MS = 20_000;
/** The kubelet reports the exit a moment after the stream ends. */
const EXIT_STATUS_WAIT_MS = 30_000;
/** After a dropped attach, how long the API server may take to come back. */
const RECONNECT_WAIT_MS = 30_000;

/**
 * The run: pre-flight, create, wait (with progress), attach, exit code, and cleanup on every
 * path. The pod is deleted on normal exit, on errors, and on SIGINT/SIGTERM/SIGHUP/SIGQUIT in any
 * phase; `--keep` is the only way to leave it.
 */
export async function runSession(plan: RunPlan, opts: SessionOptions): Promise<number> {
  if (plan.mode.kind === 'target') {
    // Loaded only here: the ephemeral-container session is a variant of this one.
    const { EphemeralSession } = await import('./ephemeral.js');
    return new EphemeralSession(plan, opts).run();
  }
  return new Session(plan, opts).run();
}

export class Session {
  protected readonly abort = new AbortController();
  protected readonly status: StatusLine;
  protected readonly kube: Kube;
  protected readonly ui: Ui;
  protected readonly io: Io;
  /** Set before the create call: from then on the pod may exist and must be cleaned up. */
  protected podName: string | undefined;
  /** The container that runs the command, when the pod has others (a copy, a target pod). */
  protected container: string | undefined;
  private podFinished = false;
  // Until the container has started, the user's command has not run (and with stdin it waits
  // behind the start gate until the attach): nothing needs a graceful stop.
  private containerStarted = false;
  private rawMode = false;
  private attached: Attached | undefined;

  constructor(
    protected readonly plan: RunPlan,
    protected readonly opts: SessionOptions,
  ) {
    this.kube = opts.kube;
    this.ui = opts.ui;
    this.io = opts.io;
    this.status = new StatusLine(opts.ui);
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
      this.status.stop();
      this.restoreTerminal();
    }
    let cleanupFailure: unknown;
    try {
      await this.cleanup();
    } catch (err) {
      cleanupFailure = err;
      // A failed cleanup decides the exit code only of a run that went well.
      if (code === ExitCode.ok) code = exitCodeFor(err);
    }
    untrap();
    // Each error is told here, once; an interrupt was the user's own doing.
    // (A cleanup that failed for the same reason as the run, say an untrusted certificate, is
    // told once.)
    const same = cleanupFailure instanceof Error && failure instanceof Error && cleanupFailure.message === failure.message;
    if (cleanupFailure !== undefined && !same) this.ui.error(cleanupFailure);
    if (failure !== undefined && !(failure instanceof Interrupted)) this.ui.error(failure);
    return code;
  }

  protected async steps(): Promise<number> {
    const { plan, ui, kube } = this;
    const signal = this.abort.signal;
    ui.debug(`context ${kube.context}, server ${kube.server}, namespace ${kube.namespace}`);
    const owner = currentOwner();
    const sweep = plan.sweep ? sweepStale(kube, { signal }).catch(() => 0) : Promise.resolve(0);

    // What the pod is: a fresh one, a copy of one, or one on a node (each checks what it needs first).
    const recipe = await this.cancellable(podRecipe(plan, kube, ui));
    const archDecision = plan.arch === 'auto' ? await this.cancellable(archFor(kube, { node: recipe.archNode, kubeconfig: plan.kubeconfig }, this.io.env)) : { arch: plan.arch };
    if ('note' in archDecision && archDecision.note) ui.note(archDecision.note);
    if ('cached' in archDecision && archDecision.cached) ui.debug(`architecture ${archDecision.arch} remembered for this context (--arch to choose)`);
    const image = imageFor(plan, archDecision.arch);
    for (const w of image.warnings) ui.warn(w);

    ui.debug(`architecture ${archDecision.arch}; image ${image.ref}`);
    const imageRef = plan.preflight ? await this.preflight(image) : image.ref;
    const name = recipe.name;
    const pod = recipe.build({ image: imageRef, arch: archDecision.arch, owner, name });
    this.container = recipe.container(pod);

    this.podName = name;
    ui.debug(`POST /api/v1/namespaces/${kube.namespace}/pods (${name}, image ${imageRef})`);
    this.status.update(`creating pod ${name} in ${kube.namespace}`, { restartClock: true });
    // The watches open together with the create (they report the pod from its first state), so
    // the two round trips overlap; a refused create stops them.
    const createFailed = new AbortController();
    const starting = waitForStart(kube, name, {
      timeoutMs: plan.podRunningTimeoutSeconds * 1000,
      graceMs: Math.min(FAIL_FAST_GRACE_MS, (plan.podRunningTimeoutSeconds * 1000) / 2),
      signal: AbortSignal.any([signal, createFailed.signal]),
      onProgress: (p) => this.status.update(`pod ${name}: ${p.stage}`),
      container: this.container,
    });
    starting.catch(() => {}); // awaited below, once the pod exists
    try {
      await this.cancellable(createPod(kube, pod, plan.profile));
    } catch (err) {
      createFailed.abort(err);
      if (err instanceof PodNotCreatedError) this.podName = undefined; // refused: nothing to delete
      throw recipe.explainRefusal?.(err) ?? err;
    }
    this.status.update(`waiting for pod ${name}`, { restartClock: true });
    const started = await starting;
    this.status.stop();
    void sweep.then((n) => {
      if (n > 0) ui.note(`removed ${n} stale nixrun pod${n > 1 ? 's' : ''} left by earlier runs`);
    });

    this.containerStarted = true;
    if (!containerStatus(started, this.container)?.state?.terminated && started.status?.phase !== 'Succeeded' && started.status?.phase !== 'Failed') {
      if (plan.stdin) await this.attach(kube, name);
      else await this.followLogs(kube, name);
    } else if (!plan.stdin) {
      await this.followLogs(kube, name);
    }

    const exit = await this.cancellable(waitForExit(kube, name, { timeoutMs: EXIT_STATUS_WAIT_MS, signal, container: this.container }));
    if (!exit) throw new NixrunError(`could not read the exit code of pod ${name}`, { exitCode: ExitCode.tool, hint: `kubectl get pod ${name} -o yaml` });
    this.podFinished = true;
    if (exit.reason === 'DeadlineExceeded') ui.warn(`pod ${name} reached its --deadline (${formatDuration(plan.deadlineSeconds * 1000)}) and was stopped`);
    if (exit.reason === 'OOMKilled') {
      const limit = plan.limits?.memory;
      ui.warn(`the container ran out of memory and was killed (OOMKilled)${limit ? `: its limit is ${limit}; raise it with --limits memory=…` : ''}`);
    }
    return exit.exitCode;
  }

  protected async preflight(image: ImageRef): Promise<string> {
    const what = image.packages.filter((p) => !this.plan.addedPackages.includes(p)).join(', ') || 'shell';
    this.status.update(`building image ${what} on ${image.registry}`, { restartClock: true });
    try {
      const result = await preflight(
        { registry: image.registry, path: image.path, tag: image.tag },
        {
          timeoutMs: PREFLIGHT_TIMEOUT_MS,
          signal: this.abort.signal,
          // Asked only when the registry answers 401 (a private Nixery).
          credentials: () => registryCredentials(this.kube, this.plan.imagePullSecrets, image.registry, this.io.env),
        },
      );
      if (result.kind === 'built') {
        this.status.stop(this.ui.quiet ? undefined : `image ready in ${formatDuration(result.ms)}: ${image.ref}`);
        return withDigest(image, result.digest);
      }
      this.status.stop();
      this.ui.warn(`${result.reason}; creating the pod with ${image.ref} (the nodes may reach the registry even if this machine cannot)`);
      return image.ref;
    } catch (err) {
      this.status.stop();
      const { suggest } = this.opts;
      if (err instanceof MissingPackagesError && suggest) {
        const ideas = err.missing.flatMap((m) => suggest(m.replace(/^_(?=\d)/, '')).slice(0, 3));
        if (ideas.length > 0) throw new NixrunError(err.message, { exitCode: err.exitCode, hint: `did you mean ${[...new Set(ideas)].join(', ')}? ${err.hint ?? ''}`.trim() });
      }
      throw err;
    }
  }

  protected async attach(kube: Kube, name: string): Promise<void> {
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
        container: this.container,
        tty,
        stdin: io.stdin,
        stdout: io.stdout,
        stderr: io.stderr,
        size,
        preamble: GATE_PREAMBLE,
        pingMs: this.opts.pingMs,
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
      const pod = await this.cancellable(readPodPatiently(kube, name, RECONNECT_WAIT_MS));
      // The logs hold everything the container wrote: skip what the attach already showed.
      if (pod) await this.followLogs(kube, name, attached.received());
    }
  }

  /**
   * --stdin=false: nothing to send, so read the logs from the start instead (no output lost).
   * After a dropped attach, `skip` bytes were already shown.
   */
  protected followLogs(kube: Kube, name: string, skip = 0): Promise<void> {
    return this.cancellable(followLogs(kube, name, this.io.stdout, { skip, signal: this.abort.signal, container: this.container }));
  }

  /** Race a step against the abort signal, so a signal interrupts any wait at once. */
  protected cancellable<T>(p: Promise<T>): Promise<T> {
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

  protected restoreTerminal(): void {
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

  protected async cleanup(): Promise<void> {
    const { kube, podName: name, ui } = this;
    if (!name) return;
    if (this.plan.keep) {
      ui.info(`pod ${name} kept in ${kube.namespace}; attach: kubectl attach -it -n ${kube.namespace} ${name}; delete: kubectl delete pod -n ${kube.namespace} ${name}`);
      return;
    }
    // Grace 0 removes the pod from the API at once; the kubelet then stops what is left. That is
    // right when nothing of the user's runs (a pod still pulling would otherwise stay until the
    // pull ends, a minute or more on a real node) or when the container has already exited.
    const grace = this.podFinished || !this.containerStarted ? 0 : 1;
    ui.debug(`DELETE /api/v1/namespaces/${kube.namespace}/pods/${name} (grace ${grace}s)`);
    const result = await deletePod(kube, name, {
      gracePeriodSeconds: grace,
      onRetry: (attempt) => {
        if (attempt === 1) ui.warn(`cannot reach the API server to delete pod ${name}; retrying for up to 30s`);
      },
    });
    if (result === 'deleted') ui.note(`pod ${name} deleted`);
  }
}

function exitCodeFor(err: unknown): number {
  return err instanceof Interrupted ? signalExitCode(err.signal) : exitCodeOf(err);
}
