import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { errnoCode, firstLine, UsageError } from '../errors.js';
import type { KubeAccess } from '../plan/access.js';

/** A kubeconfig as the file spells it (kubectl's clientcmd v1 Config), the parts we use. */
export interface RawKubeconfig {
  clusters: Array<{ name: string; cluster: RawCluster }>;
  users: Array<{ name: string; user: RawUser }>;
  contexts: Array<{ name: string; context: RawContext }>;
  'current-context'?: string;
}

export interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
  extensions?: Array<{ name: string; extension: unknown }>;
  [k: string]: unknown;
}

export interface RawExec {
  apiVersion?: string;
  command?: string;
  args?: string[];
  env?: Array<{ name: string; value: string }> | null;
  installHint?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
}

export interface RawUser {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  exec?: RawExec;
  'auth-provider'?: { name: string; config?: Record<string, string> };
  as?: string;
  'as-groups'?: string[];
  'as-uid'?: string;
  'as-user-extra'?: Record<string, string[]>;
  [k: string]: unknown;
}

export interface RawContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

export interface Impersonation {
  user: string;
  groups: string[];
  uid?: string;
  extra: Record<string, string[]>;
}

/** The one context a run uses, after kubectl's overrides. */
export interface Effective {
  contextName: string;
  clusterName: string;
  userName: string;
  cluster: RawCluster & { server: string };
  user: RawUser;
  namespace?: string;
  impersonate?: Impersonation;
}

function asArray<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

/** Relative file names in a kubeconfig are relative to that file (as kubectl resolves them). */
function resolvePaths(cfg: RawKubeconfig, dir: string): void {
  const abs = (p: string | undefined) => (p === undefined || p === '' || isAbsolute(p) ? p : join(dir, p));
  for (const c of cfg.clusters) if (c.cluster?.['certificate-authority']) c.cluster['certificate-authority'] = abs(c.cluster['certificate-authority']);
  for (const u of cfg.users) {
    const user = u.user;
    if (!user) continue;
    for (const k of ['client-certificate', 'client-key', 'tokenFile'] as const) if (user[k]) user[k] = abs(user[k]);
    // A command with a slash is a path; a bare name is looked up on PATH (client-go's rule).
    const cmd = user.exec?.command;
    if (cmd && cmd.includes('/') && !isAbsolute(cmd)) user.exec!.command = join(dir, cmd);
  }
}

/** Read with js-yaml, the library client-node itself reads kubeconfigs with. */
export function parseKubeconfig(text: string, file: string): RawKubeconfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UsageError(`${file}: invalid kubeconfig YAML: ${firstLine(err instanceof Error ? err.message : String(err))}`, 'fix the file, or point --kubeconfig/KUBECONFIG elsewhere');
  }
  const o = (doc ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw new UsageError(`${file}: a kubeconfig must be a mapping`);
  const cfg: RawKubeconfig = {
    clusters: asArray<{ name: string; cluster: RawCluster }>(o.clusters).filter((c) => c && typeof c.name === 'string'),
    users: asArray<{ name: string; user: RawUser }>(o.users).filter((u) => u && typeof u.name === 'string').map((u) => ({ name: u.name, user: u.user ?? {} })),
    contexts: asArray<{ name: string; context: RawContext }>(o.contexts).filter((c) => c && typeof c.name === 'string').map((c) => ({ name: c.name, context: c.context ?? {} })),
  };
  if (typeof o['current-context'] === 'string' && o['current-context'] !== '') cfg['current-context'] = o['current-context'];
  return cfg;
}

/**
 * kubectl's merge of the KUBECONFIG files: for every named cluster, user and context the first
 * file that defines it wins, and so does the first file that sets current-context. (client-node's
 * mergeConfig instead throws on a name defined twice, and lets the last current-context win.)
 */
export function mergeKubeconfigs(configs: RawKubeconfig[]): RawKubeconfig {
  const out: RawKubeconfig = { clusters: [], users: [], contexts: [] };
  for (const cfg of configs) {
    for (const key of ['clusters', 'users', 'contexts'] as const) {
      const list = out[key] as Array<{ name: string }>;
      for (const entry of cfg[key] as Array<{ name: string }>) if (!list.some((e) => e.name === entry.name)) list.push(entry);
    }
    if (out['current-context'] === undefined && cfg['current-context'] !== undefined) out['current-context'] = cfg['current-context'];
  }
  return out;
}

/** Read kubeconfig files (those that exist: kubectl skips missing KUBECONFIG entries) and merge them. */
export function loadKubeconfigFiles(files: string[]): RawKubeconfig {
  const configs = files
    .filter((f) => existsSync(f))
    .map((f) => {
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read the kubeconfig ${f} (${errnoCode(err) ?? String(err)})`);
      }
      const cfg = parseKubeconfig(text, f);
      resolvePaths(cfg, dirname(f));
      return cfg;
    });
  return mergeKubeconfigs(configs);
}

/**
 * Pick the context and apply kubectl's global flags to it, as clientcmd's overrides do. Pure: the
 * table tests in test/unit/kube/kubeconfig.test.ts pin down each flag's mapping.
 */
export function effectiveConfig(cfg: RawKubeconfig, opts: { context?: string; access: KubeAccess }): Effective {
  const { access } = opts;
  const contextName = opts.context ?? cfg['current-context'];
  const contexts = cfg.contexts.map((c) => c.name);
  let context: RawContext = {};
  if (contextName === undefined) {
    // With --server, kubectl needs no context at all (kubectl --server URL --token T get pods).
    if (access.server === undefined) {
      throw new UsageError(
        'current-context is not set in the kubeconfig',
        contexts.length > 0 ? `choose one with --context (${contexts.slice(0, 5).join(', ')}${contexts.length > 5 ? ', …' : ''}), or run kubectl config use-context NAME` : 'the kubeconfig has no contexts; pass --server and credentials, or fix KUBECONFIG',
      );
    }
  } else {
    const found = cfg.contexts.find((c) => c.name === contextName);
    if (!found) {
      throw new UsageError(
        `context "${contextName}" does not exist in the kubeconfig`,
        contexts.length > 0 ? `known contexts: ${contexts.join(', ')}` : 'the kubeconfig has no contexts',
      );
    }
    context = found.context;
  }

  const clusterName = access.cluster ?? context.cluster ?? '';
  const clusterEntry = cfg.clusters.find((c) => c.name === clusterName);
  if (access.cluster !== undefined && !clusterEntry) {
    throw new UsageError(`cluster "${access.cluster}" does not exist in the kubeconfig`, `known clusters: ${cfg.clusters.map((c) => c.name).join(', ') || 'none'}`);
  }
  const cluster: RawCluster = { ...(clusterEntry?.cluster ?? {}) };
  if (access.server !== undefined) cluster.server = access.server;
  if (access.certificateAuthority !== undefined) {
    cluster['certificate-authority'] = access.certificateAuthority;
    delete cluster['certificate-authority-data'];
  }
  if (access.insecureSkipTlsVerify) {
    cluster['insecure-skip-tls-verify'] = true;
    delete cluster['certificate-authority'];
    delete cluster['certificate-authority-data'];
  }
  if (access.tlsServerName !== undefined) cluster['tls-server-name'] = access.tlsServerName;
  if (!cluster.server) {
    throw new UsageError(
      contextName === undefined ? 'no API server: pass --server' : `the kubeconfig's context "${contextName}" names ${clusterName ? `cluster "${clusterName}", which has no server` : 'no cluster'}`,
      'pick another one with --context, or pass --server',
    );
  }

  const userName = access.user ?? context.user ?? '';
  const userEntry = cfg.users.find((u) => u.name === userName);
  if (access.user !== undefined && !userEntry) {
    throw new UsageError(`user "${access.user}" does not exist in the kubeconfig`, `known users: ${cfg.users.map((u) => u.name).join(', ') || 'none'}`);
  }
  const user: RawUser = { ...(userEntry?.user ?? {}) };
  if (access.token !== undefined) {
    // --token replaces whatever the user entry would have authenticated with (a client
    // certificate, which is a TLS matter, stays).
    for (const k of ['tokenFile', 'exec', 'auth-provider', 'username', 'password'] as const) delete user[k];
    user.token = access.token;
  }

  const impUser = access.as ?? user.as;
  const impersonate: Impersonation | undefined = impUser
    ? {
        user: impUser,
        groups: access.asGroups.length > 0 ? access.asGroups : access.as !== undefined ? [] : asArray<string>(user['as-groups']),
        uid: access.asUid ?? (access.as !== undefined ? undefined : user['as-uid']),
        extra: access.as !== undefined ? {} : (user['as-user-extra'] ?? {}),
      }
    : undefined;
  // Impersonation is applied by our KubeConfig (client-node knows only Impersonate-User).
  for (const k of ['as', 'as-groups', 'as-uid', 'as-user-extra'] as const) delete user[k];

  return {
    contextName: contextName ?? 'nixrun-flags',
    clusterName: clusterName || 'nixrun-flags',
    userName: userName || 'nixrun-flags',
    cluster: cluster as RawCluster & { server: string },
    user,
    ...(context.namespace ? { namespace: context.namespace } : {}),
    ...(impersonate ? { impersonate } : {}),
  };
}
