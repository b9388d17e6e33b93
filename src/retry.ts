/** A promise that resolves after `ms`, or at once (without a timer left behind) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface RetryOptions {
  /** The wait after the first failed attempt; it doubles after each one, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Give up when the next wait would end later than this from the start (Infinity: never). */
  forMs: number;
  /** Failures worth another attempt; any other is thrown at once. Default: none. */
  retryIf?: (err: unknown) => boolean;
  /** Told of each failure that will be retried (attempt counts from 1). */
  onRetry?: (attempt: number, err: unknown) => void;
  /** Stop waiting: `retry` then resolves undefined. */
  signal?: AbortSignal;
}

/** What an attempt is handed: its number, and a way to say it made progress (the next wait starts small again). */
export interface Attempt {
  number: number;
  resetDelay(): void;
}

/**
 * Call `attempt` until it returns a value, with exponential backoff in between. An attempt that
 * returns undefined is "not yet" (poll again); one that throws is retried when `retryIf` says so,
 * else its error is thrown. Out of time, the last error is thrown, or undefined returned when the
 * last attempt was a "not yet". The one retry loop of the plugin: deletes, polls, watch restarts.
 */
export async function retry<T>(attempt: (a: Attempt) => Promise<T | undefined>, opts: RetryOptions): Promise<T | undefined> {
  const deadline = Date.now() + opts.forMs;
  let delay = opts.firstDelayMs;
  const resetDelay = () => {
    delay = opts.firstDelayMs;
  };
  for (let n = 1; !opts.signal?.aborted; n++) {
    let failure: { err: unknown } | undefined;
    try {
      const value = await attempt({ number: n, resetDelay });
      if (value !== undefined) return value;
    } catch (err) {
      if (!(opts.retryIf?.(err) ?? false)) throw err;
      failure = { err };
    }
    if (Date.now() + delay > deadline) {
      if (failure) throw failure.err;
      return undefined;
    }
    if (failure) opts.onRetry?.(n, failure.err);
    await sleep(delay, opts.signal);
    delay = Math.min(delay * 2, opts.maxDelayMs);
  }
  return undefined;
}
