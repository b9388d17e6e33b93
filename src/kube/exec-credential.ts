import { spawn } from 'node:child_process';
import { ExitCode, firstLine, NixrunError } from '../errors.js';
import type { RawCluster, RawExec } from './kubeconfig.js';

/**
 * kubeconfig `exec` users (client.authentication.k8s.io ExecCredential), run the way client-go
 * runs them. client-node has an exec authenticator too, but it passes no KUBERNETES_EXEC_INFO
 * (so plugins cannot see provideClusterInfo or interactiveMode), never gives the plugin the
 * terminal (kubelogin's device flow, aws sso prompts), cannot bound a hanging plugin and reports a
 * missing one as a bare ENOENT. This one is registered through client-node's public
 * addAuthenticator() and only handles users our kubeconfig loader hands it.
 */
export const EXEC_PROVIDER = 'kubectl-nixrun-exec';

const API_VERSIONS = new Set(['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']);

export interface ExecProviderConfig {
  /** Not `exec`: client-node's own exec authenticator claims any auth-provider whose config has one. */
  execConfig: RawExec;
  /** The cluster, for provideClusterInfo. */
  cluster: RawCluster & { server: string };
  userName: string;
}

export interface ExecEnvironment {
  env: NodeJS.ProcessEnv;
  /** Whether stdin is a terminal the plugin could prompt on. */
  stdinIsTTY: boolean;
  /** 0 = none (kubectl's default); otherwise the plugin is killed after this long. */
  timeoutMs: number;
}

export interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/** Known plugins, for a useful hint when one is missing and the kubeconfig gives no installHint. */
const INSTALL_HINTS: Record<string, string> = {
  aws: 'install the AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)',
  'aws-iam-authenticator': 'install aws-iam-authenticator (https://github.com/kubernetes-sigs/aws-iam-authenticator)',
  'gke-gcloud-auth-plugin': 'install it with: gcloud components install gke-gcloud-auth-plugin',
  kubelogin: 'install kubelogin (az aks install-cli, or https://azure.github.io/kubelogin/)',
  'kubectl-oidc_login': 'install it with: kubectl krew install oidc-login',
};

function pluginName(exec: RawExec): string {
  return exec.command ?? '(none)';
}

function execError(message: string, hint?: string): NixrunError {
  return new NixrunError(message, { exitCode: ExitCode.tool, ...(hint ? { hint } : {}) });
}

/** client-go's interactive decision: Never → no; IfAvailable → when stdin is a terminal; Always → must be one. */
export function interactiveFor(exec: RawExec, stdinIsTTY: boolean, userName: string): boolean {
  const mode = exec.interactiveMode ?? (exec.apiVersion === 'client.authentication.k8s.io/v1' ? undefined : 'IfAvailable');
  if (mode === undefined) {
    throw execError(`the kubeconfig user "${userName}" uses exec apiVersion client.authentication.k8s.io/v1 without interactiveMode`, 'set users[].user.exec.interactiveMode to Never, IfAvailable or Always (it is required in v1)');
  }
  if (mode === 'Never') return false;
  if (mode === 'IfAvailable') return stdinIsTTY;
  if (mode === 'Always') {
    if (!stdinIsTTY) throw execError(`the credential plugin "${pluginName(exec)}" needs a terminal (interactiveMode: Always), but stdin is not one`, 'run kubectl nixrun from a terminal, or log in first (e.g. run the plugin yourself) so it can answer without prompting');
    return true;
  }
  throw execError(`the kubeconfig user "${userName}" has an invalid exec interactiveMode ${JSON.stringify(mode)}`, 'use Never, IfAvailable or Always');
}

/** The KUBERNETES_EXEC_INFO the plugin reads: the ExecCredential request (spec). */
export function execInfo(cfg: ExecProviderConfig, interactive: boolean): Record<string, unknown> {
  const spec: Record<string, unknown> = { interactive };
  if (cfg.execConfig.provideClusterInfo) {
    const c = cfg.cluster;
    const cluster: Record<string, unknown> = { server: c.server };
    if (c['tls-server-name']) cluster['tls-server-name'] = c['tls-server-name'];
    if (c['insecure-skip-tls-verify']) cluster['insecure-skip-tls-verify'] = true;
    if (c['certificate-authority-data']) cluster['certificate-authority-data'] = c['certificate-authority-data'];
    if (c['proxy-url']) cluster['proxy-url'] = c['proxy-url'];
    const ext = c.extensions?.find((e) => e.name === 'client.authentication.k8s.io/exec');
    if (ext) cluster.config = ext.extension;
    spec.cluster = cluster;
  }
  return { apiVersion: cfg.execConfig.apiVersion, kind: 'ExecCredential', spec };
}

/** The plugin's stdout → the credential, or an error that says what was wrong (never what it printed). */
export function parseExecOutput(stdout: string, exec: RawExec): ExecCredentialStatus {
  const name = pluginName(exec);
  let obj: { apiVersion?: string; kind?: string; status?: ExecCredentialStatus };
  try {
    obj = JSON.parse(stdout) as typeof obj;
  } catch {
    throw execError(`the credential plugin "${name}" did not print an ExecCredential (its output is not JSON)`, `run ${name} yourself to see what it prints`);
  }
  if (obj?.kind !== 'ExecCredential') throw execError(`the credential plugin "${name}" printed kind ${JSON.stringify(obj?.kind)}, not ExecCredential`);
  if (obj.apiVersion !== exec.apiVersion) {
    throw execError(`the credential plugin "${name}" answered with apiVersion ${obj.apiVersion}, but the kubeconfig asks for ${exec.apiVersion}`, 'make users[].user.exec.apiVersion match what the plugin speaks');
  }
  const status = obj.status ?? {};
  const hasCert = Boolean(status.clientCertificateData && status.clientKeyData);
  if (!status.token && !hasCert) throw execError(`the credential plugin "${name}" returned neither a token nor a client certificate`);
  if (status.expirationTimestamp !== undefined && Number.isNaN(Date.parse(status.expirationTimestamp))) {
    throw execError(`the credential plugin "${name}" returned an invalid expirationTimestamp`);
  }
  return status;
}

/** Run the plugin once (no shell: command and args as they are), bounded by timeoutMs. */
export function runExecPlugin(cfg: ExecProviderConfig, envIn: ExecEnvironment): Promise<ExecCredentialStatus> {
  const exec = cfg.execConfig;
  const name = pluginName(exec);
  if (!exec.command) return Promise.reject(execError(`the kubeconfig user "${cfg.userName}" has an exec section without a command`));
  if (!exec.apiVersion || !API_VERSIONS.has(exec.apiVersion)) {
    return Promise.reject(
      execError(
        `the kubeconfig user "${cfg.userName}" uses exec apiVersion ${JSON.stringify(exec.apiVersion ?? '')}, which is not supported`,
        'use client.authentication.k8s.io/v1 or v1beta1 (v1alpha1 was removed in Kubernetes 1.24); updating the cloud CLI usually rewrites the kubeconfig',
      ),
    );
  }
  let interactive: boolean;
  try {
    interactive = interactiveFor(exec, envIn.stdinIsTTY, cfg.userName);
  } catch (err) {
    return Promise.reject(err);
  }
  const env: NodeJS.ProcessEnv = { ...envIn.env };
  for (const e of exec.env ?? []) if (e && typeof e.name === 'string') env[e.name] = String(e.value ?? '');
  env.KUBERNETES_EXEC_INFO = JSON.stringify(execInfo(cfg, interactive));

  return new Promise((resolve, reject) => {
    const child = spawn(exec.command!, (exec.args ?? []).map(String), {
      env,
      stdio: [interactive ? 'inherit' : 'ignore', 'pipe', interactive ? 'inherit' : 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer =
      envIn.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, envIn.timeoutMs)
        : undefined;
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
    });
    child.on('close', (code, sig) => {
      if (timer) clearTimeout(timer);
      if (spawnError) {
        if (spawnError.code === 'ENOENT') {
          const base = name.split('/').pop()!;
          reject(
            execError(
              `the kubeconfig's credential plugin "${name}" (user "${cfg.userName}") was not found${name.includes('/') ? '' : ' on PATH'}`,
              exec.installHint ? firstLine(exec.installHint) : (INSTALL_HINTS[base] ?? `install ${base}, or fix users[].user.exec.command in the kubeconfig`),
            ),
          );
        } else if (spawnError.code === 'EACCES') {
          reject(execError(`the credential plugin "${name}" is not executable (EACCES)`, `chmod +x it, or fix users[].user.exec.command`));
        } else reject(execError(`cannot run the credential plugin "${name}" (${spawnError.code ?? spawnError.message})`));
        return;
      }
      if (timedOut) {
        reject(execError(`the credential plugin "${name}" did not answer within ${envIn.timeoutMs / 1000}s (--request-timeout) and was stopped`, `run ${name} yourself: it may be waiting for a login or the network`));
        return;
      }
      if (code !== 0) {
        const last = stderr.trim().split('\n').filter((l) => l.trim().length > 0).pop();
        reject(execError(`the credential plugin "${name}" failed (${sig ? `killed by ${sig}` : `exit ${code}`})${last ? `: ${last.trim().slice(0, 300)}` : ''}`, `run ${name} yourself to see why; often a new login is needed`));
        return;
      }
      try {
        resolve(parseExecOutput(stdout, exec));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** A credential stays good until its expirationTimestamp (client-go refreshes then, not before). */
export function stillValid(status: ExecCredentialStatus, now: number): boolean {
  return status.expirationTimestamp === undefined || Date.parse(status.expirationTimestamp) > now;
}

interface UserLike {
  name: string;
  authProvider?: { name?: string; config?: unknown };
}

/** client-node's Authenticator shape (not exported by the package). */
export class ExecCredentialAuth {
  private readonly cache = new Map<string, Promise<ExecCredentialStatus>>();
  /** How many times a plugin was run (the cache is tested through it). */
  runs = 0;

  constructor(private readonly environment: ExecEnvironment) {}

  isAuthProvider(user: UserLike): boolean {
    return user?.authProvider?.name === EXEC_PROVIDER;
  }

  async credential(user: UserLike): Promise<ExecCredentialStatus> {
    const cfg = user.authProvider!.config as ExecProviderConfig;
    const cached = this.cache.get(user.name);
    if (cached) {
      // Concurrent requests share one run of the plugin (one prompt, not three).
      const status = await cached.catch(() => undefined);
      if (status && stillValid(status, Date.now())) return status;
    }
    this.runs++;
    const next = runExecPlugin(cfg, this.environment);
    this.cache.set(user.name, next);
    next.catch(() => this.cache.delete(user.name));
    return next;
  }

  async applyAuthentication(user: UserLike, opts: { headers?: Record<string, unknown>; cert?: unknown; key?: unknown }): Promise<void> {
    const status = await this.credential(user);
    if (status.clientCertificateData && status.clientKeyData) {
      opts.cert = status.clientCertificateData;
      opts.key = status.clientKeyData;
    }
    if (status.token) {
      opts.headers ??= {};
      opts.headers.Authorization = `Bearer ${status.token}`;
    }
  }
}
