import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupAttr, parseImageName, storeHash, nixBase32, upstreamVersion } from '../../../testenv/nixery/index.mjs';
import { NixeryControl, prebuild, spawnNixery, startNixery, type Nixery } from '../../support/nixery.js';

// The local Nixery's registry API, naming rules and errors (nixery.md §1, §3, §4.1): table tests
// on the parser, then HTTP against an in-process server. Images used here: jq (small closure),
// shell/jq, arm64/jq.
const MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

describe('image names → package lists (builder.ImageFromName)', () => {
  it.each([
    ['curl', 'amd64', ['cacert', 'curl', 'iana-etc']],
    ['shell', 'amd64', ['bashInteractive', 'cacert', 'coreutils', 'iana-etc', 'moreutils', 'nano']],
    ['shell/arm64/jq', 'arm64', ['bashInteractive', 'cacert', 'coreutils', 'iana-etc', 'jq', 'moreutils', 'nano']],
    ['arm64/shell/jq', 'arm64', ['bashInteractive', 'cacert', 'coreutils', 'iana-etc', 'jq', 'moreutils', 'nano']],
    ['arm64', 'arm64', ['cacert', 'iana-etc']],
    // a meta-package after a package is an attribute name like any other
    ['jq/shell', 'amd64', ['cacert', 'iana-etc', 'jq', 'shell']],
    ['jq/arm64', 'amd64', ['arm64', 'cacert', 'iana-etc', 'jq']],
    ['1password-cli/curl', 'amd64', ['_1password-cli', 'cacert', 'curl', 'iana-etc']],
    // sorted, no de-duplication
    ['jq/curl/jq', 'amd64', ['cacert', 'curl', 'iana-etc', 'jq', 'jq']],
  ])('%s', (name, arch, packages) => {
    expect(parseImageName(name)).toEqual({ name: name.split('/').sort().join('/'), arch, packages });
  });

  it.each([
    ['bashinteractive', 'bashInteractive'],
    ['bashInteractive', 'bashInteractive'],
    ['fakenss', 'fakeNss'],
    ['util-linuxminimal', 'util-linuxMinimal'],
    ['unixtools.ping', 'unixtools.ping'],
    ['gnugrep', 'gnugrep'],
    ['netcat', 'netcat'],
    ['iputils', 'iputils'],
    ['libuuid', 'libuuid'],
    ['dig', 'dig'],
    ['host', 'host'],
    ['htop', undefined],
    ['amd64', undefined],
    ['unixtools.nosuch', undefined],
  ])('lookup %s → %s (case folding on top-level names only)', (pkg, attr) => {
    expect(lookupAttr(pkg)).toBe(attr);
  });
});

describe('Nix-style store names', () => {
  it('nix-base32 and the 160-bit fold give 32 characters of the Nix alphabet', () => {
    expect(nixBase32(Buffer.alloc(20))).toBe('0'.repeat(32));
    // Nix: the first byte's low bits come last.
    expect(nixBase32(Buffer.from([1, ...Array<number>(19).fill(0)]))).toBe(`${'0'.repeat(31)}1`);
    expect(storeHash('x')).toMatch(/^[0-9abcdfghijklmnpqrsvwxyz]{32}$/);
    expect(storeHash('x')).toBe(storeHash('x'));
  });
  it.each([
    ['2:4.0.2-3', '4.0.2'],
    ['3:20221126-1+deb12u1', '20221126'],
    ['1:9.18.49-1~deb12u3', '9.18.49'],
    ['7.88.1-10+deb12u14', '7.88.1'],
    ['0.19.0-1+b3', '0.19.0'],
    ['6.4', '6.4'],
  ])('upstream version of %s is %s', (v, u) => {
    expect(upstreamVersion(v)).toBe(u);
  });
});

describe('the registry API and its errors', () => {
  let r: Nixery;
  beforeAll(async () => {
    await prebuild(['jq', 'shell/jq']);
    r = await startNixery();
  }, 300_000);
  afterAll(() => r.close());
  const get = (path: string, init?: RequestInit) => fetch(`${r.url}${path}`, init);

  it('/v2/ answers 200 with an empty body, GET and HEAD', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await get('/v2/', { method });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
      expect(res.headers.get('docker-distribution-api-version')).toBeNull();
    }
  });

  it('a manifest by tag: 200, Docker schema 2, no Docker-Content-Digest; HEAD has the same headers and no body', async () => {
    const res = await get('/v2/jq/manifests/latest');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(MANIFEST);
    expect(res.headers.get('docker-content-digest')).toBeNull();
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.headers.get('content-length')).toBe(String(body.length));
    const head = await get('/v2/jq/manifests/latest', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(body.length));
    expect(await head.text()).toBe('');
    // any tag: the package source here is fixed, as on nixery.dev
    expect(Buffer.from(await (await get('/v2/jq/manifests/nixos-24.05')).arrayBuffer()).equals(body)).toBe(true);
  });

  it('by digest and blobs: from the cache, any <name>, correct Content-Length, Range', async () => {
    const body = Buffer.from(await (await get('/v2/jq/manifests/latest')).arrayBuffer());
    const { createHash } = await import('node:crypto');
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const byDigest = await get(`/v2/some/other/name/manifests/${digest}`);
    expect(byDigest.status).toBe(200);
    expect(byDigest.headers.get('content-type')).toBe(MANIFEST);
    expect(Buffer.from(await byDigest.arrayBuffer()).equals(body)).toBe(true);
    const m = JSON.parse(body.toString()) as { config: { digest: string; size: number }; layers: Array<{ digest: string; size: number }> };
    const cfg = await get(`/v2/jq/blobs/${m.config.digest}`);
    expect(cfg.headers.get('content-type')).toBe('application/vnd.docker.container.image.v1+json');
    expect(cfg.headers.get('content-length')).toBe(String(m.config.size));
    const layer = m.layers[0]!;
    const head = await get(`/v2/jq/blobs/${layer.digest}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(layer.size));
    expect(head.headers.get('content-type')).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
    const full = Buffer.from(await (await get(`/v2/jq/blobs/${layer.digest}`)).arrayBuffer());
    expect(`sha256:${createHash('sha256').update(full).digest('hex')}`).toBe(layer.digest);
    const part = await get(`/v2/jq/blobs/${layer.digest}`, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${layer.size}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(full.subarray(10, 20))).toBe(true);
    expect((await get(`/v2/jq/blobs/sha256:${'0'.repeat(64)}`)).status).toBe(404);
  });

  it('unknown packages: 404 MANIFEST_UNKNOWN as text/plain, sorted, with Nix\'s "_"', async () => {
    const cases: Array<[string, string]> = [
      ['jq/nosuchpkg/alsonot', '[alsonot nosuchpkg]'],
      ['1password-cli/curl', '[_1password-cli]'],
      ['jq/shell', '[shell]'],
      ['amd64/jq', '[amd64]'],
      ['unixtools.nosuch', '[unixtools.nosuch]'],
    ];
    for (const [name, list] of cases) {
      const res = await get(`/v2/${name}/manifests/latest`);
      expect(res.status, name).toBe(404);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await res.text()).toBe(`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"Could not find Nix packages: ${list}"}]}`);
    }
    const head = await get('/v2/nosuchpkg/manifests/latest', { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(await head.text()).toBe('');
  });

  it('anything else under /v2/ is an empty 404: query strings, percent-encoding, tags/list, uploads', async () => {
    for (const path of ['/v2/jq/manifests/latest?ns=docker.io', '/v2/j%71/manifests/latest', '/v2/jq/tags/list', '/v2/_catalog', '/v2/jq/blobs/uploads/', '/v2', '/v2/?x']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).toBe('');
    }
  });

  it('case folding: bashinteractive and fakenss are served, and only shell sets Cmd', async () => {
    const config = async (name: string) => {
      const m = (await (await get(`/v2/${name}/manifests/latest`)).json()) as { config: { digest: string } };
      return (await (await get(`/v2/${name}/blobs/${m.config.digest}`)).json()) as { config: Record<string, unknown> };
    };
    expect((await config('shell/jq')).config).toEqual({ Cmd: ['bash'], Env: ['SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt'] });
    expect((await config('jq')).config).toEqual({ Env: ['SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt'] });
    // Nixery's Cmd check is a string comparison on the requested list: lower case does not count.
    expect((await config('bashinteractive')).config).toEqual({ Env: ['SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt'] });
  }, 60_000);

  it('GET / is the landing page with the recent build errors', async () => {
    r.setFaults({ failing: ['jq'] });
    await get('/v2/jq/manifests/latest');
    r.setFaults({});
    const page = await (await get('/')).text();
    expect(page).toContain('<details class="build-error"><summary>jq</summary>');
  });

  it('the request log holds the registry requests in order', async () => {
    const n = r.requests.length;
    await get('/v2/');
    await get('/v2/jq/manifests/latest', { method: 'HEAD' });
    expect(r.requests.slice(n)).toEqual([
      { method: 'GET', uri: '/v2/' },
      { method: 'HEAD', uri: '/v2/jq/manifests/latest' },
    ]);
  });
});

describe('faults', () => {
  let r: Nixery;
  beforeAll(async () => {
    await prebuild(['jq']);
    r = await startNixery();
  }, 300_000);
  afterAll(() => r.close());
  const status = async (name: string) => (await fetch(`${r.url}/v2/${name}/manifests/latest`)).status;

  it('missing, failing (even for names the map lacks), garbage, delay and delayOnly', async () => {
    r.setFaults({ missing: ['jq'] });
    expect(await status('jq')).toBe(404);
    r.setFaults({ failing: ['terraform'] });
    const res = await fetch(`${r.url}/v2/terraform/manifests/latest`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('{"errors":[{"code":"UNKNOWN","message":"image build failure"}]}');
    r.setFaults({ garbage: true });
    const g = await fetch(`${r.url}/v2/jq/manifests/latest`);
    expect([g.status, g.headers.get('content-type')]).toEqual([200, 'text/html']);
    r.setFaults({ delayMs: 400, delayOnly: ['curl'] });
    let t0 = Date.now();
    expect(await status('jq')).toBe(200);
    expect(Date.now() - t0).toBeLessThan(300);
    r.setFaults({ delayMs: 400 });
    t0 = Date.now();
    expect(await status('jq')).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
    // blobs and manifests by digest are never delayed
    r.setFaults({});
    expect(await status('jq')).toBe(200);
  });

  it('the control endpoint: PUT/GET/DELETE faults, GET/DELETE requests, through NixeryControl', async () => {
    const c = new NixeryControl(r.host);
    expect(await c.setFaults({ missing: ['jq'], delayMs: 1 })).toMatchObject({ missing: ['jq'], delayMs: 1, failing: [] });
    expect(await status('jq')).toBe(404);
    expect((await c.faults()).missing).toEqual(['jq']);
    await c.resetFaults();
    expect(await status('jq')).toBe(200);
    await c.withFaults({ failing: ['jq'] }, async () => expect(await status('jq')).toBe(500));
    expect(await status('jq')).toBe(200);
    await c.clearRequests();
    await status('jq');
    expect(await c.requests()).toEqual([{ method: 'GET', uri: '/v2/jq/manifests/latest' }]);
    const bad = await fetch(`${r.url}/_nixrun-test/faults`, { method: 'PUT', body: '{"nope":1}' });
    expect(bad.status).toBe(400);
    expect(((await c.provenance()) as { debian: Record<string, string> }).debian).toHaveProperty('jq');
  });
});

describe('authentication (optional, for a private Nixery)', () => {
  it('basic: 401 with a Basic challenge, then 200 with the credentials', async () => {
    const r = await startNixery({ auth: { type: 'basic', username: 'u', password: 'p' } });
    try {
      const res = await fetch(`${r.url}/v2/`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="nixery"');
      const ok = await fetch(`${r.url}/v2/`, { headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } });
      expect(ok.status).toBe(200);
    } finally {
      await r.close();
    }
  });

  it('bearer: the registry challenge, the token endpoint (with basic credentials), then 200', async () => {
    const r = await startNixery({ auth: { type: 'bearer', service: 'nixery-test', username: 'u', password: 'p' } });
    try {
      const res = await fetch(`${r.url}/v2/jq/manifests/latest`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="http://${r.host}/token",service="nixery-test",scope="repository:jq:pull"`);
      expect((await fetch(`${r.url}/token?service=nixery-test&scope=repository:jq:pull`)).status).toBe(401);
      const tok = (await (await fetch(`${r.url}/token?service=nixery-test`, { headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } })).json()) as { token: string };
      const ok = await fetch(`${r.url}/v2/`, { headers: { authorization: `Bearer ${tok.token}` } });
      expect(ok.status).toBe(200);
      expect((await fetch(`${r.url}/v2/`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    } finally {
      await r.close();
    }
  });
});

describe('serve.mjs as a process', () => {
  it('listens on several addresses with one port, prints its ready line, logs to stderr, exits 0 on SIGTERM', async () => {
    const p = await spawnNixery(['--listen', '127.0.0.1:0', '--listen', '127.0.0.2:0']);
    try {
      expect(p.host).toBe(`127.0.0.1:${p.port}`);
      expect(p.hosts).toEqual([`127.0.0.1:${p.port}`, `127.0.0.2:${p.port}`]);
      for (const h of p.hosts) expect((await fetch(`http://${h}/v2/`)).status).toBe(200);
      const c = new NixeryControl(p.hosts[1]!);
      await c.setFaults({ missing: ['curl'] });
      expect((await fetch(`http://${p.host}/v2/curl/manifests/latest`)).status).toBe(404);
    } finally {
      expect(await p.stop()).toBe(0);
    }
    expect(p.stderr()).toMatch(/GET \/v2\/curl\/manifests\/latest 404/);
  }, 30_000);
});
