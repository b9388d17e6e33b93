import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { apiProxy } from '../../../src/kube/client.js';

describe('apiProxy: the proxy for the API server, as client-go picks it', () => {
  it.each([
    // cluster, env, proxy URL and where it came from (undefined: direct)
    [{ server: 'https://10.0.0.1:6443' }, {}, undefined],
    [{ server: 'https://10.0.0.1:6443' }, { HTTPS_PROXY: 'http://p:3128' }, ['http://p:3128', 'HTTPS_PROXY']],
    [{ server: 'https://10.0.0.1:6443' }, { HTTP_PROXY: 'http://p:3128' }, undefined],
    [{ server: 'http://10.0.0.1:8080' }, { HTTP_PROXY: 'http://p:3128' }, ['http://p:3128', 'HTTP_PROXY']],
    [{ server: 'https://10.0.0.1:6443' }, { HTTPS_PROXY: 'http://p:3128', NO_PROXY: '10.0.0.0/8' }, undefined],
    [{ server: 'https://127.0.0.1:6443' }, { HTTPS_PROXY: 'http://p:3128' }, undefined],
    [{ server: 'https://api.eks.example:443' }, { https_proxy: 'p:3128', no_proxy: '.svc' }, ['http://p:3128', 'https_proxy']],
    // proxy-url wins, over the environment and over NO_PROXY and loopback
    [{ server: 'https://127.0.0.1:6443', 'proxy-url': 'http://jump:8888' }, { HTTPS_PROXY: 'http://p:3128', NO_PROXY: '*' }, ['http://jump:8888', 'proxy-url']],
    [{ server: 'https://10.0.0.1:6443', 'proxy-url': 'socks5://jump:1080' }, {}, ['socks5://jump:1080', 'proxy-url']],
    [{ server: 'https://10.0.0.1:6443', 'proxy-url': '' }, { HTTPS_PROXY: 'http://p:3128' }, ['http://p:3128', 'HTTPS_PROXY']],
  ] as const)('%j with %j → %j', (cluster, env, expected) => {
    const got = apiProxy(cluster, env);
    expect(got ? [got.url, got.from] : undefined).toEqual(expected);
  });

  it('a malformed proxy-url is a usage error naming it', () => {
    expect(() => apiProxy({ server: 'https://10.0.0.1:6443', 'proxy-url': 'ftp://x:21' }, {})).toThrow(UsageError);
    expect(() => apiProxy({ server: 'https://10.0.0.1:6443', 'proxy-url': 'ftp://x:21' }, {})).toThrow(/^the proxy proxy-url=ftp:\/\/x:21 is not a proxy URL$/);
    // A server that is no URL is the first request's error, as it was before proxies.
    expect(apiProxy({ server: 'not a url' }, { HTTPS_PROXY: 'http://p:3128' })).toBeUndefined();
  });
});
