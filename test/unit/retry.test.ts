import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { retry, sleep } from '../../src/retry.js';

const transient = Object.assign(new Error('ECONNREFUSED'), { transient: true });
const isTransient = (e: unknown) => (e as { transient?: boolean }).transient === true;

describe('retry', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('retries what retryIf accepts with doubling waits, up to the maximum, until a value', async () => {
    const at: number[] = [];
    const start = Date.now();
    const p = retry(
      async () => {
        at.push(Date.now() - start);
        if (at.length < 6) throw transient;
        return 'ok';
      },
      { firstDelayMs: 100, maxDelayMs: 400, forMs: 10_000, retryIf: isTransient },
    );
    await vi.runAllTimersAsync();
    expect(await p).toBe('ok');
    expect(at).toEqual([0, 100, 300, 700, 1100, 1500]);
  });

  it('throws at once what retryIf refuses, and the last error when out of time', async () => {
    await expect(retry(() => Promise.reject(new Error('403')), { firstDelayMs: 10, maxDelayMs: 10, forMs: 1000, retryIf: isTransient })).rejects.toThrow('403');
    const seen: number[] = [];
    const p = retry(() => Promise.reject(transient), { firstDelayMs: 250, maxDelayMs: 4000, forMs: 1000, retryIf: isTransient, onRetry: (n) => seen.push(n) });
    const settled = expect(p).rejects.toBe(transient);
    await vi.runAllTimersAsync();
    await settled;
    expect(seen).toEqual([1, 2]); // waits 250 and 500; a third wait (1000) would end past 1000
  });

  it('forMs 0 tries once', async () => {
    const attempt = vi.fn(() => Promise.reject(transient));
    await expect(retry(attempt, { firstDelayMs: 250, maxDelayMs: 4000, forMs: 0, retryIf: isTransient })).rejects.toBe(transient);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('undefined is "not yet": polls, and ends undefined when out of time', async () => {
    let n = 0;
    const p = retry(async () => (++n === 3 ? n : undefined), { firstDelayMs: 100, maxDelayMs: 1000, forMs: 5000 });
    await vi.runAllTimersAsync();
    expect(await p).toBe(3);
    const never = retry(async () => undefined, { firstDelayMs: 100, maxDelayMs: 1000, forMs: 1000 });
    await vi.runAllTimersAsync();
    expect(await never).toBeUndefined();
  });

  it('resetDelay starts the waits small again (a watch that delivered events)', async () => {
    const at: number[] = [];
    const start = Date.now();
    const p = retry(
      async (a) => {
        at.push(Date.now() - start);
        if (a.number === 3) a.resetDelay();
        return a.number === 5 ? true : undefined;
      },
      { firstDelayMs: 200, maxDelayMs: 3000, forMs: Infinity },
    );
    await vi.runAllTimersAsync();
    await p;
    expect(at).toEqual([0, 200, 600, 800, 1200]);
  });

  it('an abort ends the waiting at once, with undefined', async () => {
    const ctrl = new AbortController();
    const p = retry(async () => undefined, { firstDelayMs: 10_000, maxDelayMs: 10_000, forMs: Infinity, signal: ctrl.signal });
    await vi.advanceTimersByTimeAsync(1);
    ctrl.abort();
    expect(await p).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sleep leaves no timer behind when aborted', async () => {
    const ctrl = new AbortController();
    const s = sleep(60_000, ctrl.signal);
    ctrl.abort();
    await s;
    expect(vi.getTimerCount()).toBe(0);
  });
});
