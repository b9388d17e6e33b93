import type { V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { COMMANDS, GLOBAL_FLAGS, type Flag } from '../../../src/cli/flags.js';
import { NOBODY } from '../../../src/pod/profiles.js';
import { CONTAINER_NAME, sessionInvariantBroken } from '../../../src/pod/manifest.js';
import { runMain, type MainResult } from '../../support/main.js';

// A property-based fuzz of everything a user hands the plugin: argv words and flags, NIXRUN_*
// variables and the config file. Whatever comes in, a run ends with exit 0 (a valid --dry-run),
// 2 or 127 with a one-line message; it never throws, never asks the cluster or a registry, and a
// manifest it prints keeps the pod builder's invariants. Fixed seed: the same cases every run.
const SEED = Number(process.env.NIXRUN_FUZZ_SEED ?? 13_2026);
const RUNS = Number(process.env.NIXRUN_FUZZ_RUNS ?? 10_000);

const dir = mkdtempSync(join(tmpdir(), 'nixrun-fuzz-'));
const HOME = join(dir, 'home');
mkdirSync(HOME);
const CONFIG = join(dir, 'config.yaml');
const GARBAGE = join(dir, 'garbage.br');
writeFileSync(GARBAGE, 'not a table at all\n');

// ---- the words a user might type ------------------------------------------------------------
const EXECUTABLES = ['psql', 'htop', 'curl', 'jq', 'dig', 'ping', 'tcpdump', 'strace', 'nc', 'bundle', 'python3', 'g++', '7z', 'bash', 'sh', 'shell'];
const PACKAGES = ['postgresql', 'curl', 'jq', 'netcat', 'python3Packages.requests', 'haskellPackages.QuickCheck', '_7zz', 'arm64', 'amd64', 'shell', 'fakenss', 'tini', 'PostgreSQL', 'nixpkgs.a..b', '.x', 'x.'];
const PROTOTYPE = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
const SHELLISH = ['$(reboot)', '`id`', ';rm -rf /', '| cat', '&& x', '> /etc/passwd', '*', '~', '../x', '/bin/sh', 'a b', "'", '"', '\\', '$HOME', '%s%n', '{{.}}'];
const WEIRD = ['', ' ', '-', '--', '---', '-=', '=', '==', ',', ',,', 'ψ', '🚀', 'é', '\u202e', '\u200b', '\u0000', '\u001b[2J', '\n', '\r\n', '\t', '\u007f', '0', '-1', '1e309', 'NaN', 'Infinity', 'null', 'undefined', 'x'.repeat(300), 'a'.repeat(5000)];
const VALUES = [
  'A=1', 'B=x=y', '1X=2', '=v', 'PG_PASS=', 'secret/db', 'configmap/c1', 'cm/x', 'secret/', 'secret/UPPER', 'cpu=100m', 'memory=1Gi', 'cpu=lots', 'cpu=100m,memory=128Mi', 'k=v:NoSchedule', 'all', 'k:Bogus',
  'a=b', 'a=b,c=d', 'bad key=x', 'x/y=z', 'team=sre', '5m', '30s', '1h30m', '0s', '0', '90', '2d', 'soon', '-5m', 'nixery.dev', 'nixery.corp:5000', 'localhost:5000', '[::1]:5000', 'https://nixery.dev', 'Nixery.dev', 'host:99999',
  'v1', 'release-24.05', '-bad', 'a'.repeat(129), 'default', 'kube-system', 'Bad_NS', 'a..b', 'node-1', 'sa', 'Always', 'IfNotPresent', 'Never', 'yaml', 'json', 'xml', 'auto', 'amd64', 'arm64', 'restricted', 'baseline', 'netadmin', 'sysadmin', 'root',
  '{}', '{"spec":{"hostNetwork":true}}', '{"spec":{"restartPolicy":"Always"}}', '{"metadata":{"name":"x"}}', '{"spec":{"containers":[{"name":"nixrun","command":null}]}}', '{"spec":{"containers":[{"name":"nixrun","$patch":"delete"}]}}', '{"__proto__":{"x":1}}', '{"kind":"Service"}', '[]', 'null', '{not json',
];
const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...EXECUTABLES, ...PACKAGES, ...PROTOTYPE, ...SHELLISH, ...WEIRD, ...VALUES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
);
const overridesJson = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ spec: v }));

// ---- flags from the flag table, in every way they can be written -----------------------------
// Not fuzzed: the ones that stop it being an offline dry run (--no-dry-run, --dry-run=false), the
// picker (a prompt; tested through tmux), --help/--version (their own output), the two that
// reach out by design: --configmap reads the API, --pin asks the registry (test/unit/cli/script.test.ts),
// and the modes (--target, --copy, node/NAME), which have their own tests (test/unit/modes) and
// read the cluster even in --dry-run.
const MODE_FLAGS = ['target', 'container', 'mount-from', 'copy', 'replace', 'share-processes', 'same-node', 'node-shell', 'host-shell'];
const RUN_FLAGS = [...COMMANDS.run.flags, ...GLOBAL_FLAGS].filter((f: Flag) => !['dry-run', 'pick', 'version', 'configmap', 'pin', ...MODE_FLAGS].includes(f.name));
/** Values a person would give, so that many cases get through to a manifest. */
const GOOD: Record<string, string[]> = {
  pkgs: ['curl', 'jq,curl', 'postgresql', 'python3Packages.requests', 'netcat,dig', 'shell', 'htop'],
  namespace: ['default', 'team-a'],
  context: ['prod'],
  kubeconfig: ['/tmp/kubeconfig'],
  env: ['A=1', 'B=x=y', 'PGPASSWORD=', 'LANG=C.UTF-8'],
  'env-from': ['secret/db', 'configmap/c1', 'cm/x,secret/y'],
  registry: ['nixery.dev', 'nixery.corp:5000', 'localhost:5000'],
  tag: ['v1', 'release-24.05'],
  'service-account': ['sa'],
  node: ['node-1'],
  toleration: ['all', 'k=v:NoSchedule', 'dedicated'],
  requests: ['cpu=100m', 'cpu=100m,memory=128Mi'],
  limits: ['memory=1Gi'],
  labels: ['a=b', 'team=sre,tier=debug'],
  annotations: ['x/y=z', 'note=free text'],
  overrides: ['{"spec":{"hostNetwork":true}}', '{"metadata":{"labels":{"x":"y"}}}', '{"spec":{"containers":[{"name":"nixrun","env":[{"name":"X","value":"1"}]}]}}'],
  'pod-running-timeout': ['30s', '5m'],
  deadline: ['1h', '90'],
};
const valueOf = (f: Flag) => {
  const good = f.choices ?? GOOD[f.name] ?? ['x'];
  const hostile = f.name === 'overrides' ? fc.oneof(text, overridesJson) : text;
  return fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...good) }, { weight: 1, arbitrary: hostile });
};
const flagToken = fc.constantFrom(...RUN_FLAGS).chain((f: Flag) => {
  const names = [`--${f.name}`, ...(f.alias ? [`-${f.alias}`] : [])];
  if (f.type === 'boolean' || f.type === 'count') return fc.constantFrom(...names, `--no-${f.name}`, `--${f.name}=false`, `--${f.name}=true`).map((t) => [t]);
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...names), valueOf(f)).map(([n, v]) => [n, v]) },
    { weight: 2, arbitrary: valueOf(f).map((v) => [`--${f.name}=${v}`]) },
    { weight: 1, arbitrary: fc.constantFrom(...names).map((n) => [n]) }, // the value missing
  );
});
const command = fc.oneof(fc.constant([] as string[]), fc.constantFrom(['--', 'psql', '-h', 'db'], ['--', 'sh', '-c', 'curl -s x | wc -l'], ['--', '/usr/bin/env'], ['--', 'ping', '-c', '3', 'my-svc'], ['--', 'bash']), fc.array(text, { maxLength: 3 }).map((ws) => ['--', ...ws]));
const SUBCOMMANDS = new Set(['which', 'gc', 'pick', 'config', 'completion', 'table', 'image', 'true', 'false']);
// A person's command line: an executable (or none), some flags, maybe a command after "--".
const sensibleArgv = fc
  .tuple(fc.option(fc.constantFrom(...EXECUTABLES), { nil: undefined }), fc.array(flagToken, { maxLength: 5 }), command)
  .map(([exe, flags, cmd]) => [...(exe === undefined ? [] : [exe]), ...flags.flat(), ...cmd]);
// Anything at all, in any order.
const hostileArgv = fc.array(fc.oneof({ weight: 3, arbitrary: flagToken }, { weight: 2, arbitrary: text.map((t) => [t]) }, { weight: 1, arbitrary: fc.constant(['--']) }), { maxLength: 8 }).map((ts) => ts.flat());
const argvArb = fc
  .oneof({ weight: 3, arbitrary: sensibleArgv }, { weight: 2, arbitrary: hostileArgv })
  // A subcommand word first is another command; `--dry-run false` would turn the dry run off.
  .filter((ts) => ts.length === 0 || !SUBCOMMANDS.has(ts[0]!));

// ---- the environment and the config file ------------------------------------------------------
const sometimes = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: bad });
const configValue = fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.dictionary(text, text, { maxKeys: 3 }), fc.integer(), fc.constant(null), fc.boolean());
const goodConfig = fc
  .record(
    {
      registry: fc.constantFrom('nixery.dev', 'nixery.corp'),
      profile: fc.constantFrom('restricted', 'baseline', 'netadmin', 'sysadmin'),
      podRunningTimeout: fc.constantFrom('10m', '30s'),
      deadline: fc.constantFrom('1h', '2h'),
      extraPackages: fc.array(fc.constantFrom('jq', 'curl', 'tini'), { maxLength: 2 }),
      labels: fc.dictionary(fc.constantFrom('team', 'tier'), fc.constantFrom('sre', 'debug')),
      aliases: fc.dictionary(fc.constantFrom('db', 'net', ...PROTOTYPE), fc.oneof(fc.constantFrom('postgresql,curl', 'jq'), fc.array(fc.constantFrom('curl', 'netcat'), { minLength: 1, maxLength: 2 }))),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));
const badConfig = fc.oneof(
  fc.dictionary(fc.constantFrom('registry', 'profile', 'podRunningTimeout', 'deadline', 'extraPackages', 'labels', 'aliases', ...PROTOTYPE, 'regstry'), configValue, { maxKeys: 4 }).map((o) => JSON.stringify(o)),
  text,
  fc.constantFrom('a: &a [1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n', 'registry: [a\n', '- a\n', 'profile: root\n', '? |\n  multi\n  line\n: x\n', 'a: 1\na: 2\n', '\t- x', 'aliases:\n  "\\e[2J": x\n'),
);
const configFile = sometimes(goodConfig, badConfig);
const envArb = fc.record(
  {
    NIXRUN_REGISTRY: sometimes(fc.constantFrom('nixery.dev', 'nixery.example.com', ''), text),
    NIXRUN_PROFILE: sometimes(fc.constantFrom('restricted', 'baseline', 'netadmin', 'sysadmin'), text),
    NIXRUN_POD_RUNNING_TIMEOUT: sometimes(fc.constantFrom('5m', '90s'), text),
    NIXRUN_DEADLINE: sometimes(fc.constantFrom('4h', '1d'), text),
    NIXRUN_EXTRA_PACKAGES: sometimes(fc.constantFrom('jq', 'jq,curl', 'tini,,fakenss'), text),
    NIXRUN_PING_INTERVAL: text,
    NIXRUN_TABLE: fc.constantFrom(join(dir, 'missing.br'), GARBAGE, dir),
    NIXRUN_CONFIG: sometimes(fc.constant(CONFIG), fc.constantFrom(join(dir, 'missing.yaml'), dir)),
  },
  { requiredKeys: [] },
);
/** Most runs leave NIXRUN_TABLE alone (it is for building your own table); some point it at junk. */
const envCase = fc.tuple(envArb, fc.integer({ min: 0, max: 9 })).map(([env, n]) => {
  if (n !== 0) delete env.NIXRUN_TABLE;
  return env;
});

// ---- what every case must satisfy -------------------------------------------------------------
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

function checkRejected(r: MainResult): void {
  expect(r.stdout).toBe('');
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  const at = lines.findIndex((l) => l.startsWith('error: '));
  expect(at, r.stderr).toBeGreaterThanOrEqual(0);
  // The error is the last thing said: one line, and perhaps one hint line.
  const tail = lines.slice(at);
  expect(tail.length, r.stderr).toBeLessThanOrEqual(2);
  if (tail[1] !== undefined) expect(tail[1]).toMatch(/^hint: /);
  expect(r.stderr, 'a stack trace').not.toMatch(/^\s+at /m);
  expect(CONTROL.test(tail.join('')), `control characters reach the terminal: ${JSON.stringify(r.stderr)} ${[...r.stderr].map((c) => c.codePointAt(0)!.toString(16)).join(' ')}`).toBe(false);
}

/** The profile the run must have used: the last --profile, else NIXRUN_PROFILE, else the file's, else restricted. */
function expectedProfile(argv: string[], env: Record<string, string>, config: unknown): string {
  const before = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  let flag: string | undefined;
  before.forEach((t, i) => {
    if (t === '--profile' && before[i + 1] !== undefined) flag = before[i + 1];
    if (t.startsWith('--profile=')) flag = t.slice('--profile='.length);
  });
  const file = config && typeof config === 'object' && typeof (config as { profile?: unknown }).profile === 'string' ? (config as { profile: string }).profile : undefined;
  return flag ?? (env.NIXRUN_PROFILE || undefined) ?? file ?? 'restricted';
}

function checkManifest(r: MainResult, argv: string[], env: Record<string, string>, config: unknown): void {
  const ours = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  let output = 'yaml';
  ours.forEach((t, i) => {
    if ((t === '-o' || t === '--output') && ours[i + 1] !== undefined) output = ours[i + 1]!;
    if (t.startsWith('--output=')) output = t.slice('--output='.length);
  });
  const pod = (output === 'json' ? JSON.parse(r.stdout) : parseYaml(r.stdout)) as V1Pod;
  expect(pod.kind).toBe('Pod');
  expect(pod.apiVersion).toBe('v1');
  const name = pod.metadata!.name!;
  expect(name).toMatch(/^nixrun-[a-z0-9]([-a-z0-9]*[a-z0-9])?-[a-z0-9]{5}$/);
  expect(name.length).toBeLessThanOrEqual(63);
  expect(sessionInvariantBroken(pod, name)).toBeUndefined();
  const c = pod.spec!.containers.find((x) => x.name === CONTAINER_NAME)!;
  expect(c.command!.every((w) => typeof w === 'string')).toBe(true);
  expect(pod.spec!.activeDeadlineSeconds).toBeGreaterThan(0);
  expect(pod.metadata!.labels!['app.kubernetes.io/managed-by']).toBe('kubectl-nixrun');
  if (argv.includes('--overrides') || argv.some((t) => t.startsWith('--overrides='))) return; // the user's own changes
  expect(['amd64', 'arm64']).toContain(pod.spec!.nodeSelector!['kubernetes.io/arch']);
  expect(c.stdinOnce).toBe(c.stdin);
  const profile = expectedProfile(argv, env, config);
  const psc = pod.spec!.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const image = c.image!;
  if (profile === 'restricted') {
    expect(psc).toMatchObject({ runAsNonRoot: true, runAsUser: NOBODY, runAsGroup: NOBODY, seccompProfile: { type: 'RuntimeDefault' } });
    expect(sc).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true });
    expect(image.split(/[/:@]/)).toContain('fakenss');
  } else if (profile === 'baseline') {
    expect(sc).toEqual({ allowPrivilegeEscalation: false });
    expect(psc.runAsUser).toBeUndefined();
  } else if (profile === 'netadmin') {
    expect(sc).toEqual({ capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } });
    expect(psc.runAsUser).toBe(0);
  } else {
    expect(profile).toBe('sysadmin');
    expect(sc).toEqual({ privileged: true });
  }
}

describe(`fuzz: argv, environment and config file (${RUNS} cases, seed ${SEED})`, () => {
  const fetches: unknown[] = [];
  beforeAll(() => {
    vi.stubGlobal('fetch', (...args: unknown[]) => {
      fetches.push(args[0]);
      return Promise.reject(new Error('fuzz: no network'));
    });
  });
  afterAll(() => vi.unstubAllGlobals());

  it('every case: exit 0 with a sound manifest, or 2/127 with one line; no API or network call', { timeout: 900_000 }, async () => {
    const codes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(argvArb, envCase, fc.option(configFile, { nil: undefined }), async (tokens, env, config) => {
        const argv = ['--dry-run', ...tokens];
        if (config !== undefined) writeFileSync(CONFIG, config);
        else writeFileSync(CONFIG, '');
        const r = await runMain(argv, { env: { HOME, NO_COLOR: '1', KUBECONFIG: join(dir, 'no-kubeconfig'), ...env } });
        codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
        expect(r.kubeCalls, 'asked the cluster').toEqual([]);
        expect(fetches, 'used the network').toEqual([]);
        expect([0, 2, 127], `exit ${r.code}: ${r.stderr}`).toContain(r.code);
        if (r.code === 0) {
          let parsed: unknown;
          try {
            parsed = env.NIXRUN_CONFIG === CONFIG && config ? parseYaml(config) : undefined;
          } catch {
            parsed = undefined;
          }
          checkManifest(r, argv, env as Record<string, string>, parsed);
        } else checkRejected(r);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // Both sides were reached in fair numbers (a generator that only makes errors proves little).
    expect(codes.get(0) ?? 0, JSON.stringify([...codes])).toBeGreaterThan(RUNS / 20);
    expect(codes.get(2) ?? 0).toBeGreaterThan(RUNS / 5);
    console.log(`fuzz: ${RUNS} cases, exit codes ${JSON.stringify(Object.fromEntries(codes))}`);
  });
});

describe('fuzz: the other offline commands', () => {
  const env = () => ({ HOME, NO_COLOR: '1', KUBECONFIG: join(dir, 'no-kubeconfig') });

  it('__complete: any words, any environment → candidates and a directive, exit 0, never an error', { timeout: 300_000 }, async () => {
    const words = fc.array(fc.oneof(text, fc.constantFrom('which', 'gc', 'pick', 'config', 'completion', 'table', 'update', 'view', '-n', '--pkgs', '-p', '--profile', '-o', '--from', '--dir', '--context', '--')), { maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(words, envCase, async (ws, e) => {
        const r = await runMain(['__complete', ...ws], { env: { ...env(), ...e } });
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/(^|\n):\d+\n$/);
        expect(r.stderr).toBe('');
        expect(r.kubeCalls).toEqual([]);
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it('which and config view: exit 0, or 2/127 with one line', { timeout: 300_000 }, async () => {
    const argv = fc.oneof(
      fc.array(fc.oneof(text, fc.constantFrom(...EXECUTABLES, '-o', 'json', '--all', '--forget')), { maxLength: 5 }).map((ws) => ['which', ...ws.filter((w) => w !== '--forget')]),
      fc.constant<string[]>(['config', 'view']),
    );
    await fc.assert(
      fc.asyncProperty(argv, envCase, fc.option(configFile, { nil: undefined }), async (a, e, config) => {
        writeFileSync(CONFIG, config ?? '');
        const r = await runMain(a, { env: { ...env(), ...e } });
        expect([0, 2, 127], r.stderr).toContain(r.code);
        if (r.code !== 0 && a[0] === 'config') checkRejected(r);
        if (r.code === 2) checkRejected(r);
        expect(r.kubeCalls).toEqual([]);
      }),
      { seed: SEED, numRuns: 1_000 },
    );
  });
});
