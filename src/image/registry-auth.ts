import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { proxyEnvironment, proxyFor, type ProxyEnvironment } from '../proxy.js';
import { registryFetch } from './http.js';

/** Credentials for one registry, and where they came from (named in errors, never printed). */
export interface RegistryCredential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker login to some registries stores identitytoken). */
  identityToken?: string;
  /** A registry token used as the Bearer directly (registrytoken). */
  registryToken?: string;
  source: string;
}

/** The parts of ~/.docker/config.json (and a kubernetes.io/dockerconfigjson Secret) we read. */
export interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The keys docker and the kubelet accept for a registry: host, with a scheme, with /v1/ or /v2/. */
function keyMatches(key: string, registry: string): boolean {
  const k = key.replace(/^[a-z]+:\/\//i, '').replace(/\/(v1|v2)?\/?$/, '').replace(/\/+$/, '');
  if (k === registry) return true;
  // docker.io's historical key.
  return registry === 'docker.io' && /^index\.docker\.io(\/v1)?$/.test(k);
}

/**
 * Credentials for `registry` from a Docker config (docker's lookup order): a credHelpers entry,
 * then an auths entry, then the credsStore. Helpers are returned as names to run, not run here.
 */
export function lookupDockerConfig(cfg: DockerConfig, registry: string, source: string): { credential?: RegistryCredential; helper?: string } {
  const helper = cfg.credHelpers?.[registry];
  if (helper) return { helper };
  for (const [key, entry] of Object.entries(cfg.auths ?? {})) {
    if (!keyMatches(key, registry) || !entry) continue;
    let { username, password } = entry;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) {
        username = decoded.slice(0, i);
        password = decoded.slice(i + 1);
      }
    }
    const credential: RegistryCredential = { source };
    if (username !== undefined) credential.username = username;
    if (password !== undefined) credential.password = password;
    if (entry.identitytoken) credential.identityToken = entry.identitytoken;
    if (entry.registrytoken) credential.registryToken = entry.registrytoken;
    if (credential.username || credential.identityToken || credential.registryToken) return { credential };
  }
  if (cfg.credsStore) return { helper: cfg.credsStore };
  return {};
}

/** $DOCKER_CONFIG/config.json, else ~/.docker/config.json; undefined when absent or unreadable. */
export function readDockerConfig(env: NodeJS.ProcessEnv): { path: string; config: DockerConfig } | undefined {
  const dir = env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker');
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return undefined;
  try {
    return { path, config: JSON.parse(readFileSync(path, 'utf8')) as DockerConfig };
  } catch {
    return undefined;
  }
}

/**
 * Ask a docker credential helper (`docker-credential-NAME get`, the registry on stdin), as docker
 * does. Bounded: a helper that prompts or hangs must not stop the run.
 */
export function runCredentialHelper(helper: string, registry: string, env: NodeJS.ProcessEnv, timeoutMs = 10_000): Promise<RegistryCredential | undefined> {
  return new Promise((resolve) => {
    const child = spawn(`docker-credential-${helper}`, ['get'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return resolve(undefined);
      try {
        const r = JSON.parse(out) as { Username?: string; Secret?: string };
        if (!r.Secret) return resolve(undefined);
        // "<token>" as the user name means the secret is an identity token.
        resolve(r.Username === '<token>' ? { identityToken: r.Secret, source: `docker-credential-${helper}` } : { username: r.Username ?? '', password: r.Secret, source: `docker-credential-${helper}` });
      } catch {
        resolve(undefined);
      }
    });
    child.stdin.end(registry);
  });
}

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** `Bearer realm="https://auth/token",service="reg",scope="repository:x:pull"` → its parts. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(Basic|Bearer)\b\s*(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/([a-zA-Z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  return { scheme: m[1]!.toLowerCase() as Challenge['scheme'], params };
}

export function basicHeader(c: RegistryCredential): string | undefined {
  if (c.username === undefined || c.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/**
 * The Authorization header for a request that was answered 401 with `challenge`: basic directly,
 * or a token from the Bearer realm (docker's token protocol; the basic credentials go to the
 * realm, never to the registry itself). Undefined when these credentials cannot answer it.
 */
export async function authorizationFor(challenge: Challenge, credential: RegistryCredential | undefined, defaultScope: string, signal: AbortSignal, proxies: ProxyEnvironment = proxyEnvironment(process.env)): Promise<string | undefined> {
  if (challenge.scheme === 'basic') return credential ? basicHeader(credential) : undefined;
  if (credential?.registryToken) return `Bearer ${credential.registryToken}`;
  const realm = challenge.params.realm;
  if (!realm) return undefined;
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', challenge.params.scope ?? defaultScope);
  const headers: Record<string, string> = { 'User-Agent': 'kubectl-nixrun' };
  const basic = credential ? basicHeader(credential) : undefined;
  if (basic) headers.Authorization = basic;
  let res: Response;
  if (credential?.identityToken) {
    // OAuth2 refresh-token grant (docker's identity tokens).
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.identityToken, service: challenge.params.service ?? '', scope: challenge.params.scope ?? defaultScope, client_id: 'kubectl-nixrun' });
    res = await registryFetch(realm, { method: 'POST', body, headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' }, signal }, proxyFor(realm, proxies));
  } else {
    res = await registryFetch(url, { headers, signal }, proxyFor(url, proxies));
  }
  if (res.status !== 200) return undefined;
  const json = (await res.json()) as { token?: string; access_token?: string };
  const token = json.token ?? json.access_token;
  return token ? `Bearer ${token}` : undefined;
}
