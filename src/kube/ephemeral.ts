import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { ExitCode, NixrunError } from '../errors.js';
import type { Kube } from './client.js';
import { explainApiError, httpStatus } from './errors.js';

const FIELD_MANAGER = 'kubectl-nixrun';

/** client-node picks JSON Patch by default; the ephemeralcontainers patch must be a strategic merge. */
const SMP = () => setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

export const EPHEMERAL_RBAC_HINT =
  'adding an ephemeral container needs "patch" on pods/ephemeralcontainers, which the stock edit and admin roles do not grant: ask for a Role with it (README: Permissions)';

/**
 * PATCH pods/NAME/ephemeralcontainers. With `dryRun` the API server runs validation and every
 * admission step (Pod Security included) and stores nothing: the real patch follows only when the
 * dry run passed, because an ephemeral container can never be removed again.
 */
export async function patchEphemeral(kube: Kube, pod: string, body: object, opts: { dryRun: boolean }): Promise<V1Pod> {
  try {
    return await kube.core.patchNamespacedPodEphemeralcontainers(
      { name: pod, namespace: kube.namespace, body, fieldManager: FIELD_MANAGER, ...(opts.dryRun ? { dryRun: 'All' } : {}) },
      SMP(),
    );
  } catch (err) {
    throw explainEphemeralError(err, kube, pod);
  }
}

/** Pod Security refused the pod with our container (its level is in the message). */
export class PodSecurityRejection extends NixrunError {
  constructor(
    readonly level: string,
    message: string,
    opts: { exitCode: number; hint?: string; cause: unknown },
  ) {
    super(message, opts);
  }
}

export function explainEphemeralError(err: unknown, kube: Kube, pod: string): NixrunError {
  const status = httpStatus(err);
  const message = bodyMessage(err);
  if (status === 403 && /violates PodSecurity/.test(message)) {
    const e = explainApiError(err, { action: `add an ephemeral container to pod ${pod}`, namespace: kube.namespace, server: kube.server, proxy: kube.proxy });
    return new PodSecurityRejection(/PodSecurity "([a-z]+)/.exec(message)?.[1] ?? 'restricted', e.message, { exitCode: e.exitCode, hint: e.hint, cause: err });
  }
  if (status === 403 && /ephemeralcontainers/.test(message) && !/PodSecurity/.test(message)) {
    return new NixrunError(`not allowed to add an ephemeral container to pod ${pod} in ${kube.namespace}: ${message}`, { exitCode: ExitCode.tool, hint: EPHEMERAL_RBAC_HINT, cause: err });
  }
  if (status === 404 && !/pods? "/.test(message)) {
    return new NixrunError('ephemeral containers are not available on this cluster (the pods/ephemeralcontainers API answered 404)', {
      exitCode: ExitCode.cannotRun,
      hint: 'use --copy pod/NAME instead: a disposable copy with the tools added',
      cause: err,
    });
  }
  if (status === 422 && /static pods/.test(message)) {
    return new NixrunError(`pod ${pod} is a static (mirror) pod, which cannot have ephemeral containers`, { exitCode: ExitCode.cannotRun, hint: `use --copy pod/${pod}, or node/NODE for its node`, cause: err });
  }
  return explainApiError(err, { action: `add an ephemeral container to pod ${pod}`, namespace: kube.namespace, server: kube.server, proxy: kube.proxy });
}

/**
 * The namespace's labels (its Pod Security levels), or undefined when we may not read it: a Role
 * can grant `get` on its own namespace, but many users lack it, and the dry run still decides.
 */
export async function namespaceLabels(kube: Kube): Promise<Record<string, string> | undefined> {
  try {
    const ns = await kube.core.readNamespace({ name: kube.namespace });
    return ns.metadata?.labels ?? {};
  } catch (err) {
    const status = httpStatus(err);
    if (status === 403) return undefined;
    if (status === 404) throw new NixrunError(`namespace ${kube.namespace} does not exist`, { exitCode: ExitCode.tool, hint: 'pick another one with -n' });
    throw explainApiError(err, { action: `read namespace ${kube.namespace}`, namespace: kube.namespace, server: kube.server, proxy: kube.proxy });
  }
}

function bodyMessage(err: unknown): string {
  if (!err || typeof err !== 'object' || !('body' in err)) return String(err);
  const body = (err as { body: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (body as { message?: string } | undefined)?.message ?? String(err);
}
