import { KubeConfig, type RequestContext } from '@kubernetes/client-node';
import { ExitCode, NixrunError } from '../errors.js';
import { EXEC_PROVIDER, ExecCredentialAuth, type ExecEnvironment } from './exec-credential.js';
import type { Effective, Impersonation } from './kubeconfig.js';

/**
 * The headers kubectl sends to impersonate (client-go's ImpersonationConfig): one
 * Impersonate-Group line per group, extra keys percent-encoded in the header name.
 */
export function impersonationHeaders(imp: Impersonation): Array<[string, string]> {
  const out: Array<[string, string]> = [['Impersonate-User', imp.user]];
  for (const g of imp.groups) out.push(['Impersonate-Group', g]);
  if (imp.uid !== undefined) out.push(['Impersonate-Uid', imp.uid]);
  for (const [k, values] of Object.entries(imp.extra)) for (const v of values) out.push([`Impersonate-Extra-${encodeURIComponent(k)}`, v]);
  return out;
}

/** Group header pairs by name: a name with several values becomes an array (several header lines in Node). */
function grouped(pairs: Array<[string, string]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of pairs) {
    const cur = out[k];
    out[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  return out;
}

interface ComposableDispatcher {
  compose?: (interceptor: unknown) => unknown;
}
type Dispatch = (opts: { headers?: unknown; allowH2?: boolean }, handler: unknown) => boolean;

/**
 * fetch joins repeated headers into one line ("a, b"), and the API server would read that as one
 * group called "a, b". An undici interceptor puts the multi-valued headers back as separate lines,
 * on HTTP/1.1: undici's HTTP/2 writer joins them again (client-h2 buildRequestHeaders).
 */
function multiHeaderInterceptor(multi: Record<string, string[]>) {
  return (dispatch: Dispatch): Dispatch =>
    (opts, handler) => {
      let headers = opts.headers;
      const names = new Set(Object.keys(multi).map((k) => k.toLowerCase()));
      if (Array.isArray(headers)) {
        const flat: string[] = [];
        for (let i = 0; i + 1 < headers.length; i += 2) if (!names.has(String(headers[i]).toLowerCase())) flat.push(String(headers[i]), String(headers[i + 1]));
        for (const [k, vs] of Object.entries(multi)) for (const v of vs) flat.push(k, v);
        headers = flat;
      } else {
        const obj: Record<string, unknown> = {};
        for (const [k, v] of Object.entries((headers ?? {}) as Record<string, unknown>)) if (!names.has(k.toLowerCase())) obj[k] = v;
        Object.assign(obj, multi);
        headers = obj;
      }
      return dispatch({ ...opts, headers, allowH2: false }, handler);
    };
}

/**
 * client-node's KubeConfig with what kubectl's global flags add: impersonation of a user, groups,
 * UID and extras (client-node knows only Impersonate-User), --request-timeout on REST calls and
 * the WebSocket handshake, and exec credential plugins run client-go's way.
 */
export class AccessKubeConfig extends KubeConfig {
  readonly execAuth: ExecCredentialAuth;

  constructor(
    private readonly extras: { impersonate?: Impersonation; requestTimeoutMs: number },
    execEnv: ExecEnvironment,
  ) {
    super();
    this.execAuth = new ExecCredentialAuth(execEnv);
    this.addAuthenticator(this.execAuth as never);
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const imp = this.extras.impersonate;
    if (imp) {
      const headers = grouped(impersonationHeaders(imp));
      const multi: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(headers)) {
        if (Array.isArray(v)) multi[k] = v;
        else context.setHeaderParam(k, v);
      }
      if (Object.keys(multi).length > 0) {
        const d = context.getDispatcher() as ComposableDispatcher | undefined;
        if (!d || typeof d.compose !== 'function') {
          throw new NixrunError(`this build cannot send ${Object.keys(multi).join(', ')} more than once per request (several --as-group)`, {
            exitCode: ExitCode.tool,
            hint: 'the standalone binary (Bun) joins repeated headers; use one --as-group, or the npm package (Node.js)',
          });
        }
        context.setDispatcher(d.compose(multiHeaderInterceptor(multi)) as never);
      }
    }
    if (this.extras.requestTimeoutMs > 0) {
      const own = AbortSignal.timeout(this.extras.requestTimeoutMs);
      const prior = context.getSignal();
      context.setSignal(prior ? AbortSignal.any([prior, own]) : own);
    }
  }

  override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    const o = opts as { headers?: Record<string, unknown>; handshakeTimeout?: number };
    if (this.extras.impersonate) o.headers = { ...(o.headers ?? {}), ...grouped(impersonationHeaders(this.extras.impersonate)) };
    if (this.extras.requestTimeoutMs > 0) o.handshakeTimeout = this.extras.requestTimeoutMs;
  }
}

/** The client-node user entry for our effective user: exec and tokenFile users go to the authenticators that handle them. */
export function clientNodeUser(eff: Effective): Record<string, unknown> {
  const user: Record<string, unknown> = { ...eff.user };
  if (user.exec) {
    user['auth-provider'] = { name: EXEC_PROVIDER, config: { execConfig: user.exec, cluster: eff.cluster, userName: eff.userName } };
    delete user.exec;
  } else if (typeof user.tokenFile === 'string' && user.token === undefined) {
    // kubectl's field is tokenFile; client-node reads "token-file" once. Its tokenFile
    // authenticator (the in-cluster one) re-reads the file every minute, as client-go does.
    user['auth-provider'] = { name: 'tokenFile', config: { tokenFile: user.tokenFile } };
  }
  delete user.tokenFile;
  return user;
}

/** Load exactly the one effective context into an AccessKubeConfig. */
export function kubeConfigFor(eff: Effective, extras: { requestTimeoutMs: number }, execEnv: ExecEnvironment): AccessKubeConfig {
  const kc = new AccessKubeConfig({ ...(eff.impersonate ? { impersonate: eff.impersonate } : {}), requestTimeoutMs: extras.requestTimeoutMs }, execEnv);
  kc.loadFromString(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: eff.clusterName, cluster: eff.cluster }],
      users: [{ name: eff.userName, user: clientNodeUser(eff) }],
      contexts: [{ name: eff.contextName, context: { cluster: eff.clusterName, user: eff.userName, ...(eff.namespace ? { namespace: eff.namespace } : {}) } }],
      'current-context': eff.contextName,
    }),
  );
  return kc;
}
