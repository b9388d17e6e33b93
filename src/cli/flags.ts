import type { Argv, Options } from 'yargs';
import { PROFILE_NAMES } from '../pod/profiles.js';

/** How completion offers a flag's value (a flag with choices offers those). */
export type ValueKind = 'namespace' | 'context' | 'file' | 'pkgs' | 'pod' | 'node';

/**
 * One flag, declared once: yargs parses it, the repeated-flag rule reads `array`, and completion
 * offers it (and its value) from the same entry.
 */
export interface Flag {
  name: string;
  alias?: string;
  type?: 'string' | 'boolean' | 'count';
  array?: boolean;
  choices?: readonly string[];
  default?: string | boolean;
  description: string;
  values?: ValueKind;
}

export interface Command {
  /** The words that select it; [] for the default command (run). */
  words: string[];
  flags: Flag[];
  /** What completion offers for the word after `words`. */
  positional?: 'executables' | readonly string[];
}

/** On every command. yargs adds --help. */
export const GLOBAL_FLAGS: Flag[] = [
  { name: 'quiet', alias: 'q', type: 'boolean', default: false, description: 'Print nothing but errors and the container output' },
  { name: 'version', type: 'boolean', description: 'Print the version and the lookup table in use' },
  { name: 'verbose', alias: 'v', type: 'count', description: 'Say what is done against the cluster and registry (never credentials)' },
];

/**
 * kubectl's global flags that matter for a run, with kubectl's names and meaning (issue 16).
 * On every command that talks to the cluster.
 */
export const ACCESS_FLAGS: Flag[] = [
  { name: 'as', type: 'string', description: 'Username to impersonate for the operation (a user or system:serviceaccount:NS:NAME)' },
  { name: 'as-group', type: 'string', array: true, description: 'Group to impersonate for the operation (repeatable)' },
  { name: 'as-uid', type: 'string', description: 'UID to impersonate for the operation' },
  { name: 'request-timeout', type: 'string', description: 'How long to wait for a single API request (0 = no limit, 30s, 1m); also bounds an exec credential plugin' },
  { name: 'server', alias: 's', type: 'string', description: 'The address and port of the Kubernetes API server' },
  { name: 'token', type: 'string', description: 'Bearer token for authentication to the API server' },
  { name: 'user', type: 'string', description: 'The name of the kubeconfig user to use' },
  { name: 'cluster', type: 'string', description: 'The name of the kubeconfig cluster to use' },
  { name: 'insecure-skip-tls-verify', type: 'boolean', description: "Don't check the server's certificate (insecure: anyone in the middle gets your credentials)" },
  { name: 'certificate-authority', type: 'string', values: 'file', description: 'Path to a cert file for the certificate authority' },
  { name: 'tls-server-name', type: 'string', description: 'Server name to use for server certificate validation (default: the server host)' },
];

const RUN_FLAGS: Flag[] = [
  { name: 'pkgs', alias: 'p', type: 'string', array: true, values: 'pkgs', description: 'Extra packages: nixpkgs attributes or executable names (repeatable, comma-separated)' },
  { name: 'namespace', alias: 'n', type: 'string', values: 'namespace', description: 'Namespace (default: the context’s, else "default")' },
  { name: 'context', type: 'string', values: 'context', description: 'Kubeconfig context to use' },
  { name: 'kubeconfig', type: 'string', values: 'file', description: 'Path to the kubeconfig file' },
  { name: 'stdin', alias: 'i', type: 'boolean', description: 'Pass stdin to the container (default: on)' },
  { name: 'tty', alias: 't', type: 'boolean', description: 'Allocate a TTY (default: when stdin and stdout are terminals)' },
  { name: 'env', alias: 'e', type: 'string', array: true, description: 'Environment variable K=V (repeatable)' },
  { name: 'env-from', type: 'string', array: true, description: 'Every key of secret/NAME or configmap/NAME as a variable (repeatable)' },
  { name: 'host-network', type: 'boolean', default: false, description: "Use the node's network (ip, tcpdump on the node's interfaces); needs a namespace Pod Security lets do it" },
  { name: 'registry', type: 'string', description: 'Nixery registry host (env NIXRUN_REGISTRY; default nixery.dev)' },
  { name: 'tag', type: 'string', description: 'Image tag: a branch or commit on a self-hosted git-source Nixery (ignored by nixery.dev)' },
  { name: 'arch', choices: ['auto', 'amd64', 'arm64'], default: 'auto', description: 'Image architecture; auto reads the target node(s)' },
  { name: 'profile', choices: PROFILE_NAMES, description: 'Security profile (default: restricted; env NIXRUN_PROFILE)' },
  { name: 'service-account', type: 'string', description: 'Service account for the pod (its token is mounted)' },
  { name: 'node', type: 'string', description: 'Run on this node' },
  { name: 'toleration', type: 'string', array: true, description: 'Toleration key[=value]:Effect, or "all" (repeatable)' },
  { name: 'requests', type: 'string', description: 'Resource requests, e.g. cpu=100m,memory=128Mi' },
  { name: 'limits', type: 'string', description: 'Resource limits, e.g. cpu=1,memory=512Mi' },
  { name: 'labels', alias: 'l', type: 'string', array: true, description: 'Pod labels k=v (repeatable, comma-separated)' },
  { name: 'annotations', type: 'string', array: true, description: 'Pod annotations k=v (repeatable)' },
  { name: 'image-pull-policy', choices: ['Always', 'IfNotPresent', 'Never'], description: 'Image pull policy (default: the cluster’s)' },
  { name: 'overrides', type: 'string', description: 'JSON applied to the pod as a strategic merge patch' },
  { name: 'pod-running-timeout', type: 'string', description: 'How long to wait for the pod to start (default: 5m)' },
  { name: 'deadline', type: 'string', description: 'activeDeadlineSeconds backstop for the pod (default: 4h)' },
  { name: 'init', type: 'boolean', default: true, description: 'Run the command under tini so Ctrl-C and signals reach it (--no-init: run it as PID 1)' },
  { name: 'preflight', type: 'boolean', default: true, description: 'Build the image on the registry before creating the pod (--no-preflight to skip)' },
  { name: 'sweep', type: 'boolean', default: true, description: 'Delete our own stale pods at start (--no-sweep to skip)' },
  { name: 'keep', type: 'boolean', default: false, description: 'Keep the pod after exit' },
  { name: 'pick', type: 'boolean', default: false, description: 'Choose packages interactively (the default with no arguments on a terminal)' },
  { name: 'dry-run', type: 'boolean', default: false, description: 'Print the pod that would be created; no cluster needed' },
  { name: 'output', alias: 'o', choices: ['yaml', 'json'], description: 'Output format for --dry-run' },
  ...ACCESS_FLAGS,
  { name: 'image-pull-secret', type: 'string', array: true, description: 'Secret (kubernetes.io/dockerconfigjson) the node pulls the image with, and the pre-flight authenticates with when readable (repeatable)' },
];

// Scripts (issue 18): `kubectl nixrun ./check.sh` needs no flag; these name a script outright.
const SCRIPT_FLAGS: Flag[] = [
  { name: 'script', alias: 'f', type: 'string', values: 'file', description: 'Run this script file: its #! nix-shell (or #!) lines choose the packages and interpreter' },
  { name: 'configmap', type: 'string', description: 'Run the script in ConfigMap NAME (key KEY, or its only key): NAME[/KEY]' },
  { name: 'pin', type: 'boolean', default: false, description: 'With --dry-run: ask the registry and pin the image by digest' },
];

// `kubectl nixrun image`: the Nixery reference for a declarative image (Deployments, Jobs).
const IMAGE_FLAGS: Flag[] = [
  { name: 'pkgs', alias: 'p', type: 'string', array: true, values: 'pkgs', description: 'Packages: nixpkgs attributes or executable names (repeatable, comma-separated)' },
  { name: 'shell', type: 'boolean', default: false, description: 'Add Nixery’s shell meta-package (bashInteractive, coreutils, moreutils, nano)' },
  { name: 'arch', choices: ['amd64', 'arm64'], default: 'amd64', description: 'Image architecture' },
  { name: 'registry', type: 'string', description: 'Nixery registry host (env NIXRUN_REGISTRY; default nixery.dev)' },
  { name: 'tag', type: 'string', description: 'Image tag: a branch or commit on a self-hosted git-source Nixery' },
  { name: 'preflight', type: 'boolean', default: true, description: 'Ask the registry to build the image and pin it by digest (--no-preflight: offline, the tag reference)' },
  { name: 'output', alias: 'o', choices: ['json'], description: 'Packages, references, digest and architecture as JSON' },
];

// The debugging modes (issue 17): into a running pod, a copy of one, or the node.
const MODE_FLAGS: Flag[] = [
  { name: 'target', type: 'string', values: 'pod', description: 'Add the tools to a running pod as an ephemeral container: pod/NAME[:CONTAINER] (or deploy/NAME, sts/NAME, …); it shares the container’s processes and network' },
  { name: 'container', alias: 'c', type: 'string', description: 'The container to target (--target) or replace (--copy); default: the pod’s default-container annotation, else its first' },
  { name: 'mount-from', type: 'string', description: 'Mount the volumes of this container of the pod at the same paths (--target, --copy)' },
  { name: 'copy', type: 'string', values: 'pod', description: 'Run the tools in a disposable copy of pod/NAME (deleted on exit)' },
  { name: 'replace', type: 'string', description: 'With --copy: replace this container’s image and command instead of adding a container' },
  { name: 'share-processes', type: 'boolean', description: 'With --copy: share one process namespace between the copy’s containers (default: on when a container is added)' },
  { name: 'same-node', type: 'boolean', default: false, description: 'With --copy: run the copy on the pod’s node' },
  { name: 'node-shell', type: 'string', values: 'node', description: 'Run on this node in its host namespaces, with / at /host (same as node/NAME)' },
  { name: 'host-shell', type: 'boolean', default: false, description: 'With node/NAME: enter the host’s namespaces (nsenter) and run the host’s shell or the command after --' },
];

export const COMMANDS = {
  run: { words: [], flags: [...RUN_FLAGS, ...SCRIPT_FLAGS, ...MODE_FLAGS], positional: 'executables' },
  image: { words: ['image'], positional: 'executables', flags: IMAGE_FLAGS },
  which: {
    words: ['which'],
    positional: 'executables',
    flags: [
      { name: 'output', alias: 'o', choices: ['json'], description: 'Ranked candidates with the reasons' },
      { name: 'all', type: 'boolean', default: false, description: 'List every provider, best first' },
      { name: 'forget', type: 'boolean', default: false, description: 'Forget remembered choices for these executables' },
    ],
  },
  gc: {
    words: ['gc'],
    flags: [
      { name: 'all-namespaces', alias: 'A', type: 'boolean', default: false, description: 'Look in every namespace' },
      { name: 'dry-run', type: 'boolean', default: false, description: 'Only list what would be deleted' },
      { name: 'ttl', type: 'string', description: 'Also delete pods older than this (e.g. 24h), whoever owns them' },
      { name: 'namespace', alias: 'n', type: 'string', values: 'namespace', description: 'Namespace (default: the context’s)' },
      { name: 'context', type: 'string', values: 'context', description: 'Kubeconfig context' },
      { name: 'kubeconfig', type: 'string', values: 'file', description: 'Path to the kubeconfig file' },
      ...ACCESS_FLAGS,
    ],
  },
  pick: { words: ['pick'], flags: [...RUN_FLAGS, ...MODE_FLAGS] },
  config: { words: ['config', 'view'], flags: [] },
  completion: {
    words: ['completion'],
    positional: ['bash', 'zsh', 'fish', 'install'],
    flags: [{ name: 'dir', type: 'string', values: 'file', description: 'With install: where to write kubectl_complete-nixrun (default: next to kubectl-nixrun on your PATH)' }],
  },
  table: {
    words: ['table', 'update'],
    flags: [
      { name: 'from', type: 'string', values: 'file', description: 'Database file (default: ~/.cache/nix-index/files)' },
      { name: 'system', type: 'string', default: 'x86_64-linux', description: 'System to read from a programs.sqlite' },
    ],
  },
} satisfies Record<string, Command>;

/** Add flags to a yargs command: a string flag always needs its value (`-n` alone is an error). */
export function withFlags<T>(y: Argv<T>, flags: Flag[]): Argv<T> {
  for (const f of flags) {
    const o: Options = { description: f.description };
    if (f.alias !== undefined) o.alias = f.alias;
    if (f.type !== undefined) o.type = f.type;
    if (f.array) o.array = true;
    if (f.type === 'string') o.requiresArg = true;
    if (f.choices !== undefined) o.choices = f.choices;
    if (f.default !== undefined) o.default = f.default;
    y = y.option(f.name, o) as Argv<T>;
  }
  return y;
}

/** Every name yargs gives an array flag (long, camel-cased, alias), so a repeated flag keeps all its values. */
export const ARRAY_FLAGS: ReadonlySet<string> = new Set([
  ...Object.values(COMMANDS)
    .flatMap((c) => c.flags as Flag[])
    .filter((f) => f.array)
    .flatMap((f) => [f.name, camelCase(f.name), ...(f.alias ? [f.alias] : [])]),
  'executables',
]);

function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * `kubectl nixrun node/NAME htop` (kubectl debug's form): the node is a mode, not the executable,
 * so it becomes `--node-shell NAME` before yargs sees a second positional. Only the first
 * positional of the run command counts; a flag's value (`-l node/x`) is left alone.
 */
export function rewriteNodePositional(argv: string[]): string[] {
  const subcommands = new Set(Object.values(COMMANDS).flatMap((c) => c.words.slice(0, 1)));
  const takesValue = new Set(
    [...COMMANDS.run.flags, ...GLOBAL_FLAGS].filter((f) => f.type !== 'boolean' && f.type !== 'count').flatMap((f) => [`--${f.name}`, ...(f.alias ? [`-${f.alias}`] : [])]),
  );
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (takesValue.has(a)) i++;
      continue;
    }
    if (i === 0 && subcommands.has(a)) return argv;
    const m = /^nodes?\/(.*)$/i.exec(a);
    return m ? [...argv.slice(0, i), '--node-shell', m[1]!, ...argv.slice(i + 1)] : argv;
  }
  return argv;
}
