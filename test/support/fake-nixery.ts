import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeNixeryOptions {
  /** Answer delay for manifest requests: Nixery builds the image while the client waits. */
  delayMs?: number;
  /** Packages Nix cannot find → 404 MANIFEST_UNKNOWN. */
  missing?: string[];
  /** Packages whose build fails → 500 UNKNOWN. */
  failing?: string[];
  /** Answer 200 with something that is not a manifest (a proxy's login page). */
  garbage?: boolean;
}

export interface FakeNixery {
  host: string;
  url: string;
  requests: Array<{ method: string; uri: string }>;
  close(): Promise<void>;
}

const META = new Set(['shell', 'arm64']);
// Nixery matches its routes on the raw RequestURI (nixery.md §1.1, §3.1).
const MANIFEST_RE = /^\/v2\/([\w|\-|.|_|/]+)\/manifests\/([\w|\-|.|_]+)$/;
const DIGEST_RE = /^\/v2\/([\w|\-|.|_|/]+)\/manifests\/(sha256:[0-9a-f]{64})$/;

/**
 * A local server that speaks the registry manifest API the way Nixery does: synchronous builds,
 * its 404/500 JSON error bodies sent as text/plain, no Docker-Content-Digest header, manifests
 * by digest, an empty 404 for anything else. Plain HTTP on loopback.
 */
export async function startFakeNixery(opts: FakeNixeryOptions = {}): Promise<FakeNixery> {
  const requests: FakeNixery['requests'] = [];
  const byDigest = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const uri = req.url ?? '';
    requests.push({ method: req.method ?? 'GET', uri });
    void handle(req, res, uri);
  });

  async function handle(req: IncomingMessage, res: ServerResponse, uri: string): Promise<void> {
    const head = req.method === 'HEAD';
    if (uri === '/v2/') return send(res, 200, '', undefined, head);
    const byD = DIGEST_RE.exec(uri);
    if (byD) {
      const body = byDigest.get(byD[2]!);
      return body ? send(res, 200, body, 'application/vnd.docker.distribution.manifest.v2+json', head) : send(res, 404, '', undefined, head);
    }
    const m = MANIFEST_RE.exec(uri);
    if (!m) return send(res, 404, '', undefined, head);
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    const components = m[1]!.split('/');
    let i = 0;
    while (i < components.length && META.has(components[i]!)) i++;
    const packages = components.slice(i).map((p) => (/^[0-9]/.test(p) ? `_${p}` : p)).sort();
    const missing = packages.filter((p) => opts.missing?.includes(p) || opts.missing?.includes(p.replace(/^_/, '')));
    if (missing.length > 0) {
      return sendError(res, 404, 'MANIFEST_UNKNOWN', `Could not find Nix packages: [${missing.join(' ')}]`, head);
    }
    if (packages.some((p) => opts.failing?.includes(p))) return sendError(res, 500, 'UNKNOWN', 'image build failure', head);
    if (opts.garbage) return send(res, 200, '<html><body>Please log in</body></html>', 'text/html', head);
    const body = manifestFor([...components].sort().join('/'));
    byDigest.set(`sha256:${createHash('sha256').update(body).digest('hex')}`, body);
    return send(res, 200, body, 'application/vnd.docker.distribution.manifest.v2+json', head);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string | undefined, head: boolean): void {
  res.statusCode = status;
  if (type) res.setHeader('Content-Type', type);
  res.end(head ? undefined : body);
}

/** Nixery writes the status before the header, so Go sniffs its JSON errors as text/plain. */
function sendError(res: ServerResponse, status: number, code: string, message: string, head: boolean): void {
  send(res, status, JSON.stringify({ errors: [{ code, message }] }), 'text/plain; charset=utf-8', head);
}

/** A deterministic Docker schema-2 manifest for an image name. */
function manifestFor(name: string): Buffer {
  const digest = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1234, digest: digest(`config:${name}`) },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 5678, digest: digest(`layer:${name}`) }],
    }),
  );
}
