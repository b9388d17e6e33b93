import { detectArch, type ArchDecision } from '../kube/nodes.js';
import type { Kube } from '../kube/client.js';
import { readJsonFile, writeJsonFile, xdgPath } from '../xdg.js';

/**
 * What a run learned about a cluster, kept for a few minutes per server, kubeconfig, context, user and node
 * (${XDG_CACHE_HOME:-~/.cache}/kubectl-nixrun/clusters.json), so the next run's --arch auto costs
 * no request. Only plain answers are kept (not the guesses made on a 403 or a missing node); an
 * unreadable or unwritable cache only costs the request. A stale answer is no worse than the
 * mixed-arch case: the pod is pinned to nodes of the architecture it was built for.
 */
export const FACTS_TTL_MS = 10 * 60_000;
const MAX_ENTRIES = 50;

interface Entry {
  arch: ArchDecision['arch'];
  at: number;
}

export async function archFor(kube: Kube, opts: { node?: string; kubeconfig?: string }, env: NodeJS.ProcessEnv, now = Date.now()): Promise<ArchDecision & { cached?: boolean }> {
  const { node } = opts;
  const path = xdgPath('cache', 'clusters.json', env);
  // The kubeconfig and user too: another user of the same context may not be allowed to read
  // nodes (and is then told so), and kubeconfig files reuse context and user names.
  const source = opts.kubeconfig ?? env.KUBECONFIG ?? '';
  const key = JSON.stringify([kube.server, source, kube.context, kube.kc.getCurrentUser()?.name ?? '', node ?? '*']);
  const facts = readJsonFile<Record<string, Entry>>(path, {});
  const hit = typeof facts === 'object' && facts !== null && Object.hasOwn(facts, key) ? facts[key] : undefined;
  if (hit && (hit.arch === 'amd64' || hit.arch === 'arm64') && typeof hit.at === 'number' && now - hit.at >= 0 && now - hit.at < FACTS_TTL_MS) {
    return { arch: hit.arch, cached: true };
  }
  const decision = await detectArch(kube, node);
  if (decision.note === undefined) {
    try {
      const fresh = Object.entries(typeof facts === 'object' && facts !== null ? facts : {})
        .filter(([k, e]) => k !== key && typeof e?.at === 'number' && now - e.at < FACTS_TTL_MS)
        .slice(-(MAX_ENTRIES - 1));
      writeJsonFile(path, Object.fromEntries([...fresh, [key, { arch: decision.arch, at: now }]]));
    } catch {
      // A read-only or full disk: the next run asks again.
    }
  }
  return decision;
}
