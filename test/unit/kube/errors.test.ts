import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/errors.js';
import { explainApiError, isTransient } from '../../../src/kube/errors.js';

// The shape client-node's ApiException has: an HTTP code and the metav1.Status body as text.
const apiError = (code: number, message: string, extra: object = {}) => Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify({ kind: 'Status', message, code, ...extra }) });
const ctx = { action: 'create the pod', namespace: 'team-a', server: 'https://127.0.0.1:6443', profile: 'netadmin' };

describe('explainApiError', () => {
  it('turns a PodSecurity rejection into exit 126 with the violations and a --profile hint', () => {
    const e = explainApiError(
      apiError(403, 'pods "nixrun-ping-abcde" is forbidden: violates PodSecurity "restricted:latest": unrestricted capabilities (container "nixrun" must not include "NET_ADMIN", "NET_RAW" in securityContext.capabilities.add)'),
      ctx,
    );
    expect(e.exitCode).toBe(ExitCode.cannotRun);
    expect(e.message).toMatch(/team-a enforces Pod Security "restricted"/);
    expect(e.message).toMatch(/NET_ADMIN/);
    expect(e.hint).toMatch(/--profile netadmin/);
  });

  it('quota rejections suggest --requests/--limits', () => {
    const e = explainApiError(apiError(403, 'pods "x" is forbidden: failed quota: q: must specify limits.cpu'), ctx);
    expect(e.exitCode).toBe(ExitCode.cannotRun);
    expect(e.hint).toMatch(/--requests/);
  });

  it('RBAC denials are tool errors that say which rights are needed', () => {
    const e = explainApiError(apiError(403, 'pods is forbidden: User "bob" cannot create resource "pods"'), ctx);
    expect(e.exitCode).toBe(ExitCode.tool);
    expect(e.hint).toMatch(/pods\/attach/);
  });

  it('validation errors list the causes', () => {
    const e = explainApiError(
      apiError(422, 'Pod "x" is invalid', { details: { causes: [{ field: 'spec.containers[0].resources.limits.cpu', message: 'Invalid value: "lots"' }] } }),
      ctx,
    );
    expect(e.exitCode).toBe(ExitCode.tool);
    expect(e.message).toMatch(/limits\.cpu: Invalid value/);
  });

  it('an unreachable server names the server and the errno', () => {
    const err = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const e = explainApiError(err, ctx);
    expect(e.message).toMatch(/cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:6443 \(ECONNREFUSED\)/);
    expect(isTransient(err)).toBe(true);
  });

  it('only 429, 5xx and network errors are transient', () => {
    expect(isTransient(apiError(503, 'unavailable'))).toBe(true);
    expect(isTransient(apiError(429, 'slow down'))).toBe(true);
    expect(isTransient(apiError(403, 'no'))).toBe(false);
    expect(isTransient(apiError(404, 'gone'))).toBe(false);
  });
});
