import { createHash } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/errors.js';
import { MissingPackagesError, parseMissingPackages, preflight, registryBaseUrl } from '../../../src/image/preflight.js';
import { prebuild, startNixery, type Nixery } from '../../support/nixery.js';

let registry: Nixery | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});
const run = (path: string, timeoutMs = 5000) => preflight({ registry: registry!.host, path }, { timeoutMs, signal: new AbortController().signal });

describe('pre-flight against the local Nixery (testenv/nixery)', () => {
  // A cold cache builds the store paths (seconds); the tests below then answer in milliseconds.
  beforeAll(() => prebuild(['shell/curl/netcat', 'jq']), 300_000);

  it('200: the digest is the sha256 of the manifest bytes, and that digest is served', async () => {
    registry = await startNixery();
    const r = await run('shell/curl/netcat');
    expect(r.kind).toBe('built');
    if (r.kind !== 'built') return;
    expect(r.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const body = Buffer.from(await (await fetch(`${registry.url}/v2/shell/curl/netcat/manifests/latest`)).arrayBuffer());
    expect(r.digest).toBe(`sha256:${createHash('sha256').update(body).digest('hex')}`);
    expect((await fetch(`${registry.url}/v2/shell/curl/netcat/manifests/${r.digest}`)).status).toBe(200);
    expect(registry.requests[0]).toEqual({ method: 'GET', uri: '/v2/shell/curl/netcat/manifests/latest' });
  });

  it('404: names the packages Nixery could not find, exit 126', async () => {
    registry = await startNixery({ missing: ['nosuchpkg', 'alsonot'] });
    const err = await run('shell/curl/nosuchpkg/alsonot').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPackagesError);
    expect((err as MissingPackagesError).missing).toEqual(['alsonot', 'nosuchpkg']);
    expect((err as MissingPackagesError).exitCode).toBe(ExitCode.cannotRun);
    expect((err as Error).message).toMatch(/does not know the packages alsonot, nosuchpkg/);
  });

  it('500: a build failure with the likely causes, exit 126', async () => {
    registry = await startNixery({ failing: ['terraform'] });
    const err = (await run('terraform').catch((e: unknown) => e)) as { exitCode: number; message: string; hint: string };
    expect(err.exitCode).toBe(ExitCode.cannotRun);
    expect(err.message).toMatch(/could not build the image terraform \(HTTP 500: image build failure\)/);
    expect(err.hint).toMatch(/unfree/);
  });

  it('a slow build past the client timeout falls back to the tag', async () => {
    registry = await startNixery({ delayMs: 1500 });
    const r = await run('jq', 300);
    expect(r).toMatchObject({ kind: 'skipped' });
    expect(r.kind === 'skipped' && r.reason).toMatch(/no answer from 127\.0\.0\.1:\d+ within 0\.3s/);
  });

  it('a slow build within the timeout succeeds', async () => {
    registry = await startNixery({ delayMs: 300 });
    expect((await run('jq', 5000)).kind).toBe('built');
  });

  it('garbage and unreachable registries fall back to the tag', async () => {
    registry = await startNixery({ garbage: true });
    const r = await run('jq');
    expect(r.kind === 'skipped' && r.reason).toMatch(/not with an image manifest \(text\/html\)/);
    const host = registry.host;
    await registry.close();
    registry = undefined;
    const r2 = await preflight({ registry: host, path: 'jq' }, { timeoutMs: 2000, signal: new AbortController().signal });
    expect(r2.kind === 'skipped' && r2.reason).toMatch(/cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('it speaks Nixery: empty 404 for query strings, HEAD without a body, digit names get _', async () => {
    registry = await startNixery({ missing: ['1password-cli'] });
    expect((await fetch(`${registry.url}/v2/jq/manifests/latest?ns=docker.io`)).status).toBe(404);
    const head = await fetch(`${registry.url}/v2/jq/manifests/latest`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const nf = await fetch(`${registry.url}/v2/1password-cli/manifests/latest`);
    expect(nf.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await nf.text()).toContain('Could not find Nix packages: [_1password-cli]');
  });
});

describe('helpers', () => {
  it('parses Go %v lists', () => {
    expect(parseMissingPackages('Could not find Nix packages: [foo bar-baz]')).toEqual(['foo', 'bar-baz']);
    expect(parseMissingPackages('Could not find Nix packages: []')).toEqual([]);
    expect(parseMissingPackages(undefined)).toEqual([]);
  });
  it('loopback registries speak plain HTTP, others HTTPS', () => {
    expect(registryBaseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('localhost:5000')).toBe('http://localhost:5000');
    expect(registryBaseUrl('nixery.dev')).toBe('https://nixery.dev');
  });
});
