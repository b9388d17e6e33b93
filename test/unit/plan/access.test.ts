import { describe, expect, it } from 'vitest';
import { normalizeServer, parseRequestTimeout, validateAccess } from '../../../src/plan/access.js';

describe('kubectl global flags: validation (exit 2 before any I/O)', () => {
  it.each([
    ['0', 0],
    ['30', 30_000],
    ['30s', 30_000],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1h', 3_600_000],
  ])('--request-timeout %s → %d ms', (v, ms) => expect(parseRequestTimeout(v)).toBe(ms));

  it.each(['soon', '-1s', '1x', '', '5 m', '1d'])('--request-timeout %j is refused', (v) => expect(() => parseRequestTimeout(v)).toThrow(/invalid --request-timeout/));

  it.each([
    ['https://k8s.example:6443', 'https://k8s.example:6443'],
    ['k8s.example:6443', 'https://k8s.example:6443'],
    ['https://10.0.0.1/', 'https://10.0.0.1'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['https://rancher.example/k8s/clusters/c-1', 'https://rancher.example/k8s/clusters/c-1'],
  ])('--server %s → %s', (v, out) => expect(normalizeServer(v)).toBe(out));

  it.each(['ftp://x', 'https://a b', 'https://u:p@host', 'https://host?x=1', '://'])('--server %j is refused', (v) => expect(() => normalizeServer(v)).toThrow(/invalid --server/));

  it('maps every flag, repeatable --as-group kept in order', () => {
    expect(
      validateAccess({ as: 'jane', asGroup: ['dev', 'ops'], asUid: '42', requestTimeout: '10s', server: 'k:6443', token: 't0k', user: 'u', cluster: 'c', tlsServerName: 'api.example' }),
    ).toEqual({ as: 'jane', asGroups: ['dev', 'ops'], asUid: '42', requestTimeoutMs: 10_000, server: 'https://k:6443', token: 't0k', user: 'u', cluster: 'c', insecureSkipTlsVerify: false, tlsServerName: 'api.example', certificateAuthority: undefined });
    expect(validateAccess({})).toMatchObject({ asGroups: [], requestTimeoutMs: 0, insecureSkipTlsVerify: false });
  });

  it.each([
    [{ asGroup: ['dev'] }, /--as-group needs --as/],
    [{ asUid: '1' }, /--as-uid needs --as/],
    [{ as: '' }, /--as needs a non-empty value/],
    [{ as: 'a,b' }, /invalid --as/],
    [{ as: 'x', asGroup: ['a\nb'] }, /invalid --as-group/],
    [{ token: 'a b' }, /invalid --token/],
    [{ tlsServerName: 'not a name' }, /invalid --tls-server-name/],
    [{ insecureSkipTlsVerify: true, certificateAuthority: '/ca.crt' }, /exclude each other/],
  ])('refuses %j', (flags, re) => expect(() => validateAccess(flags)).toThrow(re));
});
