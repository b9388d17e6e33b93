import { ExitCode, NixrunError } from '../errors.js';
import { MissingPackagesError, preflight } from './preflight.js';
import { withDigest, type ImageRef } from './ref.js';

/** Nixery builds while it answers: as long as a session's pre-flight waits. */
const PIN_TIMEOUT_MS = 90_000;

export interface Pinned {
  /** registry/path@sha256:… */
  ref: string;
  digest: string;
  ms: number;
}

/**
 * Ask the registry for the image's digest, for a manifest or `kubectl nixrun image`. Unlike a
 * session (which falls back to the tag when this machine cannot reach the registry), a pin that
 * cannot be had is an error: the user asked for exactly that. Unknown packages: 126 with
 * did-you-mean from the table.
 */
export async function pinImage(image: ImageRef, opts: { suggest?: (name: string) => string[]; isKnown?: (name: string) => boolean; signal?: AbortSignal } = {}): Promise<Pinned> {
  try {
    const result = await preflight({ registry: image.registry, path: image.path, tag: image.tag }, { timeoutMs: PIN_TIMEOUT_MS, signal: opts.signal ?? new AbortController().signal });
    if (result.kind === 'skipped') {
      throw new NixrunError(`cannot pin ${image.ref} by digest: ${result.reason}`, { exitCode: ExitCode.tool, hint: 'check --registry / NIXRUN_REGISTRY, or use --no-preflight for the unpinned reference' });
    }
    return { ref: withDigest(image, result.digest), digest: result.digest, ms: result.ms };
  } catch (err) {
    throw withSuggestions(err, opts.suggest, opts.isKnown);
  }
}

/** A registry's 404 names the missing packages; the table knows what they were probably meant to be. */
export function withSuggestions(err: unknown, suggest: ((name: string) => string[]) | undefined, isKnown: (name: string) => boolean = () => false): unknown {
  if (!(err instanceof MissingPackagesError) || !suggest) return err;
  // A name the table itself knows is no typo: the registry (a private or older Nixery) lacks it.
  const names = err.missing.map((m) => m.replace(/^_(?=\d)/, ''));
  const known = names.filter((m) => isKnown(m));
  const ideas = [...new Set(names.filter((m) => !known.includes(m)).flatMap((m) => suggest(m).slice(0, 3)))];
  const parts = [
    ...(ideas.length > 0 ? [`did you mean ${ideas.join(', ')}?`] : []),
    ...(known.length > 0 ? [`${known.join(', ')} ${known.length > 1 ? 'are' : 'is'} in nixpkgs but not served by this registry (an older or private Nixery?)`] : []),
  ];
  if (parts.length === 0) return err;
  return new NixrunError(err.message, { exitCode: err.exitCode, hint: [...parts, ...(ideas.length > 0 && err.hint ? [err.hint] : [])].join('; ') });
}
