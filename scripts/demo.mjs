#!/usr/bin/env node
// `npm run demo`: the seed's examples for real, on the local test cluster. It starts the cluster
// (a real kubelet + containerd node, and the local Nixery), runs a Postgres server as pod +
// Service `my-db`, then `kubectl nixrun psql -- psql -h my-db …` and `kubectl nixrun ping -- ping
// -c1 my-db`, and on a terminal opens an interactive session (`--pkgs curl,gnugrep,ping,netcat
// shell`). Without a terminal it runs `id` instead. The cluster is stopped at the end, whatever
// happens.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quote } from 'shell-quote';
import { down, up } from './testenv.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (s) => {
  try {
    process.stderr.write(`${s}\n`);
  } catch {
    // The terminal may be gone.
  }
};
// A closed terminal turns writes into EIO errors: they must not crash the demo before cleanup.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

const state = await up();
let child;
let stopping = false;
// Ctrl-C, a closed terminal or a kill reach kubectl-nixrun too (same terminal), and it needs the
// cluster to delete its pod: wait for it to finish, then stop the cluster. Nothing is left behind.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    stopping = true;
    // SIGINT and SIGHUP from the terminal reach the whole process group, kubectl-nixrun included;
    // forwarding them would be a second signal, which means "exit now, skip cleanup".
    if (child && child.exitCode === null && child.signalCode === null && sig === 'SIGTERM') child.kill(sig);
  });
}

const env = { ...process.env, KUBECONFIG: state.kubeconfig, NIXRUN_REGISTRY: state.registry.host, PATH: `${state.bins}:${process.env.PATH}` };
const kubectl = (args, input) => spawnSync(join(state.bins, 'kubectl'), args, { env, input, encoding: 'utf8' });
const shown = (args) => args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : quote([a]))).join(' ');
const nixrun = (args) =>
  new Promise((resolve) => {
    say(`\n$ kubectl nixrun ${shown(args)}`);
    child = spawn(process.execPath, [join(root, 'bin', 'kubectl-nixrun.js'), ...args], { stdio: 'inherit', env });
    child.on('close', (code, signal) => resolve(code ?? signal));
  });

let status = 0;
try {
  say(`\nlocal cluster ready in ${(state.readyMs / 1000).toFixed(1)}s (node ${state.nodeName}, registry ${state.registry.host})`);
  say(`in another shell: eval "$(node scripts/testenv.mjs env)" to use it with kubectl and kubectl nixrun\n`);
  say('starting Postgres as pod + Service my-db (the image comes from the local Nixery) …');
  const db = kubectl(['apply', '-f', '-'], postgresManifest(state.registry.host));
  if (db.status !== 0) throw new Error(`kubectl apply: ${db.stderr}`);
  const ready = kubectl(['wait', '--for=condition=Ready', 'pod/my-db', '--timeout=120s']);
  if (ready.status !== 0) throw new Error(`my-db did not become ready: ${ready.stderr}${kubectl(['logs', 'my-db']).stdout}`);
  say('my-db is ready.');
  const steps = [
    ['psql', '--', 'psql', '-h', 'my-db', '-U', 'app', '-c', 'select 1'],
    ['ping', '--', 'ping', '-c1', 'my-db'],
  ];
  for (const step of steps) {
    if (stopping) break;
    const code = await nixrun(step);
    if (status === 0) status = code; // the demo fails if any step did
  }
  if (!stopping) {
    const interactive = process.stdin.isTTY && process.stdout.isTTY;
    const extra = process.argv.slice(2);
    if (interactive) say('(an interactive shell: try `id`, `curl`, `nc -zv my-db 5432`; `exit` leaves and deletes the pod)');
    const code = await nixrun(interactive ? (extra.length ? extra : ['--pkgs', 'curl,gnugrep,ping,netcat', 'shell']) : ['--', 'id']);
    if (status === 0) status = code;
  }
  say(`\nkubectl nixrun exited with ${status}`);
} catch (err) {
  say(`demo: ${err.message}`);
  status = 1;
} finally {
  down(state);
}
process.exit(typeof status === 'number' ? status : 1);

/**
 * Postgres as the restricted profile would run it (UID 65534, no capabilities), its data on an
 * emptyDir. `my-db` is headless, as a StatefulSet's governing Service is: the name resolves to
 * the pod itself, so `ping my-db` answers (a ClusterIP forwards TCP and UDP, never ICMP).
 */
function postgresManifest(registry) {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'my-db', labels: { app: 'my-db' } },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'postgres',
          image: `${registry}/shell/fakenss/postgresql`,
          // A database `app` owned by the superuser `app`, trusted from the pod network (a demo).
          command: [
            'sh',
            '-c',
            [
              'initdb -D /tmp/data -U app --auth=trust >/dev/null',
              "echo 'host all all all trust' >> /tmp/data/pg_hba.conf",
              "echo 'CREATE DATABASE app;' | postgres --single -D /tmp/data postgres >/dev/null",
              'exec postgres -D /tmp/data -k /tmp -c listen_addresses=*',
            ].join(' && '),
          ],
          env: [{ name: 'HOME', value: '/tmp' }],
          ports: [{ containerPort: 5432 }],
          readinessProbe: { tcpSocket: { port: 5432 }, periodSeconds: 1 },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    },
  };
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'my-db' }, spec: { clusterIP: 'None', selector: { app: 'my-db' }, ports: [{ port: 5432 }] } };
  return `${JSON.stringify(pod)}\n---\n${JSON.stringify(svc)}\n`;
}
