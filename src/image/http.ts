import type { ProxyChoice } from '../proxy.js';

const dispatchers = new Map<string, object>();

/**
 * fetch for the registry (pre-flight, token realm), through `proxy` (proxyFor's choice for the
 * URL, kubectl's rules) or explicitly direct. undici's fetch with a dispatcher is the one way to
 * say either to Node and, through src/standalone/undici-bun.ts, to Bun, whose own fetch would
 * apply the proxy variables by its own rules (it proxies loopback, for one).
 */
export async function registryFetch(url: string | URL, init: RequestInit, proxy: ProxyChoice | undefined): Promise<Response> {
  if (proxy && !/^https?:/.test(proxy.url)) throw new Error(`only http(s) proxies can be used for the registry, not ${proxy.shown} (${proxy.from})`);
  const loaded = await import('undici');
  // undici is CommonJS: bundled, its exports may sit on the default export.
  const undici = ('ProxyAgent' in loaded ? loaded : (loaded as { default: typeof loaded }).default) as typeof loaded;
  const key = proxy?.url ?? '';
  let dispatcher = dispatchers.get(key);
  if (!dispatcher) {
    dispatcher = proxy ? new undici.ProxyAgent(proxy.url) : new undici.Agent();
    dispatchers.set(key, dispatcher);
  }
  return (await undici.fetch(url, { ...(init as object), dispatcher } as never)) as unknown as Response;
}
