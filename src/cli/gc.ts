import { parseDuration } from '../duration.js';
import { ExitCode } from '../errors.js';
import { findStale } from '../gc/index.js';
import { explainApiError } from '../kube/errors.js';
import { deletePod } from '../kube/pods.js';
import { Ui, type Io } from '../ui/output.js';
import type { Factory } from './factory.js';
import { validateAccess, type AccessFlags } from '../plan/access.js';

export interface GcArgs extends AccessFlags {
  allNamespaces: boolean;
  dryRun: boolean;
  ttl?: string;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  quiet: boolean;
}

/**
 * `gc`: delete our pods that nobody will come back for: owner process gone (same host), finished,
 * or older than --ttl. One line per pod on stdout: namespace/name and why.
 */
export async function gcCommand(args: GcArgs, io: Io, factory: Factory): Promise<number> {
  const ttlSeconds = args.ttl === undefined ? undefined : parseDuration(args.ttl);
  const ui = new Ui(io, { quiet: args.quiet });
  const access = validateAccess(args);
  const kube = await factory.kube({ namespace: args.namespace, context: args.context, kubeconfig: args.kubeconfig, access, stdinIsTTY: Boolean(io.stdin.isTTY) }, io.env);
  let stale;
  try {
    stale = await findStale(kube, { allNamespaces: args.allNamespaces, ttlMs: ttlSeconds === undefined ? undefined : ttlSeconds * 1000 });
  } catch (err) {
    throw explainApiError(err, { action: 'list pods', namespace: kube.namespace, server: kube.server, proxy: kube.proxy });
  }
  let failed = 0;
  for (const { pod, reason } of stale) {
    const ns = pod.metadata?.namespace ?? kube.namespace;
    const name = pod.metadata?.name ?? '';
    if (args.dryRun) {
      io.stdout.write(`${ns}/${name}\twould delete: ${reason}\n`);
      continue;
    }
    try {
      await deletePod(kube, name, { namespace: ns, gracePeriodSeconds: 0 });
      io.stdout.write(`${ns}/${name}\tdeleted: ${reason}\n`);
    } catch (err) {
      failed++;
      ui.error(err);
    }
  }
  if (stale.length === 0) ui.info(`no stale nixrun pods in ${args.allNamespaces ? 'any namespace' : `namespace ${kube.namespace}`}`);
  return failed > 0 ? ExitCode.tool : ExitCode.ok;
}
