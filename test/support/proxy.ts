import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

// A test-owned forward proxy, as a corporate network has: CONNECT tunnels for https/wss and
// absolute-form requests for plain http, optional Basic authentication (407 otherwise), and a
// hosts map, because a proxy resolves names the client cannot (the tests give the cluster a name
// only the proxy knows, so nothing can reach it except through the proxy). Every request is
// recorded, with the bytes that went through each tunnel.

/** In the API server's certificate, resolved by no DNS on this machine: the test proxy maps it. */
export const PROXY_ONLY_NAME = 'kubernetes.default.svc.cluster.local';

export interface ProxyRecord {
  /** CONNECT for a tunnel, GET/POST/… for a plain-http request through the proxy. */
  method: string;
  /** host:port for CONNECT, the absolute URL otherwise. */
  target: string;
  /** The Proxy-Authorization header as received. */
  authorization?: string;
  /** What the proxy answered: 200, 407, 502 … */
  status: number;
  /** Bytes from the client through the tunnel, and back (CONNECT only, counted until it closes). */
  up: number;
  down: number;
}

export interface TestProxy {
  url: string;
  port: number;
  records: ProxyRecord[];
  /** Tunnels still open (an attach WebSocket holds one for the whole session). */
  open(): number;
  close(): Promise<void>;
}

export async function startProxy(opts: { auth?: { user: string; password: string }; hosts?: Record<string, string>; host?: string } = {}): Promise<TestProxy> {
  const records: ProxyRecord[] = [];
  const sockets = new Set<Socket>();
  let open = 0;
  const expected = opts.auth ? `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64')}` : undefined;
  const mapped = (hostPort: string) => opts.hosts?.[hostPort] ?? hostPort;
  const split = (hostPort: string): [string, number] => {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hostPort);
    return m ? [m[1]!, Number(m[2])] : [hostPort, 443];
  };
  const authorized = (req: IncomingMessage) => expected === undefined || req.headers['proxy-authorization'] === expected;
  const record = (req: IncomingMessage, target: string, status: number): ProxyRecord => {
    const r: ProxyRecord = { method: req.method ?? '?', target, status, up: 0, down: 0, ...(req.headers['proxy-authorization'] ? { authorization: req.headers['proxy-authorization'] } : {}) };
    records.push(r);
    return r;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const target = req.url ?? '';
    if (!authorized(req)) {
      record(req, target, 407);
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="nixrun-test"' }).end();
      return;
    }
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      record(req, target, 400);
      res.writeHead(400).end('absolute URL expected');
      return;
    }
    const [host, port] = split(mapped(`${url.hostname}:${url.port || 80}`));
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const rec = record(req, target, 0);
    const up = httpRequest({ host, port, method: req.method, path: `${url.pathname}${url.search}`, headers }, (answer) => {
      rec.status = answer.statusCode ?? 0;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => {
      rec.status = 502;
      if (!res.headersSent) res.writeHead(502).end();
    });
    req.pipe(up);
  });

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (!authorized(req)) {
      record(req, target, 407);
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="nixrun-test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const rec = record(req, target, 0);
    const [host, port] = split(mapped(target));
    const upstream = netConnect({ host, port });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.once('connect', () => {
      rec.status = 200;
      open++;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.on('data', (b: Buffer) => (rec.up += b.length));
      upstream.on('data', (b: Buffer) => (rec.down += b.length));
      client.pipe(upstream).pipe(client);
      let counted = false;
      const done = () => {
        if (!counted) open--;
        counted = true;
        client.destroy();
        upstream.destroy();
      };
      client.on('close', done);
      upstream.on('close', done);
    });
    upstream.once('error', () => {
      if (rec.status === 0) {
        rec.status = 502;
        client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const host = opts.host ?? '127.0.0.1';
  return {
    url: `http://${host}:${port}`,
    port,
    records,
    open: () => open,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A copy of `base` (a kubeconfig) with its cluster's server and proxy-url replaced: the server by
 * a name that only the proxy resolves proves that every request, the attach included, went
 * through it.
 */
export function kubeconfigThrough(base: string, change: { server?: string; proxyUrl?: string }): string {
  const doc = parse(readFileSync(base, 'utf8')) as { clusters: Array<{ cluster: Record<string, unknown> }> };
  for (const c of doc.clusters) {
    if (change.server) c.cluster.server = change.server;
    if (change.proxyUrl) c.cluster['proxy-url'] = change.proxyUrl;
  }
  const file = join(mkdtempSync(join(tmpdir(), 'nixrun-proxy-kc-')), 'kubeconfig');
  writeFileSync(file, stringify(doc));
  return file;
}

/**
 * The local Nixery behind HTTPS on a non-loopback address (a registry a proxy applies to: Go's
 * rules never proxy loopback), with a certificate from the test cluster's CA for `ip`. Clients
 * trust it through NODE_EXTRA_CA_CERTS, which Node and Bun both read.
 */
export async function startTlsRegistry(opts: { ip: string; upstream: string; caCert: string; caKey: string }): Promise<{ host: string; requests: string[]; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'nixrun-tls-registry-'));
  const f = (n: string) => join(dir, n);
  const ossl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('key.pem'), '-out', f('csr.pem'), '-subj', '/CN=nixrun-tls-registry']);
  writeFileSync(f('ext'), `subjectAltName=IP:${opts.ip}\nextendedKeyUsage=serverAuth\n`);
  ossl(['x509', '-req', '-in', f('csr.pem'), '-CA', opts.caCert, '-CAkey', opts.caKey, '-set_serial', '0x5eed', '-days', '1', '-extfile', f('ext'), '-out', f('cert.pem')]);
  const requests: string[] = [];
  const [upHost, upPort] = opts.upstream.split(':') as [string, string];
  const server = createHttpsServer({ key: readFileSync(f('key.pem')), cert: readFileSync(f('cert.pem')) }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const up = httpRequest({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, opts.ip, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `${opts.ip}:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        rmSync(dir, { recursive: true, force: true });
      }),
  };
}
