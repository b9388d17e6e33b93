import type { Io } from '../ui/output.js';

/** Completion must answer fast or not at all: a cluster that does not answer in time offers nothing. */
const TIMEOUT_MS = 2000;

/**
 * Pod and node names from the cluster, for --target/--copy (`pod/NAME`) and `node/NAME`. The
 * kubeconfig, context and namespace come from the words typed so far; any failure offers nothing.
 */
export async function clusterNames(kind: 'pod' | 'node', words: string[], io: Io): Promise<string[]> {
  const flag = (names: string[]) => {
    for (let i = words.length - 2; i >= 0; i--) if (names.includes(words[i]!)) return words[i + 1];
    return undefined;
  };
  try {
    const { connect } = await import('../kube/client.js');
    const kube = connect({ kubeconfig: flag(['--kubeconfig']), context: flag(['--context']), namespace: flag(['-n', '--namespace']) }, io.env);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), TIMEOUT_MS).unref());
    const list = kind === 'pod' ? kube.core.listNamespacedPod({ namespace: kube.namespace, limit: 500 }) : kube.core.listNode({ limit: 500 });
    const items = (await Promise.race([list, timeout])).items;
    return items.map((o) => `${kind}/${o.metadata?.name ?? ''}`).sort();
  } catch {
    return [];
  }
}
