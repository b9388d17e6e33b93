import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { retry, type Attempt } from '../retry.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/**
 * A watch that survives the API server going away: when the stream ends or fails it is opened
 * again (with backoff, back to short after any event) until `signal` aborts. Without a
 * resourceVersion each (re)start begins with ADDED events for the current state, so a restart
 * never misses a terminal state.
 */
export async function keepWatching<T>(
  kc: KubeConfig,
  path: string,
  query: Record<string, string>,
  onEvent: (type: WatchEventType, obj: T) => void,
  signal: AbortSignal,
  onError?: (err: unknown) => void,
): Promise<void> {
  const watch = new Watch(kc);
  // One stream: resolves when it ends (or `signal` aborts), rejects when it fails; then again.
  const stream = (attempt: Attempt) =>
    new Promise<undefined>((resolve, reject) => {
      let ctrl: AbortController | undefined;
      const done = (err: unknown) => {
        signal.removeEventListener('abort', stop);
        if (err && !signal.aborted) reject(err);
        else resolve(undefined);
      };
      const stop = () => {
        ctrl?.abort();
        done(undefined);
      };
      signal.addEventListener('abort', stop, { once: true });
      watch
        .watch(
          path,
          query,
          (type, obj) => {
            attempt.resetDelay();
            onEvent(type as WatchEventType, obj as T);
          },
          done,
        )
        .then((c) => {
          ctrl = c;
          if (signal.aborted) c.abort();
        }, done);
    });
  await retry<never>(stream, { firstDelayMs: 200, maxDelayMs: 3000, forMs: Infinity, retryIf: () => true, onRetry: (_n, err) => onError?.(err), signal });
}
