#!/usr/bin/env node
// `npm run demo`: start the local test cluster and open an interactive kubectl-nixrun session in
// it, so the whole flow (create, progress, attach, exit code, cleanup) can be seen without a
// cluster of your own. The local node runs commands on this machine, so images do not matter and
// the registry pre-flight is skipped. Without a terminal it runs one command instead.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quote } from 'shell-quote';
import { down, up } from './testenv.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const state = await up();
process.stderr.write(`\nlocal cluster ready in ${(state.readyMs / 1000).toFixed(1)}s; kubeconfig: ${state.kubeconfig}\n`);
const interactive = process.stdin.isTTY && process.stdout.isTTY;
const args = interactive
  ? ['--kubeconfig', state.kubeconfig, '--no-preflight', ...(process.argv.slice(2).length ? process.argv.slice(2) : ['--pkgs', 'curl,jq', 'shell'])]
  : ['--kubeconfig', state.kubeconfig, '--no-preflight', '--', 'sh', '-c', 'echo "hello from pod $HOSTNAME"; exit 3'];
// shell-quote escapes commas (curl\,jq): quote only the words that need it.
const shown = args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : quote([a]))).join(' ');
process.stderr.write(`$ kubectl nixrun ${shown}\n${interactive ? '(type `exit` to leave; the pod is deleted)\n' : ''}\n`);
// A closed terminal turns writes into EIO errors: they must not crash the demo before cleanup.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
const child = spawn(process.execPath, [join(root, 'bin', 'kubectl-nixrun.js'), ...args], { stdio: 'inherit' });
// Ctrl-C, a closed terminal or a kill reach kubectl-nixrun too (same terminal), and it needs the
// cluster to delete its pod: wait for it to finish, then stop the cluster. Nothing is left behind.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    // SIGINT and SIGHUP from the terminal reach the whole process group, kubectl-nixrun included;
    // forwarding them would be a second signal, which means "exit now, skip cleanup".
    if (child.exitCode === null && child.signalCode === null && sig === 'SIGTERM') child.kill(sig);
  });
}
const status = await new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
try {
  process.stderr.write(`\nkubectl nixrun exited with ${status}\n`);
} catch {
  // The terminal may be gone.
}
down(state);
process.exit(typeof status === 'number' ? status : 1);
