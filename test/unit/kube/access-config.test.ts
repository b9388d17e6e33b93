import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { impersonationHeaders } from '../../../src/kube/access-config.js';
import { connect } from '../../../src/kube/client.js';
import { validateAccess } from '../../../src/plan/access.js';

describe('impersonation headers (client-go ImpersonationConfig)', () => {
  it('one Impersonate-Group line per group, extras percent-encoded', () => {
    expect(impersonationHeaders({ user: 'jane', groups: ['a', 'b'], uid: '7', extra: { 'scopes/x': ['s1', 's2'] } })).toEqual([
      ['Impersonate-User', 'jane'],
      ['Impersonate-Group', 'a'],
      ['Impersonate-Group', 'b'],
      ['Impersonate-Uid', '7'],
      ['Impersonate-Extra-scopes%2Fx', 's1'],
      ['Impersonate-Extra-scopes%2Fx', 's2'],
    ]);
  });

  it('REST requests carry them as separate lines (fetch alone would join them), and --request-timeout bounds a request', async () => {
    const seen: string[][] = [];
    let delayMs = 0;
    const server = createServer((req, res) => {
      seen.push(req.rawHeaders);
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end('{"kind":"PodList","apiVersion":"v1","items":[]}');
      }, delayMs);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const access = validateAccess({ server: `http://127.0.0.1:${port}`, insecureSkipTlsVerify: true, token: 'T', as: 'jane', asGroup: ['dev', 'ops'], asUid: 'u-1', requestTimeout: '300ms' });
      const kube = connect({ access }, {});
      await kube.core.listNamespacedPod({ namespace: 'x' });
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i < seen[0]!.length; i += 2) pairs.push([seen[0]![i]!.toLowerCase(), seen[0]![i + 1]!]);
      expect(pairs.filter(([k]) => k.startsWith('impersonate-'))).toEqual([
        ['impersonate-user', 'jane'],
        ['impersonate-uid', 'u-1'],
        ['impersonate-group', 'dev'],
        ['impersonate-group', 'ops'],
      ]);
      expect(pairs).toContainEqual(['authorization', 'Bearer T']);

      delayMs = 1000;
      const started = Date.now();
      const err = await kube.core.listNamespacedPod({ namespace: 'x' }).catch((e: unknown) => e);
      expect((err as Error).name).toBe('TimeoutError');
      expect(Date.now() - started).toBeLessThan(900);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
