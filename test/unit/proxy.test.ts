import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseProxyUrl, proxyEnvironment, proxyFailure, proxyFor, redactUrl, usesProxy } from '../../src/proxy.js';

// kubectl's rules (Go's golang.org/x/net/http/httpproxy): the cases below are the ones its
// tests and documentation spell out, plus what corporate NO_PROXY lists really hold.

describe('proxyEnvironment: which variables, in which order', () => {
  it.each([
    [{ HTTPS_PROXY: 'http://a:1', https_proxy: 'http://b:1' }, 'HTTPS_PROXY', 'http://a:1'],
    [{ HTTPS_PROXY: '', https_proxy: 'http://b:1' }, 'https_proxy', 'http://b:1'],
    [{ https_proxy: 'http://b:1' }, 'https_proxy', 'http://b:1'],
  ])('%j → %s', (env, from, url) => {
    expect(proxyEnvironment(env).https).toEqual({ url, from });
  });

  it('nothing set, or set empty: no proxy', () => {
    expect(proxyEnvironment({})).toEqual({ noProxy: '' });
    expect(proxyEnvironment({ HTTPS_PROXY: '', HTTP_PROXY: '' })).toEqual({ noProxy: '' });
  });

  it('NO_PROXY before no_proxy; HTTP_PROXY is only for http URLs', () => {
    const p = proxyEnvironment({ HTTP_PROXY: 'http://plain:3128', NO_PROXY: 'a', no_proxy: 'b' });
    expect(p.noProxy).toBe('a');
    expect(proxyFor('https://api.example:6443', p)).toBeUndefined();
    expect(proxyFor('http://api.example:8080', p)?.url).toBe('http://plain:3128');
  });
});

describe('usesProxy: loopback and NO_PROXY', () => {
  it.each([
    // host, port, NO_PROXY, uses the proxy
    ['localhost', '443', '', false],
    ['127.0.0.1', '443', '', false],
    ['127.1.2.3', '6443', '', false],
    ['::1', '443', '', false],
    ['10.0.0.1', '443', '', true],
    ['api.example', '443', '*', false],
    ['10.0.0.1', '443', '*', false],
    // IPs and CIDRs
    ['10.0.0.1', '443', '10.0.0.1', false],
    ['10.0.0.2', '443', '10.0.0.1', true],
    ['10.213.4.1', '6443', '10.213.0.0/16', false],
    ['10.214.4.1', '6443', '10.213.0.0/16', true],
    ['fd00::5', '443', 'fd00::/8', false],
    ['fd00::5', '443', '[fd00::5]', false],
    ['fd00::5', '443', '[fd00::5]:443', false],
    ['fd00::5', '443', '[fd00::5]:6443', true],
    ['10.0.0.1', '6443', '10.0.0.1:6443', false],
    ['10.0.0.1', '443', '10.0.0.1:6443', true],
    // domains: a name matches itself and its subdomains; a leading dot only the subdomains
    ['corp.example', '443', 'corp.example', false],
    ['api.corp.example', '443', 'corp.example', false],
    ['notcorp.example', '443', 'corp.example', true],
    ['corp.example', '443', '.corp.example', true],
    ['api.corp.example', '443', '.corp.example', false],
    ['api.corp.example', '443', '*.corp.example', false],
    ['corp.example', '443', '*.corp.example', true], // Go strips the * and keeps the dot
    ['API.Corp.Example'.toLowerCase(), '443', ' Corp.Example ', false],
    ['corp.example', '6443', 'corp.example:6443', false],
    ['corp.example', '443', 'corp.example:6443', true],
    // a domain never matches an IP written in the URL, nor an IP a name
    ['10.0.0.1', '443', 'corp.example', true],
    ['corp.example', '443', '10.0.0.0/8', true],
    // lists, with blanks and junk
    ['b.example', '443', 'a.example, ,b.example', false],
    ['c.example', '443', 'a.example,:80,b.example', true],
  ])('%s:%s with NO_PROXY=%j → proxied: %s', (host, port, noProxy, expected) => {
    expect(usesProxy(host, port, noProxy)).toBe(expected);
  });
});

describe('proxyFor: the proxy for a URL', () => {
  const penv = proxyEnvironment({ HTTPS_PROXY: 'proxy.corp:3128', NO_PROXY: '.svc,10.0.0.0/8' });

  it('a bare host:port proxy means http://; the default port comes from the URL scheme', () => {
    expect(proxyFor('https://api.example', penv)).toEqual({ url: 'http://proxy.corp:3128', shown: 'http://proxy.corp:3128', from: 'HTTPS_PROXY' });
    expect(proxyFor('wss://api.example/attach', penv)?.url).toBe('http://proxy.corp:3128');
    expect(proxyFor('https://kubernetes.default.svc', penv)).toBeUndefined();
    expect(proxyFor('https://10.1.2.3:6443', penv)).toBeUndefined();
    expect(proxyFor('https://[::1]:6443', penv)).toBeUndefined();
    expect(proxyFor('https://localhost:6443', penv)).toBeUndefined();
  });

  it('a port in NO_PROXY is compared with the URL default port', () => {
    const p = proxyEnvironment({ HTTPS_PROXY: 'http://p:1', NO_PROXY: 'nixery.dev:443' });
    expect(proxyFor('https://nixery.dev/v2/', p)).toBeUndefined();
    expect(proxyFor('https://nixery.dev:8443/v2/', p)).toBeDefined();
  });
});

describe('parseProxyUrl', () => {
  it.each([
    ['http://proxy:3128', 'http://proxy:3128'],
    ['https://proxy:3129/', 'https://proxy:3129'],
    ['proxy:3128', 'http://proxy:3128'],
    ['10.1.1.1:3128', 'http://10.1.1.1:3128'],
    ['socks5://gw:1080', 'socks5://gw:1080'],
    ['http://u:p%40ss@proxy:3128', 'http://u:p%40ss@proxy:3128'],
  ])('%s → %s', (value, url) => {
    expect(parseProxyUrl(value, 'HTTPS_PROXY').url).toBe(url);
  });

  it.each(['ftp://proxy:21', 'http://', '::::'])('%s is refused in one line, naming the variable', (value) => {
    let err: unknown;
    try {
      parseProxyUrl(value, 'HTTPS_PROXY');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^the proxy HTTPS_PROXY=.* is not a proxy URL$/);
  });

  it('the password never shows', () => {
    const c = parseProxyUrl('http://alice:s3cret@proxy:3128', 'https_proxy');
    expect(c.shown).toBe('http://alice:***@proxy:3128');
    expect(redactUrl('http://alice:s3cret@proxy:3128')).not.toContain('s3cret');
    expect(redactUrl('http://proxy:3128')).toBe('http://proxy:3128');
    let err: unknown;
    try {
      parseProxyUrl('ftp://alice:s3cret@proxy:21', 'HTTPS_PROXY');
    } catch (e) {
      err = e;
    }
    expect(String(err)).not.toContain('s3cret');
  });
});

describe('proxyFailure: what the proxy did, from Node and Bun errors', () => {
  const choice = parseProxyUrl('http://proxy:3128', 'HTTPS_PROXY');
  const wrap = (message: string, code?: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), code ? { code } : {}) });
  it.each([
    [wrap('Proxy response (407) !== 200 when HTTP Tunneling', 'UND_ERR_ABORTED'), /wants a login \(HTTP 407\)/],
    [new Error('Bad response: 407'), /wants a login \(HTTP 407\)/],
    [wrap('Proxy response (502) !== 200 when HTTP Tunneling'), /could not reach it \(HTTP 502\)/],
    [wrap('Proxy response (403) !== 200 when HTTP Tunneling'), /refused the connection \(HTTP 403\)/],
    [wrap('connect ECONNREFUSED 127.0.0.1:3128', 'ECONNREFUSED'), /is not answering \(ECONNREFUSED\)/],
    // Bun
    [Object.assign(new Error('Proxy refused to open a tunnel: 407 Proxy Authentication Required'), { code: 'ERR_PROXY_TUNNEL' }), /wants a login \(HTTP 407\)/],
    [Object.assign(new Error('Proxy refused to open a tunnel: 502 Bad Gateway'), { code: 'ERR_PROXY_TUNNEL' }), /could not reach it \(HTTP 502\)/],
    [Object.assign(new TypeError('ECONNREFUSED: Unable to connect. Is the computer able to access the url?'), { code: 'ECONNREFUSED' }), /is not answering \(ECONNREFUSED\)/],
  ])('%s', (err, expected) => {
    const said = proxyFailure(err, choice);
    expect(said).toMatch(/^the proxy http:\/\/proxy:3128 \(HTTPS_PROXY\) /);
    expect(said).toMatch(expected);
  });

  it('an error that is not about the proxy is left alone', () => {
    expect(proxyFailure(wrap('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'), choice)).toBeUndefined();
    // The API server's own refusal of a WebSocket upgrade (RBAC on pods/attach).
    expect(proxyFailure(new Error('Unexpected server response: 403'), choice)).toBeUndefined();
  });
});
