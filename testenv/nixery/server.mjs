// The HTTP side: Nixery's registry API (cmd/server/main.go, nixery.md §3, §4.1) on plain HTTP,
// with test faults, a request log and a control endpoint, and optional authentication.
//
// Routes are matched on the raw request URI, as Nixery does, so a query string or
// percent-encoding gets the empty 404. Errors are Nixery's JSON bodies sent as text/plain
// (its Content-Type quirk). Manifests by tag are built synchronously and carry no
// Docker-Content-Digest header; manifests by digest and blobs come from the cache.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, openSync, readSync, closeSync, statSync, createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import { BuildError, ImageBuilder, MANIFEST_TYPE, CONFIG_TYPE, lookupAttr, parseImageName } from './image.mjs';
import { PACKAGES } from './packages.mjs';
import { LAYER_TYPE, Store } from './store.mjs';

// cmd/server/main.go
const MANIFEST_RE = /^\/v2\/([\w|\-|.|_|/]+)\/manifests\/([\w|\-|.|_]+)$/;
const BLOB_RE = /^\/v2\/([\w|\-|.|_|/]+)\/(blobs|manifests)\/sha256:(\w+)$/;
export const CONTROL = '/_nixrun-test';

/**
 * @typedef {object} Faults
 * @property {number} [delayMs]     manifest-by-tag answers wait this long (Nixery builds while the client waits)
 * @property {string[]} [delayOnly] only images with one of these packages are delayed
 * @property {string[]} [missing]   packages answered as not found (404 MANIFEST_UNKNOWN), even if mapped
 * @property {string[]} [failing]   packages whose build fails (500 UNKNOWN "image build failure")
 * @property {boolean} [garbage]    answer manifests with 200 and an HTML page (a proxy's login page)
 *
 * @typedef {{ type: 'basic', username: string, password: string }
 *   | { type: 'bearer', service?: string, username?: string, password?: string }} AuthOptions
 *   basic: every /v2/ request needs these credentials. bearer: /v2/ answers 401 with a
 *   `WWW-Authenticate: Bearer realm="http://<host>/token",service="…"` challenge; GET /token (with
 *   the basic credentials, when given) returns a token that /v2/ then accepts.
 *
 * @typedef {Faults & {
 *   listen?: string[],
 *   cacheDir?: string,
 *   log?: (line: string) => void,
 *   auth?: AuthOptions,
 *   layerBudget?: number,
 * }} NixeryOptions  layerBudget: store-path layers before the rest are merged into one (Nixery: 94)
 *
 * @typedef {object} Nixery
 * @property {string} host    first listen address, host:port
 * @property {string} url     http://host:port
 * @property {number} port
 * @property {string[]} hosts every listen address
 * @property {Array<{ method: string, uri: string }>} requests registry requests (not the control endpoint)
 * @property {(f: Faults) => void} setFaults replaces the faults
 * @property {() => Faults} faults
 * @property {Store} store
 * @property {() => Promise<void>} close
 */

const FAULT_KEYS = ['delayMs', 'delayOnly', 'missing', 'failing', 'garbage'];

/** @param {Faults} f */
function normaliseFaults(f = {}) {
  return {
    delayMs: Number(f.delayMs ?? 0),
    delayOnly: [...(f.delayOnly ?? [])],
    missing: [...(f.missing ?? [])],
    failing: [...(f.failing ?? [])],
    garbage: Boolean(f.garbage),
  };
}

/**
 * Start the registry. The cache is shared with build.mjs and serve.mjs.
 * @param {NixeryOptions} [opts]
 * @returns {Promise<Nixery>}
 */
export async function startNixery(opts = {}) {
  const log = opts.log ?? (process.env.NIXERY_LOG ? (line) => process.stderr.write(`[nixery] ${line}\n`) : () => {});
  const store = new Store({ cacheDir: opts.cacheDir, log });
  const images = new ImageBuilder(store, { layerBudget: opts.layerBudget });
  /** @type {Map<string, string>} digest → media type, for blobs built by this process */
  const types = new Map();
  let faults = normaliseFaults(opts);
  /** @type {Nixery['requests']} */
  const requests = [];
  /** @type {Array<{ image: string, error: string }>} */
  const recentErrors = [];
  const token = randomBytes(18).toString('base64url');
  const auth = opts.auth;
  const listen = opts.listen?.length ? opts.listen : ['127.0.0.1:0'];

  /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
  async function handle(req, res) {
    const uri = req.url ?? '';
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    const t0 = Date.now();
    if (!uri.startsWith(`${CONTROL}/`)) {
      requests.push({ method, uri });
      if (requests.length > 10_000) requests.splice(0, requests.length - 10_000);
      res.on('finish', () => log(`${method} ${uri} ${res.statusCode} ${Date.now() - t0}ms`));
    }
    try {
      if (uri.startsWith(`${CONTROL}/`)) return await control(req, res, uri.slice(CONTROL.length));
      if (auth?.type === 'bearer' && /^\/token(\?|$)/.test(uri)) return tokenEndpoint(req, res);
      if (uri === '/') return landing(res, head);
      if (auth && uri.startsWith('/v2') && !authorised(req)) return challenge(req, res, uri, head);
      if (uri === '/v2/') return send(res, 200, '', undefined, head);
      const m = MANIFEST_RE.exec(uri);
      if (m) return await manifest(res, m[1], head);
      const b = BLOB_RE.exec(uri);
      if (b) return blob(req, res, `sha256:${b[3]}`, head);
      return send(res, 404, '', undefined, head);
    } catch (err) {
      log(`error on ${method} ${uri}: ${/** @type {Error} */ (err).stack}`);
      if (!res.headersSent) sendError(res, 500, 'UNKNOWN', 'internal error', head);
      else res.destroy();
    }
  }

  /** @param {import('node:http').ServerResponse} res @param {string} name @param {boolean} head */
  async function manifest(res, name, head) {
    const image = parseImageName(name);
    const f = faults;
    const delayed = f.delayMs > 0 && (f.delayOnly.length === 0 || image.packages.some((p) => matches(f.delayOnly, p)));
    if (delayed) await new Promise((r) => setTimeout(r, f.delayMs));
    // Names in `failing` exist (their build fails), whether the map has them or not.
    const missing = image.packages.filter((p) => matches(f.missing, p) || (lookupAttr(p) === undefined && !matches(f.failing, p)));
    if (missing.length > 0) return sendError(res, 404, 'MANIFEST_UNKNOWN', `Could not find Nix packages: [${missing.join(' ')}]`, head);
    if (image.packages.some((p) => matches(f.failing, p))) {
      remember(image.name, 'build failure requested by the test (faults.failing)');
      return sendError(res, 500, 'UNKNOWN', 'image build failure', head);
    }
    if (f.garbage) return send(res, 200, '<html><body>Please log in</body></html>', 'text/html', head);
    let built;
    try {
      const attrs = image.packages.map((p) => /** @type {string} */ (lookupAttr(p)));
      built = await images.build({ attrs, arch: image.arch, packages: image.packages });
    } catch (err) {
      const msg = err instanceof BuildError ? err.message : /** @type {Error} */ (err).stack ?? String(err);
      log(`build of ${image.name} failed: ${msg}`);
      remember(image.name, msg);
      return sendError(res, 500, 'UNKNOWN', 'image build failure', head);
    }
    types.set(built.digest, MANIFEST_TYPE);
    types.set(store.putBlob(built.config), CONFIG_TYPE);
    for (const l of built.layers) types.set(l.digest, LAYER_TYPE);
    return send(res, 200, built.manifest, MANIFEST_TYPE, head);
  }

  function remember(image, error) {
    if (recentErrors.some((e) => e.image === image)) return;
    recentErrors.unshift({ image, error });
    recentErrors.length = Math.min(recentErrors.length, 15);
  }

  /** http.ServeFile: Content-Length, Range, HEAD; the <name> is not checked against the content. */
  function blob(req, res, digest, head) {
    const file = store.blobPath(digest);
    if (!existsSync(file)) return send(res, 404, '', undefined, head);
    const size = statSync(file).size;
    res.setHeader('Content-Type', types.get(digest) ?? sniff(file));
    res.setHeader('Accept-Ranges', 'bytes');
    let start = 0;
    let end = size - 1;
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range && (range[1] || range[2])) {
      if (range[1]) {
        start = Number(range[1]);
        if (range[2]) end = Math.min(Number(range[2]), size - 1);
      } else start = Math.max(0, size - Number(range[2]));
      if (start > end || start >= size) {
        res.statusCode = 416;
        res.setHeader('Content-Range', `bytes */${size}`);
        return res.end();
      }
      res.statusCode = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    } else res.statusCode = 200;
    res.setHeader('Content-Length', String(end - start + 1));
    if (head || size === 0) return res.end();
    createReadStream(file, { start, end }).pipe(res);
  }

  /** What a blob is, for blobs of an earlier process: gzip → layer, a manifest's JSON, else a config. */
  function sniff(file) {
    const fd = openSync(file, 'r');
    const b = Buffer.alloc(64);
    readSync(fd, b, 0, 64, 0);
    closeSync(fd);
    if (b[0] === 0x1f && b[1] === 0x8b) return LAYER_TYPE;
    return b.toString('latin1').startsWith('{"schemaVersion"') ? MANIFEST_TYPE : CONFIG_TYPE;
  }

  function landing(res, head) {
    const esc = (s) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const errors = recentErrors.map((e) => `<details class="build-error"><summary>${esc(e.image)}</summary><pre>${esc(e.error)}</pre></details>`).join('\n');
    const body = `<!DOCTYPE html><html><head><title>Nixery (kubectl-nixrun test registry)</title></head><body><h1>Nixery</h1><p>A local stand-in for the project's tests, serving ${Object.keys(PACKAGES).length} attributes from this machine's Debian packages.</p>${errors ? `<h2>Recent build errors</h2>\n${errors}` : ''}</body></html>\n`;
    return send(res, 200, body, 'text/html; charset=utf-8', head);
  }

  // --- authentication (optional) ---
  function authorised(req) {
    const h = String(req.headers.authorization ?? '');
    if (auth?.type === 'basic') return basicOk(h, auth.username, auth.password);
    return h === `Bearer ${token}`;
  }
  function challenge(req, res, uri, head) {
    const hostHeader = req.headers.host ?? listen[0];
    if (auth?.type === 'basic') res.setHeader('WWW-Authenticate', 'Basic realm="nixery"');
    else {
      const repo = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(uri)?.[1];
      const scope = repo ? `,scope="repository:${repo}:pull"` : '';
      res.setHeader('WWW-Authenticate', `Bearer realm="http://${hostHeader}/token",service="${auth?.service ?? 'nixery'}"${scope}`);
    }
    return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, head);
  }
  function tokenEndpoint(req, res) {
    if (auth?.type === 'bearer' && auth.username && !basicOk(String(req.headers.authorization ?? ''), auth.username, auth.password ?? '')) {
      res.setHeader('WWW-Authenticate', 'Basic realm="nixery token"');
      return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }, false);
    }
    return sendJson(res, 200, { token, access_token: token, expires_in: 3600, issued_at: new Date().toISOString() }, false);
  }

  // --- the test-only control endpoint ---
  async function control(req, res, path) {
    const body = async () => {
      let s = '';
      for await (const c of req) s += c;
      return s ? JSON.parse(s) : {};
    };
    const q = path.indexOf('?');
    const route = q < 0 ? path : path.slice(0, q);
    if (route === '/faults') {
      if (req.method === 'PUT' || req.method === 'POST') {
        const f = await body();
        const unknown = Object.keys(f).filter((k) => !FAULT_KEYS.includes(k));
        if (unknown.length) return sendJson(res, 400, { error: `unknown fault(s) ${unknown.join(', ')}; known: ${FAULT_KEYS.join(', ')}` }, false);
        faults = normaliseFaults(f);
        log(`faults set: ${JSON.stringify(faults)}`);
      } else if (req.method === 'DELETE') {
        faults = normaliseFaults();
        log('faults reset');
      }
      return sendJson(res, 200, faults, false);
    }
    if (route === '/requests') {
      if (req.method === 'DELETE') requests.length = 0;
      return sendJson(res, 200, requests, false);
    }
    if (route === '/provenance') return sendJson(res, 200, await store.provenance(), false);
    return sendJson(res, 404, { error: `no such control route ${route}; try /faults, /requests, /provenance` }, false);
  }

  // --- listening ---
  const servers = [];
  let port = 0;
  for (const addr of listen) {
    const { host, port: p } = splitHostPort(addr);
    const server = createServer((req, res) => void handle(req, res));
    server.keepAliveTimeout = 5000;
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(servers.length === 0 ? p : port, host, () => resolve(undefined));
    });
    if (servers.length === 0) port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
    servers.push(server);
  }
  const hosts = listen.map((a) => {
    const { host } = splitHostPort(a);
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  });
  return {
    host: hosts[0],
    url: `http://${hosts[0]}`,
    port,
    hosts,
    requests,
    setFaults: (f) => {
      faults = normaliseFaults(f);
    },
    faults: () => faults,
    store,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise((resolve) => {
              s.close(() => resolve(undefined));
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}

/** Does a fault list name this package (as sent, without Nix's "_", or as its attribute)? */
function matches(list, p) {
  return list.length > 0 && (list.includes(p) || list.includes(p.replace(/^_/, '')) || list.includes(lookupAttr(p) ?? '\0'));
}

/** "127.0.0.1:0", "[::1]:5000", "localhost:0" */
export function splitHostPort(addr) {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]+):(\d+)$/.exec(addr);
  if (!m) throw new Error(`--listen wants host:port, not ${addr}`);
  return { host: m[1], port: Number(m[2]) };
}

function basicOk(header, user, password) {
  const m = /^Basic (.+)$/.exec(header);
  if (!m) return false;
  const got = Buffer.from(Buffer.from(m[1], 'base64').toString('utf8'));
  const want = Buffer.from(`${user}:${password}`);
  return got.length === want.length && timingSafeEqual(got, want);
}

function send(res, status, body, type, head) {
  res.statusCode = status;
  if (type) res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', String(Buffer.byteLength(body)));
  res.end(head ? undefined : body);
}

/** Nixery writes the status before the Content-Type header, so Go sniffs its JSON errors as text/plain. */
function sendError(res, status, code, message, head) {
  send(res, status, JSON.stringify({ errors: [{ code, message }] }), 'text/plain; charset=utf-8', head);
}

function sendJson(res, status, value, head) {
  send(res, status, `${JSON.stringify(value)}\n`, 'application/json', head);
}
