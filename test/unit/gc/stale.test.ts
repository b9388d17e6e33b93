import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { pidIsAlive, staleReason } from '../../../src/gc/stale.js';
import { KEEP_ANNOTATION, OWNER_ANNOTATIONS } from '../../../src/pod/index.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');

function pod(opts: { host?: string; pid?: number; phase?: string; ageMin?: number; keep?: boolean; deleting?: boolean }): V1Pod {
  const annotations: Record<string, string> = {};
  if (opts.host) annotations[OWNER_ANNOTATIONS.host] = opts.host;
  if (opts.pid !== undefined) annotations[OWNER_ANNOTATIONS.pid] = String(opts.pid);
  if (opts.keep) annotations[KEEP_ANNOTATION] = 'true';
  return {
    metadata: {
      name: 'nixrun-x-abcde',
      annotations,
      creationTimestamp: new Date(NOW - (opts.ageMin ?? 1) * 60_000),
      ...(opts.deleting ? { deletionTimestamp: new Date(NOW) } : {}),
    },
    status: { phase: opts.phase ?? 'Running' },
  };
}

const alive = new Set([100]);
const ctx = { host: 'laptop', pid: 1, now: NOW, isAlive: (pid: number) => alive.has(pid) };

describe('staleReason', () => {
  it.each([
    ['owner alive on this host', pod({ host: 'laptop', pid: 100 }), undefined],
    ['owner gone on this host', pod({ host: 'laptop', pid: 200 }), /owner process 200/],
    ['owner on another host (cannot tell)', pod({ host: 'ci-runner', pid: 200 }), undefined],
    ['finished and left behind', pod({ host: 'ci-runner', pid: 200, phase: 'Failed' }), /finished \(Failed/],
    ['succeeded and left behind', pod({ host: 'laptop', pid: 100, phase: 'Succeeded' }), /finished/],
    ['kept pods survive their owner', pod({ host: 'laptop', pid: 200, keep: true }), undefined],
    ['kept and finished pods survive too', pod({ host: 'laptop', pid: 200, keep: true, phase: 'Failed' }), undefined],
    ['already being deleted', pod({ host: 'laptop', pid: 200, deleting: true }), undefined],
    ['no owner annotations', pod({}), undefined],
  ])('%s', (_name, p, expected) => {
    const r = staleReason(p, ctx);
    if (expected === undefined) expect(r).toBeUndefined();
    else expect(r).toMatch(expected);
  });

  it('the TTL removes old pods whoever owns them, kept ones included', () => {
    expect(staleReason(pod({ host: 'ci-runner', pid: 1, ageMin: 25 * 60, keep: true }), { ...ctx, ttlMs: 24 * 3_600_000 })).toMatch(/older than 24h/);
    expect(staleReason(pod({ host: 'ci-runner', pid: 1, ageMin: 60 }), { ...ctx, ttlMs: 24 * 3_600_000 })).toBeUndefined();
  });
});

describe('pidIsAlive', () => {
  it('sees this process and not a pid that cannot exist', () => {
    expect(pidIsAlive(process.pid)).toBe(true);
    expect(pidIsAlive(2 ** 22 + 12345)).toBe(false);
  });
});
