import type { V1EnvFromSource, V1Pod, V1Toleration } from '@kubernetes/client-node';
import { UsageError } from '../errors.js';
import { buildImageRef, normalizePackage, validateRegistry, type Arch, type ImageRef } from '../image/index.js';
import {
  buildPod,
  capabilityAdvice,
  parseDuration,
  parseEnv,
  parseEnvFrom,
  parseKeyValues,
  parseOverrides,
  parseResources,
  parseTolerations,
  podName,
  profilePackages,
  type Owner,
  type ProfileName,
} from '../pod/index.js';
import { preferBuiltFor, resolveExecutable, resolvePackage, type ChoiceStore, type Resolution, type Table } from '../resolve/index.js';
import { PROFILE_NAMES, type RawRunArgs } from './args.js';

export const DEFAULT_REGISTRY = 'nixery.dev';
/** The init that forwards signals and reaps children, so Ctrl-C reaches the command (kubectl#1445). */
export const INIT_PACKAGE = 'tini';
const INIT_ARGV = ['tini', '-g', '--'];
/**
 * The gate: the command waits for one byte on stdin before it starts, and the plugin sends that
 * byte once it is attached. So no output is lost before the attach, and an interactive prompt
 * appears without "press enter". The script is a constant; the user's command reaches it only
 * as "$@" arguments, never as shell text.
 */
export const GATE_ARGV = ['bash', '-c', 'IFS= read -r -s -n 1 _; exec "$@"', 'nixrun-gate'];
export const GATE_PREAMBLE = Buffer.from('\n');
/** The gate needs bash; Nixery's `shell` meta-package already brings it. */
const GATE_PACKAGE = 'bash';
/** Commands that need Nixery's `shell` meta-package (bash, coreutils) to exist in the image. */
const SHELL_COMMANDS = new Set(['bash', 'sh']);

/** Everything a run needs, validated, before any network or API call. */
export interface RunPlan {
  /** What the pod is named after: the executable, or "shell". */
  exe: string;
  /** The user's command (argv), before the init wrapper. */
  command: string[];
  resolutions: Resolution[];
  /** Attributes the user asked for (resolved), without the profile's and init's extras. */
  packages: string[];
  /** Added by the plugin: the profile's (fakenss) and the init (tini). */
  extraPackages: string[];
  shell: boolean;
  registry: string;
  tag?: string;
  arch: 'auto' | Arch;
  profile: ProfileName;
  stdin: boolean;
  tty: boolean;
  init: boolean;
  env: Array<{ name: string; value: string }>;
  envFrom: V1EnvFromSource[];
  hostNetwork: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  tolerations: V1Toleration[];
  requests?: Record<string, string>;
  limits?: Record<string, string>;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  overrides?: unknown;
  serviceAccount?: string;
  node?: string;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  podRunningTimeoutSeconds: number;
  deadlineSeconds: number;
  keep: boolean;
  preflight: boolean;
  sweep: boolean;
  dryRun: boolean;
  output?: 'yaml' | 'json';
  quiet: boolean;
  /** Things the user should know (a TTY that could not be used, missing capabilities). */
  warnings: string[];
  /** Packages that nixpkgs does not build for aarch64-linux (per the table): warned about for arm64. */
  notOnArm64: string[];
}

export interface PlanContext {
  table: Table;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  choices?: ChoiceStore;
  /** From the config file or NIXRUN_EXTRA_PACKAGES: added to every image. */
  extraPackages?: string[];
  /** Could the user have been asked (a terminal)? Without one, a tie between providers is an error. */
  interactive?: boolean;
}

/**
 * Validate: every user input is checked here, with a one-line error and exit 2 (127 for an
 * executable the table doesn't know), before anything touches the network.
 */
export function planRun(raw: RawRunArgs, ctx: PlanContext): RunPlan {
  const warnings: string[] = [];
  const extraArgs = (raw._ ?? []).map(String);
  if (extraArgs.length > 0) {
    throw new UsageError(
      `unexpected argument "${extraArgs[0]}"`,
      `put the command after "--", e.g. kubectl nixrun ${raw.executable ?? 'psql'} -- ${[raw.executable ?? 'psql', ...extraArgs].join(' ')}`,
    );
  }
  const userCommand = (raw['--'] ?? []).map(String);
  if (userCommand.length > 0 && userCommand[0] === '') throw new UsageError('the command after "--" is empty');

  if (raw.output && !raw.dryRun) {
    throw new UsageError(`-o/--output ${raw.output} needs --dry-run`, 'the container’s own output goes to stdout; add --dry-run to print the pod instead');
  }
  const profileName = raw.profile ?? 'restricted';
  if (!(PROFILE_NAMES as readonly string[]).includes(profileName)) {
    throw new UsageError(`unknown profile "${profileName}"`, `choose one of ${PROFILE_NAMES.join(', ')}`);
  }
  const profile = profileName as ProfileName;

  // Parse and validate every flag before resolving anything.
  const env = parseEnv(raw.env ?? []);
  const envFrom = parseEnvFrom(splitCommaList(raw.envFrom));
  const labels = parseKeyValues(splitCommaList(raw.labels), 'label');
  const annotations = parseKeyValues(raw.annotations ?? [], 'annotation');
  const tolerations = parseTolerations(raw.toleration ?? []);
  const requests = raw.requests === undefined ? undefined : parseResources(raw.requests);
  const limits = raw.limits === undefined ? undefined : parseResources(raw.limits);
  const overrides = raw.overrides === undefined ? undefined : parseOverrides(raw.overrides);
  const podRunningTimeoutSeconds = parseDuration(raw.podRunningTimeout ?? '5m', '--pod-running-timeout');
  const deadlineSeconds = parseDuration(raw.deadline ?? '4h', '--deadline');
  if (podRunningTimeoutSeconds <= 0) throw new UsageError('--pod-running-timeout must be longer than 0s');
  if (deadlineSeconds <= 0) throw new UsageError('--deadline must be longer than 0s');
  const registry = validateRegistry(raw.registry ?? nonEmpty(ctx.env.NIXRUN_REGISTRY) ?? DEFAULT_REGISTRY);
  for (const [flag, value] of [
    ['--namespace', raw.namespace],
    ['--node', raw.node],
    ['--service-account', raw.serviceAccount],
  ] as const) {
    if (value !== undefined) checkDnsName(flag, value);
  }

  // TTY and stdin, as a person would expect: a TTY when both ends are terminals; stdin always
  // forwarded (piped input reaches the command and its EOF is delivered).
  if (raw.tty === true && raw.stdin === false) throw new UsageError('-t/--tty needs stdin', 'drop --stdin=false, or --tty');
  let tty = raw.tty ?? (ctx.stdinIsTTY && ctx.stdoutIsTTY);
  if (raw.tty === true && !ctx.stdinIsTTY) {
    warnings.push('unable to use a TTY: stdin is not a terminal; running without one');
    tty = false;
  }
  const stdin = raw.stdin ?? true;
  if (tty && !stdin) throw new UsageError('-t/--tty needs stdin', 'drop --stdin=false, or add --tty=false');

  // What to run, and which packages it needs.
  let shell = false;
  let arch: RunPlan['arch'] = raw.arch;
  const requested: string[] = [];
  for (const p of splitCommaList(raw.pkgs)) {
    if (p === 'shell') shell = true;
    else if (p === 'arm64') {
      if (arch === 'amd64') throw new UsageError('--pkgs arm64 conflicts with --arch amd64', 'arm64 is Nixery’s architecture meta-package: use --arch arm64');
      arch = 'arm64';
    } else requested.push(p);
  }

  const resolutions: Resolution[] = [];
  let exe: string;
  let command: string[];
  const positional = raw.executable;
  if (positional === 'shell') {
    shell = true;
    exe = 'shell';
    command = userCommand.length > 0 ? userCommand : ['bash'];
  } else if (positional !== undefined) {
    checkExecutableName(positional);
    exe = positional;
    command = userCommand.length > 0 ? userCommand : [positional];
    resolutions.push(resolveExecutable(ctx.table, positional, withChoices(ctx, arch)));
  } else if (userCommand.length > 0) {
    // `kubectl nixrun -- psql -h my-db`: the command names the executable.
    const head = userCommand[0]!;
    exe = basename(head);
    command = userCommand;
    if (requested.length === 0 && !SHELL_COMMANDS.has(exe)) {
      checkExecutableName(exe);
      resolutions.push(resolveExecutable(ctx.table, exe, withChoices(ctx, arch)));
    }
  } else if (requested.length > 0 || shell) {
    // `kubectl nixrun -p curl,jq`: nothing to run named, so give a shell with those tools.
    shell = true;
    exe = 'shell';
    command = ['bash'];
  } else {
    throw new UsageError('nothing to run', 'name an executable (kubectl nixrun htop), or packages and a shell (kubectl nixrun --pkgs curl,jq shell)');
  }
  if (SHELL_COMMANDS.has(basename(command[0]!))) shell = true;

  for (const p of requested) {
    checkPackageOrExecutable(p);
    resolutions.push(resolvePackage(ctx.table, p, withChoices(ctx, arch)));
  }
  if (!ctx.interactive) {
    const tie = resolutions.find((r) => r.via === 'executable' && r.ambiguous);
    if (tie) {
      const names = tie.candidates.slice(0, 4).map((c) => c.attr);
      throw new UsageError(
        `"${tie.input}" is provided equally by ${names.join(', ')}${tie.candidates.length > 4 ? ', …' : ''}: choose one`,
        `kubectl nixrun --pkgs ${names[0]} -- ${tie.input}   (on a terminal you are asked once, and the answer is remembered)`,
      );
    }
  }
  const packages = unique(resolutions.map((r) => r.attr));
  const configuredResolutions = (ctx.extraPackages ?? []).map((p) => {
    checkPackageOrExecutable(p);
    return resolvePackage(ctx.table, p, withChoices(ctx, arch));
  });
  const configured = configuredResolutions.map((r) => r.attr);
  const notOnArm64 = unique([...resolutions, ...configuredResolutions].filter((r) => notBuiltFor(ctx.table, r).includes('aarch64-linux')).map((r) => r.attr));
  const extraPackages = unique([
    ...configured,
    ...profilePackages(profile),
    ...(raw.init ? [INIT_PACKAGE] : []),
    ...(stdin && !shell ? [GATE_PACKAGE] : []),
  ]).filter((p) => !packages.includes(p));
  // `gc` leaves kept pods alone even after their owner process is gone.
  if (raw.keep) annotations['nixrun.dev/keep'] = 'true';

  const executables = unique([exe, basename(command[0]!), ...requested]);
  const advice = capabilityAdvice(executables, profile);
  if (advice) warnings.push(advice);

  const plan: RunPlan = {
    exe,
    command,
    resolutions,
    packages,
    extraPackages,
    shell,
    registry,
    arch,
    profile,
    stdin,
    tty,
    init: raw.init,
    env,
    envFrom,
    hostNetwork: raw.hostNetwork ?? false,
    labels,
    annotations,
    tolerations,
    podRunningTimeoutSeconds,
    deadlineSeconds,
    keep: raw.keep,
    preflight: raw.preflight,
    sweep: raw.sweep,
    dryRun: raw.dryRun,
    quiet: raw.quiet,
    warnings,
    notOnArm64,
  };
  assignDefined(plan, {
    tag: raw.tag,
    requests,
    limits,
    imagePullPolicy: raw.imagePullPolicy,
    overrides,
    serviceAccount: raw.serviceAccount,
    node: raw.node,
    namespace: raw.namespace,
    context: raw.context,
    kubeconfig: raw.kubeconfig,
    output: raw.output,
  });
  // Build the reference once now so that bad names and lengths fail before any I/O; the real
  // one is built again once the architecture is known.
  imageFor(plan, arch === 'auto' ? 'amd64' : arch);
  return plan;
}

export function imageFor(plan0: RunPlan, arch: Arch): ImageRef {
  const plan = planForArch(plan0, arch);
  const ref = buildImageRef({
    registry: plan.registry,
    packages: [...plan.packages, ...plan.extraPackages],
    shell: plan.shell,
    arch,
    ...(plan.tag === undefined ? {} : { tag: plan.tag }),
  });
  if (arch !== 'arm64' || plan.notOnArm64.length === 0) return ref;
  const list = plan.notOnArm64.join(', ');
  const warning = `${list} ${plan.notOnArm64.length > 1 ? 'are' : 'is'} not built for aarch64-linux in nixpkgs (per the package table): Nixery will likely fail to build this arm64 image; use --arch amd64 if the cluster has amd64 nodes`;
  return { ...ref, warnings: [...ref.warnings, warning] };
}

/** The pod that will be sent: `image` may be the tag reference or the digest-pinned one. */
export function podFor(plan0: RunPlan, opts: { image: string; arch: Arch; owner: Owner; name?: string; archSelector: boolean }): V1Pod {
  const plan = planForArch(plan0, opts.arch);
  const nodeSelector: Record<string, string> = {};
  // Pin the architecture the image was built for, so an amd64 image never lands on an arm64 node.
  if (opts.archSelector) nodeSelector['kubernetes.io/arch'] = opts.arch;
  return buildPod({
    name: opts.name ?? podName(plan.exe),
    ...(plan.namespace === undefined ? {} : { namespace: plan.namespace }),
    image: opts.image,
    command: [...(plan.init ? INIT_ARGV : []), ...(plan.stdin ? GATE_ARGV : []), ...plan.command],
    stdin: plan.stdin,
    tty: plan.tty,
    env: plan.env,
    envFrom: plan.envFrom,
    hostNetwork: plan.hostNetwork,
    profile: plan.profile,
    packages: [...plan.packages, ...plan.extraPackages],
    exe: plan.exe,
    nodeSelector,
    tolerations: plan.tolerations,
    labels: plan.labels,
    annotations: plan.annotations,
    activeDeadlineSeconds: plan.deadlineSeconds,
    owner: opts.owner,
    ...definedOnly({
      serviceAccount: plan.serviceAccount,
      node: plan.node,
      requests: plan.requests,
      limits: plan.limits,
      imagePullPolicy: plan.imagePullPolicy,
      overrides: plan.overrides,
    }),
  });
}

/**
 * The systems that do not build a resolved package. An executable's candidates already carry it;
 * only a package named by attribute asks the table (whose attribute index that name's lookup has
 * just built), so a plain `kubectl nixrun psql` does not index 24,000 attributes for it.
 */
function notBuiltFor(table: Table, r: Resolution): string[] {
  if (r.via === 'attribute') return table.missingOn(r.attr);
  return r.candidates.find((c) => c.attr === r.attr)?.notBuiltFor ?? [];
}

/** Resolution options: remembered choices, and with --arch arm64 the aarch64-linux builds first. */
function withChoices(ctx: PlanContext, arch: RunPlan['arch']): { choices?: ChoiceStore; system?: string } {
  return { ...(ctx.choices ? { choices: ctx.choices } : {}), ...(arch === 'arm64' ? { system: 'aarch64-linux' } : {}) };
}

/**
 * The plan for the architecture the run found (--arch auto on an arm64 cluster): providers that
 * nixpkgs builds for aarch64-linux replace the amd64 picks it does not build.
 */
export function planForArch(plan: RunPlan, arch: Arch): RunPlan {
  if (arch !== 'arm64' || plan.notOnArm64.length === 0) return plan;
  const resolutions = plan.resolutions.map((r) => preferBuiltFor(r, 'aarch64-linux'));
  const packages = unique(resolutions.map((r) => r.attr));
  if (packages.every((p, i) => p === plan.packages[i]) && packages.length === plan.packages.length) return plan;
  const replaced = plan.packages.filter((p) => !packages.includes(p));
  return { ...plan, resolutions, packages, extraPackages: plan.extraPackages.filter((p) => !packages.includes(p)), notOnArm64: plan.notOnArm64.filter((p) => !replaced.includes(p)) };
}

/** `-p a,b -p c` → [a, b, c]; empty items (a trailing comma) are dropped. */
export function splitCommaList(items: string[] | undefined): string[] {
  return (items ?? []).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
}

// Executable names in nixpkgs are file names under bin/: letters, digits and a few punctuation
// characters (g++, python3.12, 7z, [ is excluded on purpose). Nothing here reaches a shell, but a
// name with a slash, a space or a shell metacharacter is certainly a mistake.
const EXECUTABLE_RE = /^[A-Za-z0-9_+@][A-Za-z0-9._+@:-]*$/;

export function checkExecutableName(name: string): void {
  if (name.length === 0) throw new UsageError('empty executable name', 'name the command you need, e.g. kubectl nixrun dig');
  if (name.length > 128) throw new UsageError(`executable name too long (${name.length} characters, at most 128)`);
  if (!EXECUTABLE_RE.test(name)) {
    throw new UsageError(
      `invalid executable name ${JSON.stringify(name)}: use a plain command name such as psql or dig`,
      'to run a command line, put it after "--": kubectl nixrun psql -- psql -h my-db',
    );
  }
}

/** A --pkgs item must be a valid attribute path or a valid executable name. */
function checkPackageOrExecutable(name: string): void {
  try {
    normalizePackage(name);
  } catch (attrErr) {
    try {
      checkExecutableName(name);
    } catch {
      throw attrErr;
    }
  }
}

const DNS_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
function checkDnsName(flag: string, value: string): void {
  if (value.length === 0 || value.length > 253 || !DNS_RE.test(value)) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: expected a lower-case DNS name`);
  }
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i === -1 ? p : p.slice(i + 1);
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function assignDefined<T extends object>(target: T, values: Partial<T>): void {
  Object.assign(target, definedOnly(values as Record<string, unknown>));
}

