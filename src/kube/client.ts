import { AuthenticationV1Api, CoreV1Api, HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ExitCode, NixrunError, UsageError } from '../errors.js';
import { NO_ACCESS_OVERRIDES, type KubeAccess } from '../plan/access.js';
import { parseProxyUrl, proxyEnvironment, proxyFor, type ProxyChoice } from '../proxy.js';
import { AccessKubeConfig, kubeConfigFor } from './access-config.js';
import { explainApiError, httpStatus } from './errors.js';
import { effectiveConfig, loadKubeconfigFiles, type RawKubeconfig } from './kubeconfig.js';

/** Unset (undefined) fields fall back as kubectl's do. */
export interface KubeTarget {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** kubectl's global flags (--as, --server, --token, --request-timeout, …). */
  access?: KubeAccess;
  /** Whether stdin is a terminal: an exec credential plugin may prompt on it. */
  stdinIsTTY?: boolean;
}

/** A connection pinned to one context and namespace for the whole run (like node-shell does). */
export interface Kube {
  kc: KubeConfig;
  core: CoreV1Api;
  context: string;
  namespace: string;
  server: string;
  /** Who the requests act as, when impersonating (--as). */
  impersonating?: string;
  /** The proxy every request to the API server goes through (REST and the attach WebSocket). */
  proxy?: ProxyChoice;
}

const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * Load the kubeconfig the way kubectl does: --kubeconfig, else $KUBECONFIG (several files,
 * merged, first definition wins), else ~/.kube/config, else the in-cluster service account; then
 * kubectl's global flags on top. Namespace: -n, else the context's, else "default".
 */
export function connect(target: KubeTarget, env: NodeJS.ProcessEnv = process.env): Kube {
  const access = target.access ?? NO_ACCESS_OVERRIDES;
  const execEnv = { env, stdinIsTTY: target.stdinIsTTY ?? false, timeoutMs: access.requestTimeoutMs };
  let raw: RawKubeconfig | undefined;
  if (target.kubeconfig !== undefined) {
    if (!existsSync(target.kubeconfig)) {
      throw new UsageError(`kubeconfig file ${target.kubeconfig} does not exist`, 'check the --kubeconfig path');
    }
    raw = loadKubeconfigFiles([target.kubeconfig]);
  } else if (env.KUBECONFIG && env.KUBECONFIG.length > 0) {
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f.length > 0);
    if (files.length > 0 && !files.some((f) => existsSync(f)) && access.server === undefined) {
      throw new UsageError(`no kubeconfig file found in KUBECONFIG (${files.join(delimiter)})`, 'fix KUBECONFIG or pass --kubeconfig');
    }
    // kubectl skips KUBECONFIG entries that do not exist.
    raw = loadKubeconfigFiles(files);
  } else if (existsSync(join(env.HOME ?? homedir(), '.kube', 'config'))) {
    raw = loadKubeconfigFiles([join(env.HOME ?? homedir(), '.kube', 'config')]);
  } else if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && access.server === undefined) {
    const server = `https://${env.KUBERNETES_SERVICE_HOST.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST}:${env.KUBERNETES_SERVICE_PORT}`;
    const proxy = apiProxy({ server }, env);
    const kc = new AccessKubeConfig({ requestTimeoutMs: access.requestTimeoutMs, ...(access.as ? { impersonate: { user: access.as, groups: access.asGroups, ...(access.asUid ? { uid: access.asUid } : {}), extra: {} } } : {}) }, execEnv);
    kc.loadFromCluster();
    // client-go's in-cluster config uses the environment's proxy too (NO_PROXY usually names the Service range).
    if (proxy) kc.clusters = kc.clusters.map((c) => ({ ...c, proxyUrl: proxy.url }));
    const namespace = target.namespace ?? inClusterNamespace(env) ?? 'default';
    return { kc, core: kc.makeApiClient(CoreV1Api), context: kc.getCurrentContext(), namespace, server: kc.getCurrentCluster()!.server, ...(access.as ? { impersonating: access.as } : {}), ...(proxy ? { proxy } : {}) };
  } else if (access.server !== undefined) {
    raw = { clusters: [], users: [], contexts: [] }; // kubectl --server URL --token T works without any kubeconfig
  } else {
    throw new NixrunError('no Kubernetes cluster configured: no --kubeconfig, no KUBECONFIG, no ~/.kube/config', {
      exitCode: ExitCode.tool,
      hint: 'add --dry-run to print the pod without a cluster, or run `npm run demo` for a local one',
    });
  }

  const eff = effectiveConfig(raw, { ...(target.context !== undefined ? { context: target.context } : {}), access });
  for (const [what, file] of [
    ['--certificate-authority / certificate-authority', eff.cluster['certificate-authority']],
    ['client-certificate', eff.user['client-certificate']],
    ['client-key', eff.user['client-key']],
    ['tokenFile', eff.user.tokenFile],
  ] as const) {
    if (typeof file === 'string' && file !== '' && !existsSync(file)) throw new UsageError(`the ${what} file ${file} does not exist`, 'fix the path in the kubeconfig or the flag');
  }
  const proxy = apiProxy(eff.cluster, env);
  const cluster = proxy ? { ...eff.cluster, 'proxy-url': proxy.url } : eff.cluster;
  const kc = kubeConfigFor({ ...eff, cluster }, { requestTimeoutMs: access.requestTimeoutMs }, execEnv);
  const namespace = target.namespace ?? eff.namespace ?? inClusterNamespace(env) ?? 'default';
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    context: eff.contextName,
    namespace,
    server: eff.cluster.server,
    ...(eff.impersonate ? { impersonating: eff.impersonate.user } : {}),
    ...(proxy ? { proxy } : {}),
  };
}

/**
 * The proxy for the API server, as client-go picks it: the cluster's proxy-url if set (always
 * used), else HTTPS_PROXY/HTTP_PROXY unless NO_PROXY or loopback exempts the server. Checked here,
 * before any request: a malformed URL, or SOCKS in the standalone binary (Bun's fetch speaks
 * only http(s) proxies), is a usage error.
 */
export function apiProxy(cluster: { server: string; 'proxy-url'?: string }, env: NodeJS.ProcessEnv): ProxyChoice | undefined {
  const configured = cluster['proxy-url'];
  let server: URL | undefined;
  try {
    server = new URL(cluster.server);
  } catch {
    server = undefined; // reported by the first request, as before
  }
  const proxy = configured !== undefined && configured !== '' ? parseProxyUrl(configured, 'proxy-url') : server ? proxyFor(server, proxyEnvironment(env)) : undefined;
  if (proxy && !/^https?:/.test(proxy.url) && process.versions.bun !== undefined) {
    throw new UsageError(`the standalone binary cannot use the SOCKS proxy ${proxy.shown} (${proxy.from})`, 'use an http(s) proxy, or the npm package (Node.js), which speaks SOCKS');
  }
  return proxy;
}

/**
 * connect, then fetch the credentials once (an exec plugin runs here, so a missing or failing one
 * is the one error of the run, before any request), and with --as ask who we are: a user who may
 * not impersonate gets the API server's 403 now, not halfway through the session.
 */
export async function connectAndAuthenticate(target: KubeTarget, env: NodeJS.ProcessEnv = process.env): Promise<Kube> {
  const kube = connect(target, env);
  await kube.kc.applySecurityAuthentication(new RequestContext(kube.server, HttpMethod.GET));
  if (kube.impersonating !== undefined) await checkImpersonation(kube);
  return kube;
}

async function checkImpersonation(kube: Kube): Promise<void> {
  const api = kube.kc.makeApiClient(AuthenticationV1Api);
  try {
    await api.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
  } catch (err) {
    const status = httpStatus(err);
    // 404: an API server before 1.28 has no SelfSubjectReview; the first real request will tell.
    if (status === 404) return;
    throw explainApiError(err, { action: `impersonate ${kube.impersonating}`, namespace: kube.namespace, server: kube.server, proxy: kube.proxy });
  }
}

function inClusterNamespace(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.KUBERNETES_SERVICE_HOST) return undefined;
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
