import { createHash } from 'node:crypto';
import { errnoCode, ExitCode, NixrunError } from '../errors.js';
import { proxyEnvironment, proxyFailure, proxyFor, proxyName, type ProxyChoice, type ProxyEnvironment } from '../proxy.js';
import { registryFetch } from './http.js';
import { authorizationFor, parseChallenge, type RegistryCredential } from './registry-auth.js';

/** Where credentials for a registry may be, asked only after a 401 (nixery.dev needs none). */
export interface CredentialSource {
  /** Every place looked in, for the error ("pull secret default/regcred, ~/.docker/config.json"). */
  looked: string[];
  credentials: RegistryCredential[];
}

export interface PreflightTarget {
  registry: string;
  /** The repository path, e.g. "shell/curl/netcat". */
  path: string;
  tag?: string;
}

export type PreflightResult =
  | { kind: 'built'; digest: string; ms: number }
  /** The registry could not be asked (unreachable, timed out, odd answer): run by tag instead. */
  | { kind: 'skipped'; reason: string; ms: number };

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** Docker's rule: registries on loopback may speak plain HTTP; everything else is HTTPS. */
export function registryBaseUrl(registry: string): string {
  const host = registry.replace(/:\d+$/, '');
  const loopback = host === 'localhost' || /^127\./.test(host) || host === '[::1]';
  return `${loopback ? 'http' : 'https'}://${registry}`;
}

/**
 * Ask the registry for the manifest. Nixery builds the image synchronously while answering, so
 * this turns a silent, minutes-long pull into a visible build, and a bad package name into an
 * error before any pod exists (nixery.md §4.2). 200 gives the digest to pin the pod to.
 */
export async function preflight(
  target: PreflightTarget,
  opts: { timeoutMs: number; signal: AbortSignal; credentials?: () => Promise<CredentialSource>; proxies?: ProxyEnvironment },
): Promise<PreflightResult> {
  const started = Date.now();
  const url = `${registryBaseUrl(target.registry)}/v2/${target.path}/manifests/${target.tag ?? 'latest'}`;
  const proxies = opts.proxies ?? proxyEnvironment(process.env);
  let proxy: ProxyChoice | undefined;
  const ms = () => Date.now() - started;
  let res: Response;
  let body: Buffer;
  const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]);
  const get = async (authorization?: string) => {
    const r = await registryFetch(
      url,
      {
        headers: { Accept: MANIFEST_TYPES, 'User-Agent': 'kubectl-nixrun', ...(authorization ? { Authorization: authorization } : {}) },
        signal,
        redirect: 'follow',
      },
      proxy,
    );
    return { r, b: Buffer.from(await r.arrayBuffer()) };
  };
  try {
    proxy = proxyFor(url, proxies);
    ({ r: res, b: body } = await get());
    if (res.status === 401) ({ r: res, b: body } = await authenticated(target, res, signal, opts.credentials, get, proxies));
  } catch (err) {
    if (err instanceof NixrunError) throw err;
    if (opts.signal.aborted) throw opts.signal.reason;
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    const via = proxy ? ` through ${proxyName(proxy)}` : '';
    return {
      kind: 'skipped',
      reason: timedOut
        ? `no answer from ${target.registry}${via} within ${opts.timeoutMs < 10_000 ? (opts.timeoutMs / 1000).toFixed(1) : Math.round(opts.timeoutMs / 1000)}s`
        : `cannot reach ${target.registry} (${(proxy && proxyFailure(err, proxy)) ?? `${networkReason(err)}${via}`})`,
      ms: ms(),
    };
  }

  if (res.status === 200) {
    const digest = res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (!looksLikeManifest(body)) {
      return { kind: 'skipped', reason: `${target.registry} answered 200 but not with an image manifest (${res.headers.get('content-type') ?? 'no content type'})`, ms: ms() };
    }
    return { kind: 'built', digest, ms: ms() };
  }
  // Nixery sends its JSON errors as text/plain (nixery.md §3.1): parse whatever the type.
  const error = parseRegistryError(body);
  if (res.status === 404 && error?.code === 'MANIFEST_UNKNOWN') {
    const missing = parseMissingPackages(error.message);
    throw new MissingPackagesError(target.registry, missing, error.message ?? 'manifest unknown');
  }
  if (res.status === 404) {
    throw new NixrunError(`${target.registry} has no image ${target.path} (HTTP 404${body.length === 0 ? ', empty body' : ''})`, {
      exitCode: ExitCode.cannotRun,
      hint: 'is --registry a Nixery instance? Nixery answers unknown packages with a MANIFEST_UNKNOWN error',
    });
  }
  if (res.status === 500) {
    throw new NixrunError(`${target.registry} could not build the image ${target.path} (HTTP 500: ${error?.message ?? 'no detail'})`, {
      exitCode: ExitCode.cannotRun,
      hint:
        'likely causes: a package that is not in the binary cache and would have to be compiled (Nixery gives up after ~60 s), an unfree licence (terraform: use opentofu), a broken package, or no aarch64 build with --arch arm64; try the packages one by one to find it',
    });
  }
  return { kind: 'skipped', reason: `${target.registry} answered HTTP ${res.status}${error?.message ? `: ${error.message}` : ''}`, ms: ms() };
}

/**
 * Answer a 401 as container tools do: each credential in turn (pull secrets, then the Docker
 * config), through the challenge's scheme (Basic, or a Bearer token from the realm). Anonymous
 * Bearer tokens are tried first when there are no credentials (public registries hand them out).
 */
async function authenticated(
  target: PreflightTarget,
  first: Response,
  signal: AbortSignal,
  source: (() => Promise<CredentialSource>) | undefined,
  get: (authorization?: string) => Promise<{ r: Response; b: Buffer }>,
  proxies: ProxyEnvironment,
): Promise<{ r: Response; b: Buffer }> {
  const challenge = parseChallenge(first.headers.get('www-authenticate'));
  const found = source ? await source() : { looked: [], credentials: [] };
  const scope = `repository:${target.path}:pull`;
  const attempts: Array<RegistryCredential | undefined> = found.credentials.length > 0 ? found.credentials : challenge?.scheme === 'bearer' ? [undefined] : [];
  let last: { r: Response; b: Buffer } | undefined;
  const refused: string[] = [];
  for (const credential of attempts) {
    const authorization = challenge ? await authorizationFor(challenge, credential, scope, signal, proxies) : undefined;
    if (authorization) {
      last = await get(authorization);
      if (last.r.status !== 401 && last.r.status !== 403) return last;
    }
    if (credential) refused.push(credential.source);
  }
  const looked = found.looked.length > 0 ? found.looked.join(', ') : 'nowhere (no --image-pull-secret, no Docker config)';
  throw new NixrunError(
    refused.length > 0
      ? `${target.registry} refused the credentials (HTTP ${last?.r.status ?? 401}) from ${refused.join(', ')}`
      : `${target.registry} needs credentials (HTTP 401${challenge ? `, ${challenge.scheme === 'bearer' ? 'Bearer' : 'Basic'} challenge` : ''}) and none were found; looked in ${looked}`,
    {
      exitCode: ExitCode.cannotRun,
      hint:
        refused.length > 0
          ? 'check the user and password of that pull secret or Docker config entry (docker login REGISTRY rewrites it)'
          : `pass --image-pull-secret NAME (a kubernetes.io/dockerconfigjson Secret in the namespace), or run docker login ${target.registry}`,
    },
  );
}

export class MissingPackagesError extends NixrunError {
  constructor(
    readonly registry: string,
    readonly missing: string[],
    detail: string,
  ) {
    super(
      missing.length > 0
        ? `${registry} does not know the package${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`
        : `${registry} could not find some packages: ${detail}`,
      { exitCode: ExitCode.cannotRun, hint: 'check the names on https://search.nixos.org/packages (channel unstable); nixery.dev follows nixpkgs with some lag' },
    );
    this.name = 'MissingPackagesError';
  }
}

interface RegistryError {
  code?: string;
  message?: string;
}

export function parseRegistryError(body: Buffer): RegistryError | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: RegistryError[] };
    return parsed.errors?.[0];
  } catch {
    return undefined;
  }
}

/** "Could not find Nix packages: [foo bar-baz]" → ["foo", "bar-baz"] (Go's %v of a []string). */
export function parseMissingPackages(message: string | undefined): string[] {
  const m = /\[([^\]]*)\]/.exec(message ?? '');
  if (!m) return [];
  return m[1]!.split(/\s+/).filter((s) => s.length > 0);
}

function looksLikeManifest(body: Buffer): boolean {
  try {
    const m = JSON.parse(body.toString('utf8')) as { schemaVersion?: unknown };
    return m.schemaVersion === 2;
  } catch {
    return false;
  }
}

function networkReason(err: unknown): string {
  return errnoCode(err) ?? (err instanceof Error ? err.message : String(err));
}
