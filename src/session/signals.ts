/** The signals that end a session; each is turned into "cancel, clean up, exit 128+n". */
export const SESSION_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;
export type SessionSignal = (typeof SESSION_SIGNALS)[number];

const SIGNAL_NUMBERS: Record<SessionSignal, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

export function signalExitCode(sig: SessionSignal): number {
  return 128 + SIGNAL_NUMBERS[sig];
}

/** The reason an AbortController was aborted with when a signal arrived. */
export class Interrupted extends Error {
  constructor(readonly signal: SessionSignal) {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
  }
}

/**
 * Install handlers before anything is created, so that no phase (pre-flight, Pending, attached)
 * can exit without cleaning up. The first signal aborts; a second one while cleanup runs calls
 * `onForce` (exit now, telling the user what may be left behind).
 */
export function trapSignals(onSignal: (sig: SessionSignal) => void, onForce: (sig: SessionSignal) => void): () => void {
  let received = 0;
  const handlers = SESSION_SIGNALS.map((sig) => {
    const h = () => {
      received++;
      if (received === 1) onSignal(sig);
      else onForce(sig);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}
