/**
 * Exit codes, docker-run style, so scripts can tell "the command failed" from "the pod never
 * started". The container's own exit code passes through untouched.
 */
export const ExitCode = {
  ok: 0,
  /** Bad flags, bad package names, bad --env/--overrides: rejected before any I/O. */
  usage: 2,
  /** Interrupted by the user (Ctrl-C / Esc at a prompt), after cleanup. */
  interrupted: 130,
  /** The plugin itself failed: API error, timeout, cleanup failure. */
  tool: 125,
  /** The image could not be built or started: Nixery 404/500, ErrImagePull, PodSecurity. */
  cannotRun: 126,
  /** An executable that is not in the lookup table. */
  notFound: 127,
} as const;

/** An error meant for the user: one line of message, an optional hint, and an exit code. */
export class NixrunError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, opts: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'NixrunError';
    this.exitCode = opts.exitCode ?? ExitCode.tool;
    this.hint = opts.hint;
  }
}

/** Bad input: exit 2, raised before any network or API call. */
export class UsageError extends NixrunError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.usage, hint });
    this.name = 'UsageError';
  }
}

/** The exit code an error stands for: its own (NixrunError, or set by whoever caught it), else 125. */
export function exitCodeOf(err: unknown): number {
  if (err && typeof err === 'object' && 'exitCode' in err && typeof err.exitCode === 'number') return err.exitCode;
  return ExitCode.tool;
}

export function isNixrunError(e: unknown): e is NixrunError {
  return e instanceof NixrunError;
}

/** The error and its causes, outermost first ("fetch failed" hides what went wrong in a cause). */
export function* causeChain(err: unknown, depth = 4): Generator<object> {
  for (let e: unknown = err, i = 0; e !== null && typeof e === 'object' && i < depth; e = (e as { cause?: unknown }).cause, i++) yield e;
}

/** The first errno-style code (ECONNREFUSED, CERT_HAS_EXPIRED, …) along the cause chain. */
export function errnoCode(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i === -1 ? s : s.slice(0, i);
}
