import { Watch, type KubeConfig } from '@kubernetes/client-node';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/**
 * A watch that survives the API server going away: when the stream ends or fails it is opened
 * again (with backoff) until `signal` aborts. Without a resourceVersion each (re)start begins
 * with ADDED events for the current state, so a restart never misses a terminal state.
 */
export function keepWatching<T>(
  kc: KubeConfig,
  path: string,
  query: Record<string, string>,
  onEvent: (type: WatchEventType, obj: T) => void,
  signal: AbortSignal,
  onError?: (err: unknown) => void,
): Promise<void> {
  const watch = new Watch(kc);
  return new Promise<void>((resolve) => {
    let current: AbortController | undefined;
    let backoff = 200;
    const stop = () => {
      current?.abort();
      resolve();
    };
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });

    // The stream ended or failed, or could not be opened: open it again a little later.
    const restart = (err: unknown) => {
      if (signal.aborted) return;
      if (err) onError?.(err);
      setTimeout(start, backoff);
      backoff = Math.min(backoff * 2, 3000);
    };
    const start = () => {
      if (signal.aborted) return;
      watch
        .watch(
          path,
          query,
          (type, obj) => {
            backoff = 200;
            onEvent(type as WatchEventType, obj as T);
          },
          restart,
        )
        .then((ctrl) => {
          current = ctrl;
          if (signal.aborted) ctrl.abort();
        }, restart);
    };
    start();
  });
}
