#!/usr/bin/env node
// Time to first output on the local test cluster, kubectl-nixrun against `kubectl run`, and time
// to deletion confirmed after exit. Interleaved runs; medians. Starts the local cluster unless
// NIXRUN_TESTENV_DIR points at a running one. Usage: node bench/attach.mjs [--runs 10]
//
//   first byte:  from spawning the process to the container's first byte on stdout
//   exit:        from spawning to the process exiting
//   gone after:  from the process exiting to the API answering 404 for the pod (0 when it was
//                already gone: the plugin waits for the deletion before it exits)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binDir, down, loadState, up } from '../scripts/testenv.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;
if (!existsSync(join(root, 'dist', 'kubectl-nixrun.js'))) throw new Error('run `npm run build` first');
const kubectl = join(binDir(), 'kubectl');
const binArg = process.argv.indexOf('--binary'); // also time a standalone binary (scripts/release.mjs)
const binary = binArg > 0 ? process.argv[binArg + 1] : undefined;
// Before/after in one run: another checkout's build (a directory with bin/, dist/, data/) and
// another standalone binary, interleaved with this one's.
const beforeArg = process.argv.indexOf('--before');
const before = beforeArg > 0 ? join(process.argv[beforeArg + 1], 'bin', 'kubectl-nixrun.js') : undefined;
const beforeBinArg = process.argv.indexOf('--before-binary');
const beforeBinary = beforeBinArg > 0 ? process.argv[beforeBinArg + 1] : undefined;

const reuse = process.env.NIXRUN_TESTENV_DIR;
const state = reuse ? loadState(reuse) : await up();
const token = state.token;
const api = (method, path, body) =>
  new Promise((resolve, reject) => {
    const data = body ? JSON.stringify(body) : undefined;
    const req = request(
      { host: state.net.hostIP, port: state.ports.apiserver, path, method, ca: readFileSync(state.pki.caCert), headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } },
      (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve({ status: res.statusCode, body: b }));
      },
    );
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });

const ns = `bench-${randomBytes(3).toString('hex')}`;
await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
for (let i = 0; i < 100 && (await api('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));

// The image the plugin makes for `-- echo hi` with stdin (its start gate needs bash), from the
// cluster's local Nixery, so both commands pull (the kubelet checks the tag each time) the same.
const IMAGE = `${state.registry.host}/bash/coreutils/fakenss/tini`;
function timeRun(cmd, args, podName) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first;
    let out = '';
    const child = spawn(cmd, args, { env: { ...process.env, NO_COLOR: '1', KUBECONFIG: state.kubeconfig, NIXRUN_REGISTRY: state.registry.host }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end();
    child.stdout.on('data', (d) => {
      first ??= performance.now() - t0;
      out += d;
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', async (code) => {
      const exitMs = performance.now() - t0;
      if (code !== 0 || !out.includes('hi')) return reject(new Error(`${cmd} exited ${code}, stdout ${JSON.stringify(out)}: ${err}`));
      const tExit = performance.now();
      const name = podName ?? /pod (nixrun-\S+?)[:\s]/.exec(err)?.[1];
      let goneMs = 0;
      if (name) {
        while ((await api('GET', `/api/v1/namespaces/${ns}/pods/${name}`)).status !== 404) await new Promise((r) => setTimeout(r, 10));
        goneMs = performance.now() - tExit;
      }
      resolve({ first, exitMs, goneMs, named: Boolean(name) });
    });
  });
}

const cases = [
  ['kubectl-nixrun', () => [process.execPath, [join(root, 'bin', 'kubectl-nixrun.js'), '-n', ns, '--no-preflight', '--no-sweep', '-v', '--', 'echo', 'hi']]],
  ...(binary ? [['standalone binary', () => [binary, ['-n', ns, '--no-preflight', '--no-sweep', '-v', '--', 'echo', 'hi']]]] : []),
  ...(before ? [['before: kubectl-nixrun', () => [process.execPath, [before, '-n', ns, '--no-preflight', '--no-sweep', '-v', '--', 'echo', 'hi']]]] : []),
  ...(beforeBinary ? [['before: standalone binary', () => [beforeBinary, ['-n', ns, '--no-preflight', '--no-sweep', '-v', '--', 'echo', 'hi']]]] : []),
  [
    'kubectl run -i --rm',
    (name) => [kubectl, ['run', '-n', ns, '-i', '--rm', '--restart=Never', `--image=${IMAGE}`, name, '--', 'echo', 'hi']],
  ],
];

// The kubelet reports a started container at its next PLEG relist, once a second: how long a
// pod takes to be Running depends on when in that second it was created. Runs in a fixed order
// lock onto a phase (one command measured 0.8 s slower than another that way, every time), so
// each run waits a random part of a second first, and each round runs the commands in a new order.
const jitter = () => new Promise((r) => setTimeout(r, Math.random() * 1000));
const shuffled = (xs) => xs.map((x) => [Math.random(), x]).sort((a, b) => a[0] - b[0]).map(([, x]) => x);

// One warm-up round (page cache, compile cache), then interleaved runs.
const samples = new Map(cases.map(([n]) => [n, []]));
for (let i = -1; !process.argv.includes("--tty") && i < runs; i++) {
  for (const [n, make] of shuffled(cases)) {
    await jitter();
    const podName = n.startsWith('kubectl run') ? `kr-${randomBytes(3).toString('hex')}` : undefined;
    const [cmd, args] = make(podName);
    const r = await timeRun(cmd, args, podName);
    if (i >= 0) samples.get(n).push(r);
  }
}

// The interactive case (--tty): Enter → the first byte of the shell's prompt, in a terminal
// (script(1) gives each command a pty). The prompt is a marker set with PS1; kubectl run -it may
// lose a prompt printed before it attached, so after 5 s without one an Enter is typed, as a
// user would (the figure then includes that wait). The prompt: bash's own (`bash-5.2$ `).
const PROMPT = /bash-[\d.]+[$#] /;
const TTY_IMAGE = `${state.registry.host}/shell/fakenss/tini`;
function timePrompt(cmd, args) {
  return new Promise((resolve, reject) => {
    const line = [cmd, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const t0 = performance.now();
    const child = spawn('script', ['-qfec', line, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', KUBECONFIG: state.kubeconfig, NIXRUN_REGISTRY: state.registry.host }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let prompt;
    let nudged = false;
    const nudge = setTimeout(() => {
      nudged = true;
      child.stdin.write('\r');
    }, 5000);
    child.stdout.on('data', (d) => {
      out += d;
      if (prompt === undefined && PROMPT.test(out)) {
        prompt = performance.now() - t0;
        clearTimeout(nudge);
        child.stdin.write('exit\r');
      }
    });
    child.on('error', reject);
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', () => {
      clearTimeout(kill);
      clearTimeout(nudge);
      if (prompt === undefined) return reject(new Error(`no prompt from ${line}: ${JSON.stringify(out.slice(-300))}`));
      resolve({ prompt, nudged });
    });
  });
}

if (process.argv.includes('--tty')) {
  const ttyCases = [
    ['kubectl-nixrun -it', () => [process.execPath, [join(root, 'bin', 'kubectl-nixrun.js'), '-n', ns, '--no-preflight', '--no-sweep', '--', 'bash', '--norc']]],
    ...(binary ? [['standalone binary -it', () => [binary, ['-n', ns, '--no-preflight', '--no-sweep', '--', 'bash', '--norc']]]] : []),
    ...(before ? [['before: kubectl-nixrun -it', () => [process.execPath, [before, '-n', ns, '--no-preflight', '--no-sweep', '--', 'bash', '--norc']]]] : []),
    ['kubectl run -it --rm', () => [kubectl, ['run', '-n', ns, '-it', '--rm', '--restart=Never', `--image=${TTY_IMAGE}`, `kr-${randomBytes(3).toString('hex')}`, '--', 'bash', '--norc']]],
  ];
  const tsamples = new Map(ttyCases.map(([n]) => [n, []]));
  for (let i = -1; i < runs; i++) {
    for (const [n, make] of shuffled(ttyCases)) {
      await jitter();
      const [cmd, args] = make();
      const r = await timePrompt(cmd, args);
      if (i >= 0) tsamples.get(n).push(r);
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const kr = med(tsamples.get('kubectl run -it --rm').map((x) => x.prompt));
  console.log(`# interactive: Enter → first prompt byte (pty), median of ${runs} interleaved runs, ${new Date().toISOString()}`);
  console.log(['command', 'prompt ms', 'vs kubectl run', 'runs that needed an Enter'].join('\t'));
  for (const [n] of ttyCases) {
    const xs = tsamples.get(n);
    const m = med(xs.map((x) => x.prompt));
    console.log([n, m.toFixed(0), (m / kr).toFixed(2), `${xs.filter((x) => x.nudged).length}/${xs.length}`].join('\t'));
  }
  if (!reuse) down(state);
  process.exit(0);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = cases.map(([n]) => {
  const xs = samples.get(n);
  return { n, first: median(xs.map((x) => x.first)), exit: median(xs.map((x) => x.exitMs)), gone: median(xs.map((x) => x.goneMs)), named: xs.every((x) => x.named) };
});
const kr = rows.find((r) => r.n.startsWith('kubectl run'));
console.log(`# time to first output on the local cluster, median of ${runs} interleaved runs, ${new Date().toISOString()}, node ${process.versions.node}`);
console.log(['command', 'first byte ms', 'vs kubectl run', 'exit ms', 'pod gone after exit ms'].join('\t'));
for (const r of rows) console.log([r.n, r.first.toFixed(0), (r.first / kr.first).toFixed(2), r.exit.toFixed(0), r.named ? r.gone.toFixed(0) : '?'].join('\t'));
if (!reuse) down(state);
