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

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

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
    super(message, { exitCode: ExitCode.usage, ...(hint === undefined ? {} : { hint }) });
    this.name = 'UsageError';
  }
}

export function isNixrunError(e: unknown): e is NixrunError {
  return e instanceof NixrunError;
}
