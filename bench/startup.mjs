#!/usr/bin/env node
// Start-up benchmark: wall time and peak RSS (median of N runs, interleaved) of the plugin's
// offline commands against `node -e 0` and `kubectl version --client`, with pairwise ratios
// computed in the same run. Usage: node bench/startup.mjs [--runs 15]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
const node = process.execPath;
const cli = join(root, 'bin', 'kubectl-nixrun.js');
if (!existsSync(join(root, 'dist', 'kubectl-nixrun.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
// kubectl v1.34 built from the Go modules with the test cluster, else whatever is on PATH.
const { binDir } = await import('../scripts/testenv.mjs');
const builtKubectl = join(binDir(), 'kubectl');
const kubectl = existsSync(builtKubectl) ? builtKubectl : spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim() || undefined;

const binArg = process.argv.indexOf('--binary'); // a standalone binary from scripts/release.mjs
const binary = binArg > 0 ? process.argv[binArg + 1] : undefined;
// Before/after in one run: another checkout's build (a directory holding bin/, dist/, data/) and
// another standalone binary, interleaved with this one's.
const beforeArg = process.argv.indexOf('--before');
const before = beforeArg > 0 ? join(process.argv[beforeArg + 1], 'bin', 'kubectl-nixrun.js') : undefined;
const beforeBinArg = process.argv.indexOf('--before-binary');
const beforeBinary = beforeBinArg > 0 ? process.argv[beforeBinArg + 1] : undefined;

const cases = [
  ['node -e 0', node, ['-e', '0']],
  ...(kubectl ? [['kubectl version --client', kubectl, ['version', '--client']]] : []),
  ['nixrun --help', node, [cli, '--help']],
  ['nixrun --version', node, [cli, '--version']],
  ['nixrun which psql', node, [cli, 'which', 'psql']],
  ['nixrun --dry-run -o yaml psql', node, [cli, '--dry-run', '-o', 'yaml', 'psql']],
  ...(before
    ? [
        ['before --help', node, [before, '--help']],
        ['before --version', node, [before, '--version']],
        ['before which psql', node, [before, 'which', 'psql']],
        ['before --dry-run -o yaml psql', node, [before, '--dry-run', '-o', 'yaml', 'psql']],
      ]
    : []),
  ...(beforeBinary
    ? [
        ['before binary --help', beforeBinary, ['--help']],
        ['before binary --version', beforeBinary, ['--version']],
        ['before binary which psql', beforeBinary, ['which', 'psql']],
        ['before binary --dry-run -o yaml psql', beforeBinary, ['--dry-run', '-o', 'yaml', 'psql']],
      ]
    : []),
  ...(binary
    ? [
        ['binary --help', binary, ['--help']],
        ['binary --version', binary, ['--version']],
        ['binary which psql', binary, ['which', 'psql']],
        ['binary --dry-run -o yaml psql', binary, ['--dry-run', '-o', 'yaml', 'psql']],
      ]
    : []),
];

function once(cmd, args) {
  const env = { ...process.env, NO_COLOR: '1' };
  if (gnuTime) {
    const r = spawnSync(gnuTime, ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', env });
    const last = r.stderr.trim().split('\n').pop() ?? '';
    const [, kb] = last.split(' ');
    // %e has only 10 ms resolution: time the wall clock ourselves as well.
    const t0 = process.hrtime.bigint();
    const r2 = spawnSync(cmd, args, { env, stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0 || r2.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return { ms, rssMb: Number(kb) / 1024 };
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}`);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, rssMb: NaN };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// Warm the page cache and the compile cache once, then interleave the cases run by run.
for (const [, cmd, args] of cases) once(cmd, args);
const samples = new Map(cases.map(([name]) => [name, []]));
for (let i = 0; i < runs; i++) for (const [name, cmd, args] of cases) samples.get(name).push(once(cmd, args));

const results = cases.map(([name]) => {
  const xs = samples.get(name);
  return { name, ms: median(xs.map((x) => x.ms)), rssMb: median(xs.map((x) => x.rssMb)) };
});
const base = (n) => results.find((r) => r.name === n);
const nodeBase = base('node -e 0');
const kubectlBase = base('kubectl version --client');
console.log(`# start-up, median of ${runs} interleaved runs, ${new Date().toISOString()}, node ${process.versions.node}`);
console.log(['command', 'wall ms', 'peak RSS MB', 'vs node -e 0', 'vs kubectl'].join('\t'));
for (const r of results) {
  console.log(
    [
      r.name,
      r.ms.toFixed(1),
      Number.isNaN(r.rssMb) ? '-' : r.rssMb.toFixed(1),
      (r.ms / nodeBase.ms).toFixed(2),
      kubectlBase ? (r.ms / kubectlBase.ms).toFixed(2) : '-',
    ].join('\t'),
  );
}

// What each command loads: the fast bundle (dist/fast.js, a script, so no module) answers the
// offline commands; the full build's chunks, the picker and the Kubernetes client must not be
// among what they load.
console.log('\n# modules of dist/ loaded (bench/trace-loads.mjs; dist/fast.js is a script and never listed)');
for (const [name, cmd, args] of cases) {
  if (cmd !== node || args[0] !== cli) continue;
  const r = spawnSync(node, ['--import', join(root, 'bench', 'trace-loads.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const line = r.stderr.split('\n').find((l) => l.startsWith('[loaded]')) ?? '';
  const chunks = line.replace('[loaded] ', '').split(' ').filter(Boolean);
  const names = chunks.map((c) => c.replace(/^dist\/(chunks\/)?/, '').replace(/-[A-Z0-9]{8}\.js$/, ''));
  const bytes = chunks.reduce((n, c) => n + statSync(join(root, c)).size, 0);
  const fast = statSync(join(root, 'dist', 'fast.js')).size;
  console.log(`${name}\tfast bundle ${(fast / 1024).toFixed(0)} KiB + ${(bytes / 1024).toFixed(0)} KiB of modules\tpicker ${names.includes('picker') ? 'LOADED' : 'not loaded'}\t${names.join(', ') || '(none)'}`);
}
