// Stand-in for the `undici` package in the standalone (Bun-compiled) binary. The Kubernetes client
// calls undici's fetch with a `dispatcher` (an undici Agent) carrying the kubeconfig's TLS
// settings: CA, client certificate and key, servername, rejectUnauthorized. Bun runs its own
// fetch for `undici` and ignores the dispatcher, so the cluster's CA was not trusted. This maps
// the dispatcher's options onto Bun's fetch options (`tls`, `proxy`). Only the three names the
// client imports exist here. Bun's fetch also applies HTTPS_PROXY/NO_PROXY by its own rules
// (loopback included); the proxy decision is ours (src/proxy.ts, kubectl's rules), so every
// request says it: `proxy: URL` for a ProxyAgent, `proxy: false` for everything else.

type TlsOptions = {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  pfx?: unknown;
  passphrase?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
};

export class Agent {
  constructor(readonly options: { connect?: TlsOptions | ((...args: unknown[]) => unknown) } = {}) {}
}

export class ProxyAgent {
  readonly options: { uri: string; requestTls?: TlsOptions; connect?: unknown };
  constructor(options: string | { uri: string; requestTls?: TlsOptions; connect?: unknown }) {
    this.options = typeof options === 'string' ? { uri: options } : options;
  }
}

function bunTls(t: TlsOptions | undefined): Record<string, unknown> | undefined {
  if (!t) return undefined;
  if (t.pfx !== undefined) throw new Error('PKCS#12 (pfx) client certificates are not supported by the standalone binary; use the npm package');
  const out: Record<string, unknown> = {};
  for (const k of ['ca', 'cert', 'key', 'passphrase', 'rejectUnauthorized'] as const) if (t[k] !== undefined) out[k] = t[k];
  if (t.servername !== undefined) out.serverName = t.servername;
  return out;
}

export function fetch(input: string | URL | Request, init: RequestInit & { dispatcher?: unknown } = {}): Promise<Response> {
  const { dispatcher, ...rest } = init;
  const extra: Record<string, unknown> = { proxy: false };
  if (dispatcher instanceof Agent) {
    if (typeof dispatcher.options.connect === 'function') {
      throw new Error('SOCKS proxies are not supported by the standalone binary; use the npm package');
    }
    extra.tls = bunTls(dispatcher.options.connect);
  } else if (dispatcher instanceof ProxyAgent) {
    extra.proxy = dispatcher.options.uri;
    extra.tls = bunTls(dispatcher.options.requestTls);
  }
  return globalThis.fetch(input, { ...rest, ...extra } as RequestInit);
}
