import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ExitCode, NixrunError, UsageError } from '../errors.js';

/** Unset (undefined) fields fall back as kubectl's do. */
export interface KubeTarget {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** A connection pinned to one context and namespace for the whole run (like node-shell does). */
export interface Kube {
  kc: KubeConfig;
  core: CoreV1Api;
  context: string;
  namespace: string;
  server: string;
}

const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * Load the kubeconfig the way kubectl does: --kubeconfig, else $KUBECONFIG (several files,
 * merged), else ~/.kube/config, else the in-cluster service account. Namespace: -n, else the
 * context's, else "default".
 */
export function connect(target: KubeTarget, env: NodeJS.ProcessEnv = process.env): Kube {
  const kc = new KubeConfig();
  if (target.kubeconfig !== undefined) {
    if (!existsSync(target.kubeconfig)) {
      throw new UsageError(`kubeconfig file ${target.kubeconfig} does not exist`, 'check the --kubeconfig path');
    }
    kc.loadFromFile(target.kubeconfig);
  } else if (hasKubeconfigSource(env)) {
    const files = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f.length > 0);
    const missing = files.filter((f) => !existsSync(f));
    if (files.length > 0 && missing.length === files.length) {
      throw new UsageError(`no kubeconfig file found in KUBECONFIG (${files.join(delimiter)})`, 'fix KUBECONFIG or pass --kubeconfig');
    }
    // kubectl skips KUBECONFIG entries that do not exist; client-node would throw on them.
    if (missing.length > 0) {
      const kept = files.filter((f) => existsSync(f));
      loadFiles(kc, kept);
    } else {
      kc.loadFromDefault();
    }
  } else if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    kc.loadFromCluster();
  } else {
    throw new NixrunError('no Kubernetes cluster configured: no --kubeconfig, no KUBECONFIG, no ~/.kube/config', {
      exitCode: ExitCode.tool,
      hint: 'add --dry-run to print the pod without a cluster, or run `npm run demo` for a local one',
    });
  }

  if (target.context !== undefined) {
    if (!kc.getContextObject(target.context)) {
      const names = kc.getContexts().map((c) => c.name);
      throw new UsageError(
        `context "${target.context}" not found in the kubeconfig`,
        names.length > 0 ? `known contexts: ${names.join(', ')}` : 'the kubeconfig has no contexts',
      );
    }
    kc.setCurrentContext(target.context);
  }
  const context = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new NixrunError(`the kubeconfig's current context ${context ? `"${context}" ` : ''}names no cluster`, {
      exitCode: ExitCode.usage,
      hint: 'pick another one with --context',
    });
  }
  const namespace = target.namespace ?? contextNamespace(kc, context) ?? inClusterNamespace(env) ?? 'default';
  return { kc, core: kc.makeApiClient(CoreV1Api), context, namespace, server: cluster.server };
}

function hasKubeconfigSource(env: NodeJS.ProcessEnv): boolean {
  if (env.KUBECONFIG && env.KUBECONFIG.length > 0) return true;
  const home = env.HOME ?? homedir();
  return existsSync(join(home, '.kube', 'config'));
}

function loadFiles(kc: KubeConfig, files: string[]): void {
  kc.loadFromFile(files[0]!);
  for (const f of files.slice(1)) {
    const other = new KubeConfig();
    other.loadFromFile(f);
    kc.mergeConfig(other);
  }
}

function contextNamespace(kc: KubeConfig, context: string): string | undefined {
  const ns = kc.getContextObject(context)?.namespace;
  return ns && ns.length > 0 ? ns : undefined;
}

function inClusterNamespace(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.KUBERNETES_SERVICE_HOST) return undefined;
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
