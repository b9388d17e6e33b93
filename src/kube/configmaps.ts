import { ExitCode, NixrunError } from '../errors.js';
import type { Kube } from './client.js';
import { explainApiError, isNotFound } from './errors.js';

export interface ConfigMapKey {
  key: string;
  /** The key's text, or undefined when it is a binaryData key. */
  text: string | undefined;
}

/**
 * One key of a ConfigMap (`--configmap NAME[/KEY]`). Without KEY a ConfigMap with exactly one key
 * gives that one. A missing ConfigMap or key is 126, like a missing --env-from source: the input
 * was well-formed, the cluster does not have it.
 */
export async function readConfigMapKey(kube: Kube, name: string, key: string | undefined): Promise<ConfigMapKey> {
  let cm;
  try {
    cm = await kube.core.readNamespacedConfigMap({ name, namespace: kube.namespace });
  } catch (err) {
    if (isNotFound(err)) {
      throw new NixrunError(`configmap ${name} not found in namespace ${kube.namespace}`, { exitCode: ExitCode.cannotRun, hint: `kubectl get configmaps -n ${kube.namespace}` });
    }
    throw explainApiError(err, { action: `read configmap ${name}`, namespace: kube.namespace, server: kube.server, proxy: kube.proxy });
  }
  const data = cm.data ?? {};
  const binary = cm.binaryData ?? {};
  const keys = [...Object.keys(data), ...Object.keys(binary)].sort();
  const pick = key ?? (keys.length === 1 ? keys[0] : undefined);
  if (pick === undefined) {
    throw new NixrunError(
      keys.length === 0 ? `configmap ${name} has no keys` : `configmap ${name} has ${keys.length} keys (${keys.join(', ')}): say which one is the script`,
      { exitCode: ExitCode.cannotRun, hint: keys.length === 0 ? undefined : `--configmap ${name}/${keys[0]}` },
    );
  }
  if (Object.hasOwn(data, pick)) return { key: pick, text: data[pick] };
  if (Object.hasOwn(binary, pick)) return { key: pick, text: undefined };
  throw new NixrunError(`configmap ${name} has no key ${pick}${keys.length > 0 ? ` (it has ${keys.join(', ')})` : ''}`, {
    exitCode: ExitCode.cannotRun,
    hint: keys.length > 0 ? `--configmap ${name}/${keys[0]}` : undefined,
  });
}
