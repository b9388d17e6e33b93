import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { preflight, type CredentialSource } from '../../../src/image/preflight.js';
import { lookupDockerConfig, parseChallenge, type DockerConfig } from '../../../src/image/registry-auth.js';
import { prebuild, startNixery, type Nixery } from '../../support/nixery.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('Docker config credential lookup (docker’s order: credHelpers, auths, credsStore)', () => {
  const cfg: DockerConfig = {
    auths: {
      'https://nixery.corp:5000/v2/': { auth: b64('alice:s3cret:with:colons') },
      'ghcr.io': { username: 'bob', password: 'pw' },
      'https://index.docker.io/v1/': { auth: b64('hub:hubpw') },
      'tokens.example': { identitytoken: 'refresh-me' },
    },
    credHelpers: { 'gcr.io': 'gcloud' },
  };
  it.each([
    ['nixery.corp:5000', { credential: { username: 'alice', password: 's3cret:with:colons', source: 'cfg' } }],
    ['ghcr.io', { credential: { username: 'bob', password: 'pw', source: 'cfg' } }],
    ['docker.io', { credential: { username: 'hub', password: 'hubpw', source: 'cfg' } }],
    ['tokens.example', { credential: { identityToken: 'refresh-me', source: 'cfg' } }],
    ['gcr.io', { helper: 'gcloud' }],
    ['nixery.corp', {}],
  ])('%s → %j', (registry, out) => expect(lookupDockerConfig(cfg, registry, 'cfg')).toEqual(out));

  it('a credsStore answers for everything else', () => expect(lookupDockerConfig({ ...cfg, credsStore: 'pass' }, 'other.example', 'cfg')).toEqual({ helper: 'pass' }));

  it.each([
    ['Basic realm="nixery"', { scheme: 'basic', params: { realm: 'nixery' } }],
    ['Bearer realm="https://auth.example/token",service="registry.example",scope="repository:shell/curl:pull"', { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:shell/curl:pull' } }],
  ])('challenge %s', (h, out) => expect(parseChallenge(h)).toEqual(out));
});

describe('pre-flight against a local Nixery with auth on', () => {
  let registry: Nixery | undefined;
  beforeAll(() => prebuild(['jq']), 300_000);
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
  });
  const run = (source?: CredentialSource) =>
    preflight({ registry: registry!.host, path: 'jq' }, { timeoutMs: 30_000, signal: new AbortController().signal, ...(source ? { credentials: async () => source } : {}) });
  const creds = (password: string, source = 'pull secret ns/regcred'): CredentialSource => ({ looked: [source], credentials: [{ username: 'u', password, source }] });

  it.each(['basic', 'bearer'] as const)('%s: the right credentials build the image; the wrong ones are one line naming them, exit 126', async (type) => {
    registry = await startNixery({ auth: { type, username: 'u', password: 'p' } });
    expect((await run(creds('p'))).kind).toBe('built');
    const err = (await run(creds('wrong')).catch((e: unknown) => e)) as { message: string; exitCode: number };
    expect(err.message).toBe(`${registry.host} refused the credentials (HTTP 401) from pull secret ns/regcred`);
    expect(err.message).not.toMatch(/wrong|\bp\b/);
    expect(err.exitCode).toBe(126);
  });

  it('no credentials: says where it looked, exit 126', async () => {
    registry = await startNixery({ auth: { type: 'basic', username: 'u', password: 'p' } });
    const err = (await run({ looked: ['pull secret ns/x (not found)', '~/.docker/config.json (none)'], credentials: [] }).catch((e: unknown) => e)) as { message: string; exitCode: number };
    expect(err.message).toBe(`${registry.host} needs credentials (HTTP 401, Basic challenge) and none were found; looked in pull secret ns/x (not found), ~/.docker/config.json (none)`);
    expect(err.exitCode).toBe(126);
  });

  it('a second credential is tried when the first is refused', async () => {
    registry = await startNixery({ auth: { type: 'bearer', username: 'u', password: 'p' } });
    const r = await run({ looked: ['a', 'b'], credentials: [{ username: 'u', password: 'no', source: 'a' }, { username: 'u', password: 'p', source: 'b' }] });
    expect(r.kind).toBe('built');
  });
});
