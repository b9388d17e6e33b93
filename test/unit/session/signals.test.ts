import { describe, expect, it } from 'vitest';
import { signalExitCode, trapSignals } from '../../../src/session/signals.js';

describe('signals', () => {
  it('maps each session signal to 128+n like a shell', () => {
    expect(signalExitCode('SIGHUP')).toBe(129);
    expect(signalExitCode('SIGINT')).toBe(130);
    expect(signalExitCode('SIGQUIT')).toBe(131);
    expect(signalExitCode('SIGTERM')).toBe(143);
  });

  it('first signal aborts, the second forces, and untrap removes the handlers', () => {
    const seen: string[] = [];
    const before = process.listenerCount('SIGTERM');
    const untrap = trapSignals(
      (s) => seen.push(`abort:${s}`),
      (s) => seen.push(`force:${s}`),
    );
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGINT', 'SIGINT');
    untrap();
    expect(seen).toEqual(['abort:SIGTERM', 'force:SIGINT']);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
