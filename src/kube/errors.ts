import { causeChain, errnoCode, ExitCode, firstLine, NixrunError } from '../errors.js';
import { proxyFailure, proxyHint, proxyName, type ProxyChoice } from '../proxy.js';

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: Array<{ message?: string; field?: string }> };
}

/** The HTTP status of a client-node ApiException, or undefined for transport errors. */
export function httpStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'number') return err.code;
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  return httpStatus(err) === 404;
}

/** A network-level failure (API unreachable, reset, timed out): worth retrying. */
export function isTransient(err: unknown): boolean {
  const status = httpStatus(err);
  if (status !== undefined) return status === 429 || status >= 500;
  const code = errnoCode(err);
  if (code && TLS_TRUST_CODES.has(code)) return false; // retrying will not make the certificate trusted
  return code !== undefined || /fetch failed|socket hang up|network|ECONN|ETIMEDOUT|EAI_AGAIN/i.test(String(err));
}

/** Node's and Bun's codes for a server certificate that does not verify. */
export const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** The message of the innermost cause ("fetch failed" hides what went wrong). */
function deepestMessage(err: unknown): string {
  let msg = firstLine(String(err));
  for (const e of causeChain(err)) {
    const m = (e as { message?: unknown }).message;
    if (typeof m === 'string' && m) msg = firstLine(m);
  }
  return msg;
}

function parseStatus(err: unknown): StatusBody | undefined {
  if (!err || typeof err !== 'object' || !('body' in err)) return undefined;
  const body = (err as { body: unknown }).body;
  if (body && typeof body === 'object') return body as StatusBody;
  if (typeof body !== 'string') return undefined;
  try {
    return JSON.parse(body) as StatusBody;
  } catch {
    return { message: body };
  }
}

/**
 * Turn an API failure into a plain-words error with a hint and the right exit code: 126 when the
 * cluster refuses to run the pod (Pod Security, admission), 125 for everything else.
 */
export function explainApiError(err: unknown, ctx: { action: string; namespace: string; server: string; profile?: string; proxy?: ProxyChoice | undefined }): NixrunError {
  // Already explained where it happened (an exec credential plugin that failed, for one).
  if (err instanceof NixrunError) return err;
  const status = httpStatus(err);
  if (status === undefined) {
    const viaProxy = ctx.proxy ? proxyFailure(err, ctx.proxy) : undefined;
    if (ctx.proxy && viaProxy) {
      return new NixrunError(`cannot reach the Kubernetes API at ${ctx.server}: ${viaProxy}, while trying to ${ctx.action}`, {
        exitCode: ExitCode.tool,
        hint: proxyHint(ctx.proxy, viaProxy),
        cause: err,
      });
    }
    const via = ctx.proxy ? ` through ${proxyName(ctx.proxy)}` : '';
    if (err instanceof Error && err.name === 'TimeoutError') {
      return new NixrunError(`no answer from the Kubernetes API at ${ctx.server}${via} within --request-timeout while trying to ${ctx.action}`, {
        exitCode: ExitCode.tool,
        hint: 'raise --request-timeout (0 = no limit), or check the cluster is up (kubectl cluster-info)',
        cause: err,
      });
    }
    const code = errnoCode(err);
    if (code && TLS_TRUST_CODES.has(code)) {
      return new NixrunError(`the API server at ${ctx.server} presented a certificate this kubeconfig does not trust (${code}: ${deepestMessage(err).replace(/; if the root CA is installed locally.*$/, '')})`, {
        exitCode: ExitCode.tool,
        hint: "check the cluster's certificate-authority(-data) and server address in the kubeconfig/context (kubectl cluster-info)",
        cause: err,
      });
    }
    return new NixrunError(`cannot reach the Kubernetes API at ${ctx.server}${via} (${code ?? firstLine(String(err))}) while trying to ${ctx.action}`, {
      exitCode: ExitCode.tool,
      hint: 'check the cluster is up and the kubeconfig/context is right (kubectl cluster-info)',
      cause: err,
    });
  }
  const body = parseStatus(err);
  const message = body?.message ?? `HTTP ${status}`;
  if (status === 403 && /violates PodSecurity/.test(message)) {
    const level = /PodSecurity "([a-z]+)/.exec(message)?.[1] ?? 'restricted';
    return new NixrunError(`namespace ${ctx.namespace} enforces Pod Security "${level}" and rejected the pod: ${violations(message)}`, {
      exitCode: ExitCode.cannotRun,
      hint: /hostNetwork=true/.test(message)
        ? '--host-network needs a namespace whose Pod Security level is privileged: use -n such a namespace, or drop --host-network'
        : ctx.profile && ctx.profile !== 'restricted'
          ? `--profile ${ctx.profile} needs a namespace that allows it; use --profile restricted, or -n a namespace with a laxer pod-security.kubernetes.io/enforce label`
          : `pick a --profile the namespace allows, or another namespace with -n`,
    });
  }
  if (status === 403 && /exceeded quota|must specify (limits|requests)/.test(message)) {
    return new NixrunError(`the namespace's resource quota rejected the pod: ${message}`, {
      exitCode: ExitCode.cannotRun,
      hint: 'set --requests and --limits, e.g. --requests cpu=100m,memory=128Mi --limits cpu=500m,memory=256Mi',
    });
  }
  if (status === 403 && /cannot impersonate/.test(message)) {
    return new NixrunError(`not allowed to impersonate: ${message}`, {
      exitCode: ExitCode.tool,
      hint: 'your own user needs the impersonate verb on users (and groups, uids, userextras for --as-group, --as-uid) in RBAC; or drop --as',
    });
  }
  if (status === 403) {
    return new NixrunError(`not allowed to ${ctx.action}: ${message}`, {
      exitCode: ExitCode.tool,
      hint: 'kubectl-nixrun needs, in the namespace: create/get/list/watch/delete on pods, create on pods/attach, get on pods/log, list/watch on events (README: Permissions)',
    });
  }
  if (status === 401) {
    return new NixrunError(`the API server did not accept the credentials (401) while trying to ${ctx.action}`, {
      exitCode: ExitCode.tool,
      hint: 'log in again or refresh the kubeconfig credentials',
    });
  }
  if (status === 404 && /namespaces? "[^"]+" not found/.test(message)) {
    return new NixrunError(`namespace ${ctx.namespace} does not exist`, { exitCode: ExitCode.tool, hint: 'pick another one with -n' });
  }
  if (status === 422 || status === 400) {
    const causes = body?.details?.causes?.map((c) => [c.field, c.message].filter(Boolean).join(': ')).filter((s) => s.length > 0) ?? [];
    const text = causes.length > 0 ? causes.join('; ') : message;
    const admission = /admission webhook|denied the request/.test(message);
    return new NixrunError(`the API server rejected the pod: ${text}`, {
      exitCode: admission ? ExitCode.cannotRun : ExitCode.tool,
      hint: admission ? 'an admission policy refused the pod; see the message for what it wants' : 'check --overrides and the other pod flags (try --dry-run -o yaml)',
    });
  }
  return new NixrunError(`failed to ${ctx.action}: ${message}`, { exitCode: ExitCode.tool });
}

function violations(message: string): string {
  const i = message.indexOf(':', message.indexOf('violates PodSecurity'));
  return i === -1 ? message : message.slice(i + 1).trim();
}
