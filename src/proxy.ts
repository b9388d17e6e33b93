import { BlockList, isIP } from 'node:net';
import { causeChain, UsageError } from './errors.js';

/**
 * Which proxy a request goes through, decided as kubectl decides it (Go's
 * golang.org/x/net/http/httpproxy, which client-go uses), so that a kubeconfig and an environment
 * that work for kubectl work here, for the API server and for the registry pre-flight alike:
 *
 * - a cluster's `proxy-url` is used for every request to that cluster, NO_PROXY or not;
 * - otherwise HTTPS_PROXY (https URLs) or HTTP_PROXY (http URLs), upper case before lower case,
 *   the first that is set and not empty;
 * - never for localhost and loopback addresses;
 * - never for a host NO_PROXY names: `*` (everything), an IP (`10.0.0.1`, `[::1]`), a CIDR
 *   (`10.0.0.0/8`), a domain with its subdomains (`corp.example`, `*.corp.example`), only the
 *   subdomains (`.corp.example`); each optionally with a port (`corp.example:6443`).
 *
 * One decision for every runtime: the standalone binary's fetch would otherwise apply the
 * environment by Bun's rules (it proxies loopback, for one), so it is told explicitly.
 */
export interface ProxyEnvironment {
  https?: { url: string; from: string };
  http?: { url: string; from: string };
  noProxy: string;
}

export interface ProxyChoice {
  /** The proxy's URL, with credentials if it has any: never print it, print `shown`. */
  url: string;
  /** The URL without its password, for messages. */
  shown: string;
  /** Where it came from: "proxy-url" (the kubeconfig), "HTTPS_PROXY", "https_proxy", … */
  from: string;
}

const SCHEMES = new Set(['http:', 'https:', 'socks5:', 'socks5h:', 'socks4:', 'socks4a:', 'socks:']);

/** The proxy variables of an environment, as Go reads them (getEnvAny: first non-empty). */
export function proxyEnvironment(env: NodeJS.ProcessEnv): ProxyEnvironment {
  const first = (...names: string[]) => {
    for (const n of names) {
      const v = env[n];
      if (v !== undefined && v !== '') return { url: v, from: n };
    }
    return undefined;
  };
  const https = first('HTTPS_PROXY', 'https_proxy');
  const http = first('HTTP_PROXY', 'http_proxy');
  return { ...(https ? { https } : {}), ...(http ? { http } : {}), noProxy: first('NO_PROXY', 'no_proxy')?.url ?? '' };
}

/**
 * A proxy URL as Go parses one: a bare `host:port` means http://host:port. Anything else that is
 * not an http(s) or SOCKS URL is an error now, before any request, naming where it was set.
 */
export function parseProxyUrl(value: string, from: string): ProxyChoice {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  // "proxy.corp:3128" parses as a URL with the scheme "proxy.corp:"; Go retries it as http://.
  if ((!url || !url.host || !SCHEMES.has(url.protocol)) && !value.includes('://')) {
    try {
      url = new URL(`http://${value}`);
    } catch {
      url = undefined;
    }
  }
  if (!url || !url.host || !SCHEMES.has(url.protocol)) {
    throw new UsageError(`the proxy ${from}=${redactUrl(value)} is not a proxy URL`, 'use http://host:port, https://host:port or socks5://host:port (user:password@ before the host if the proxy needs a login)');
  }
  return { url: url.href.replace(/\/$/, ''), shown: redactUrl(url.href.replace(/\/$/, '')), from };
}

/** "the proxy http://p:3128 (HTTPS_PROXY)": how every message names it. */
export function proxyName(choice: ProxyChoice): string {
  return `the proxy ${choice.shown} (${choice.from})`;
}

/** A URL with its password replaced, for messages and logs. */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

/** The proxy for a request to `target` (a URL), or undefined to go direct. */
export function proxyFor(target: string | URL, penv: ProxyEnvironment): ProxyChoice | undefined {
  const url = typeof target === 'string' ? new URL(target) : target;
  const chosen = url.protocol === 'https:' || url.protocol === 'wss:' ? penv.https : url.protocol === 'http:' || url.protocol === 'ws:' ? penv.http : undefined;
  if (!chosen) return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? '443' : '80');
  if (!usesProxy(host, port, penv.noProxy)) return undefined;
  return parseProxyUrl(chosen.url, chosen.from);
}

/** Go's httpproxy useProxy: false for loopback and for what NO_PROXY names. */
export function usesProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return false;
  const family = isIP(host);
  if (family !== 0 && isLoopback(host, family)) return false;
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return false;
    if (family !== 0 && cidrMatches(entry, host, family)) return false;
    const [eHost, ePort] = splitHostPort(entry);
    if (eHost === '') continue;
    if (ePort !== '' && ePort !== port) continue;
    const eFamily = isIP(eHost);
    if (eFamily !== 0) {
      if (family !== 0 && sameIP(eHost, eFamily, host, family)) return false;
      continue;
    }
    // Domains match host names only, never an IP written in the URL.
    if (family !== 0) continue;
    const suffix = eHost.startsWith('*.') ? eHost.slice(1) : eHost;
    if (suffix.startsWith('.') ? host.endsWith(suffix) : host === suffix || host.endsWith(`.${suffix}`)) return false;
  }
  return true;
}

function splitHostPort(entry: string): [string, string] {
  const v6 = /^\[([^\]]*)\](?::(\d+))?$/.exec(entry);
  if (v6) return [v6[1]!, v6[2] ?? ''];
  // A bare IPv6 address has several colons and no port.
  if ((entry.match(/:/g) ?? []).length > 1) return [entry, ''];
  const m = /^(.*):(\d+)$/.exec(entry);
  return m ? [m[1]!, m[2]!] : [entry, ''];
}

const v = (family: number) => (family === 6 ? 'ipv6' : 'ipv4');

function isLoopback(ip: string, family: number): boolean {
  const list = new BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addAddress('::1', 'ipv6');
  return list.check(ip, v(family));
}

function cidrMatches(entry: string, ip: string, family: number): boolean {
  const m = /^(.+)\/(\d{1,3})$/.exec(entry);
  if (!m) return false;
  const net = m[1]!;
  const bits = Number(m[2]);
  const netFamily = isIP(net);
  if (netFamily === 0 || bits > (netFamily === 6 ? 128 : 32)) return false;
  const list = new BlockList();
  list.addSubnet(net, bits, v(netFamily));
  return list.check(ip, v(family));
}

function sameIP(a: string, aFamily: number, b: string, bFamily: number): boolean {
  const list = new BlockList();
  list.addAddress(a, v(aFamily));
  return list.check(b, v(bFamily));
}

/**
 * A failed request through a proxy, in plain words: whose fault it is (the proxy's login, the
 * proxy refusing or unable to reach the target, the proxy not answering), or undefined when the
 * error says nothing about the proxy. Node (undici, hpagent) and Bun word these differently.
 */
export function proxyFailure(err: unknown, choice: ProxyChoice): string | undefined {
  const text = messages(err).join(' | ');
  // undici's, hpagent's and Bun's words for the proxy's answer to CONNECT (a WebSocket's
  // "Unexpected server response" is the API server's, not the proxy's).
  const status = /Proxy response \((\d{3})\)|Bad response: (\d{3})|refused to open a tunnel: (\d{3})/i.exec(text);
  const code = status ? Number(status[1] ?? status[2] ?? status[3]) : undefined;
  const via = proxyName(choice);
  if (code === 407) return `${via} wants a login (HTTP 407)`;
  if (code === 502 || code === 503 || code === 504) return `${via} could not reach it (HTTP ${code})`;
  if (code !== undefined && code !== 200) return `${via} refused the connection (HTTP ${code})`;
  const errno = /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b/.exec(text)?.[1];
  if (errno) return `${via} is not answering (${errno})`;
  return undefined;
}

function messages(err: unknown): string[] {
  const out: string[] = [String(err)];
  for (const e of causeChain(err, 6)) {
    const o = e as { message?: unknown; code?: unknown };
    if (typeof o.message === 'string') out.push(o.message);
    if (typeof o.code === 'string') out.push(o.code);
  }
  return out;
}

/** The hint for a proxy failure: what to change, and where. */
export function proxyHint(choice: ProxyChoice, failure: string): string {
  if (/HTTP 407/.test(failure)) return `put the login in the proxy URL (${choice.from}=http://USER:PASSWORD@host:port)`;
  const where = choice.from === 'proxy-url' ? "the cluster's proxy-url in the kubeconfig" : choice.from;
  return `check ${where}; add the host to NO_PROXY if it should be reached directly`;
}
