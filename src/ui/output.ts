import { Chalk, type ChalkInstance } from 'chalk';
import type { Writable } from 'node:stream';
import { firstLine, isNixrunError } from '../errors.js';

/** The process's streams, injected so commands can be driven with buffers in tests. */
export interface Io {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown; fd?: number };
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export function processIo(): Io {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/**
 * Colour only for a terminal, and never under NO_COLOR (https://no-color.org: any non-empty
 * value). FORCE_COLOR lets tests and CI opt back in.
 */
export function colorLevel(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): 0 | 1 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return 1;
  if (env.TERM === 'dumb') return 0;
  return stream.isTTY ? 1 : 0;
}

/**
 * Everything the plugin says about itself goes to stderr: stdout belongs to the container (or to
 * `-o yaml|json`). `quiet` silences all but errors.
 */
export class Ui {
  readonly color: ChalkInstance;
  readonly quiet: boolean;
  readonly verbosity: number;
  readonly interactive: boolean;

  constructor(
    readonly io: Io,
    opts: { quiet?: boolean; verbosity?: number } = {},
  ) {
    this.color = new Chalk({ level: colorLevel(io.stderr, io.env) });
    this.quiet = opts.quiet ?? false;
    this.verbosity = opts.verbosity ?? 0;
    this.interactive = Boolean(io.stderr.isTTY) && !this.quiet;
  }

  info(msg: string): void {
    if (!this.quiet) this.io.stderr.write(`${msg}\n`);
  }

  /** A dimmed note, e.g. which package was chosen. */
  note(msg: string): void {
    if (!this.quiet) this.io.stderr.write(`${this.color.dim(msg)}\n`);
  }

  /** -v: what the plugin does against the cluster and the registry. Never credentials. */
  debug(msg: string): void {
    if (this.verbosity > 0) this.io.stderr.write(`${this.color.dim(`[nixrun] ${redact(msg)}`)}\n`);
  }

  warn(msg: string): void {
    if (this.quiet) return;
    this.io.stderr.write(`${this.color.yellow('warning:')} ${msg}\n`);
  }

  /** Errors are printed even with --quiet: one line, plus a hint line when there is one. */
  error(err: unknown): void {
    const { message, hint } = describeError(err);
    this.io.stderr.write(`${this.color.red('error:')} ${printable(message)}\n`);
    if (hint) this.io.stderr.write(`${this.color.dim(`hint: ${printable(hint)}`)}\n`);
  }
}

export function describeError(err: unknown): { message: string; hint?: string } {
  if (isNixrunError(err)) return err.hint ? { message: err.message, hint: err.hint } : { message: err.message };
  if (err instanceof Error) return { message: firstLine(err.message) };
  return { message: String(err) };
}

/**
 * Messages quote what the user typed: its control characters (a newline, an escape sequence that
 * would clear the screen) are shown escaped, so an error stays one line and cannot drive the terminal.
 */
export function printable(s: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return s.trimEnd().replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** URLs may carry user:password@; tokens must never reach the terminal or a CI log. */
export function redact(s: string): string {
  return s.replace(/(\w+:\/\/)[^/@\s]+@/g, '$1***@').replace(/(bearer\s+)\S+/gi, '$1***');
}
