import { ExitCode, NixrunError } from '../errors.js';
import type { Kube } from './client.js';
import { explainApiError, httpStatus } from './errors.js';

/**
 * The node a node pod goes to, checked first: a pod bound by nodeName to a node that does not
 * exist (or whose kubelet is down) would stay Pending with no event to explain it. Without
 * permission to read nodes the check is skipped. Returns a warning for a node that is not Ready.
 */
export async function checkNode(kube: Kube, name: string): Promise<{ warning?: string }> {
  try {
    const node = await kube.core.readNode({ name });
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready && ready.status !== 'True') return { warning: `node ${name} is not Ready (${ready.reason ?? ready.status}): its kubelet may never start the pod` };
    return {};
  } catch (err) {
    const status = httpStatus(err);
    if (status === 403) return {};
    if (status === 404) {
      const names = await kube.core.listNode({ limit: 20 }).then((l) => l.items.map((n) => n.metadata?.name ?? '').filter(Boolean), () => []);
      throw new NixrunError(`node ${name} not found`, { exitCode: ExitCode.usage, hint: names.length > 0 ? `nodes: ${names.join(', ')}` : 'kubectl get nodes' });
    }
    throw explainApiError(err, { action: `read node ${name}`, namespace: kube.namespace, server: kube.server, proxy: kube.proxy });
  }
}
