import { describe, expect, it } from 'vitest';
import { MissingPackagesError, preflight } from '../../../src/image/preflight.js';

// Opt-in: NIXRUN_LIVE_NIXERY=1 asks the real nixery.dev (or NIXRUN_LIVE_REGISTRY). The local Nixery
// in testenv/nixery (test/support/nixery.ts) speaks the same registry API for every other test;
// this checks that it still agrees with the real thing. Skipped, with the reason printed, when not asked
// for or when the registry cannot be reached from here.
const REGISTRY = process.env.NIXRUN_LIVE_REGISTRY || 'nixery.dev';

async function reachable(): Promise<string | undefined> {
  try {
    const res = await fetch(`https://${REGISTRY}/v2/`, { signal: AbortSignal.timeout(5000) });
    // A registry answers /v2/ with 200 or 401.
    return res.status === 200 || res.status === 401 ? undefined : `https://${REGISTRY}/v2/ answered HTTP ${res.status}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return `${REGISTRY} is not reachable from here (${cause?.code ?? cause?.message ?? (err as Error).message})`;
  }
}

const optedIn = process.env.NIXRUN_LIVE_NIXERY === '1';
const reason = optedIn ? await reachable() : 'set NIXRUN_LIVE_NIXERY=1 to run it';
if (reason) console.log(`live Nixery test skipped: ${reason}`);

describe.skipIf(reason !== undefined)(`pre-flight against the live ${REGISTRY}`, () => {
  const run = (path: string) => preflight({ registry: REGISTRY, path }, { timeoutMs: 180_000, signal: new AbortController().signal });

  it('builds shell/curl and returns a sha256 digest, the same on a second ask (cached)', async () => {
    const a = await run('shell/curl');
    expect(a.kind).toBe('built');
    const b = await run('shell/curl');
    expect(b.kind === 'built' && a.kind === 'built' && b.digest === a.digest).toBe(true);
    if (a.kind === 'built') expect(a.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  }, 400_000);

  it('a package nixpkgs does not have is a 404 naming it', async () => {
    const err = await run('shell/nixrun-no-such-package-x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPackagesError);
    expect((err as MissingPackagesError).missing).toEqual(['nixrun-no-such-package-x']);
  }, 200_000);
});
