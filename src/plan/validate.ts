import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { validateRegistry, validateTag } from '../image/ref.js';
import { parseEnv, parseEnvFrom, parseKeyValues, parseOverrides, parseResources, parseTolerations } from '../pod/parse.js';
import { isProfileName, PROFILE_NAMES } from '../pod/profiles.js';
import { basename, checkOverrides } from '../pod/manifest.js';
import { checkDnsName, checkExecutableName, checkPackageOrExecutable, SHELL_COMMANDS, splitCommaList } from './names.js';
import { validateMode } from './mode.js';
import type { RunFlags, Terminal, ValidFlags } from './types.js';
import { validateAccess } from './access.js';

/**
 * Validate: every flag is parsed and checked here, with a one-line error and exit 2, before any
 * prompt, lookup or network call (kubectl's Complete → Validate → Run). What to run is decided
 * afterwards by resolvePlan.
 */
export function validateFlags(flags0: RunFlags, terminal: Terminal): ValidFlags {
  const warnings: string[] = [];
  const flags = flags0;
  const strays = (flags._ ?? []).map(String);
  if (strays.length > 0) {
    throw new UsageError(
      `unexpected argument "${strays[0]}"`,
      `put the command after "--", e.g. kubectl nixrun ${flags.executable ?? 'psql'} -- ${[flags.executable ?? 'psql', ...strays].join(' ')}`,
    );
  }
  const command = (flags['--'] ?? []).map(String);
  if (command.length > 0 && command[0] === '') throw new UsageError('the command after "--" is empty');

  if (flags.output && !flags.dryRun) {
    throw new UsageError(`-o/--output ${flags.output} needs --dry-run`, 'the container’s own output goes to stdout; add --dry-run to print the pod instead');
  }
  if (!isProfileName(flags.profile)) throw new UsageError(`unknown profile "${flags.profile}"`, `choose one of ${PROFILE_NAMES.join(', ')}`);
  const profileExplicit = flags.profileExplicit ?? false;
  const mode = validateMode(flags, flags, { profile: flags.profile, profileExplicit });
  // A node pod is privileged unless asked otherwise (as oc debug and node-shell are).
  const profile = mode.kind === 'node' && !profileExplicit ? 'sysadmin' : flags.profile;
  if (mode.kind === 'node' && mode.hostShell && flags.executable !== undefined) {
    throw new UsageError(`--host-shell runs the host's own programs: "${flags.executable}" would not be used`, `put the host command after "--": kubectl nixrun node/${mode.node} --host-shell -- ${flags.executable === 'shell' ? 'bash' : flags.executable}`);
  }

  const env = parseEnv(flags.env ?? []);
  const envFrom = parseEnvFrom(splitCommaList(flags.envFrom));
  const labels = parseKeyValues(splitCommaList(flags.labels), 'label');
  const annotations = parseKeyValues(flags.annotations ?? [], 'annotation');
  const tolerations = parseTolerations(flags.toleration ?? []);
  const requests = flags.requests === undefined ? undefined : parseResources(flags.requests);
  const limits = flags.limits === undefined ? undefined : parseResources(flags.limits);
  const overrides = flags.overrides === undefined ? undefined : parseOverrides(flags.overrides);
  if (overrides !== undefined) checkOverrides(overrides);
  const podRunningTimeoutSeconds = parseDuration(flags.podRunningTimeout, '--pod-running-timeout');
  const deadlineSeconds = parseDuration(flags.deadline, '--deadline');
  if (podRunningTimeoutSeconds <= 0) throw new UsageError('--pod-running-timeout must be longer than 0s');
  if (deadlineSeconds <= 0) throw new UsageError('--deadline must be longer than 0s');
  const registry = validateRegistry(flags.registry);
  for (const [flag, value] of [
    ['--namespace', flags.namespace],
    ['--node', flags.node],
    ['--service-account', flags.serviceAccount],
  ] as const) {
    if (value !== undefined) checkDnsName(flag, value);
  }

  // TTY and stdin, as a person would expect: a TTY when both ends are terminals; stdin always
  // forwarded (piped input reaches the command and its EOF is delivered).
  if (flags.tty === true && flags.stdin === false) throw new UsageError('-t/--tty needs stdin', 'drop --stdin=false, or --tty');
  let tty = flags.tty ?? (terminal.stdinIsTTY && terminal.stdoutIsTTY);
  if (flags.tty === true && !terminal.stdinIsTTY) {
    warnings.push('unable to use a TTY: stdin is not a terminal; running without one');
    tty = false;
  }
  const stdin = flags.stdin ?? true;
  if (tty && !stdin) throw new UsageError('-t/--tty needs stdin', 'drop --stdin=false, or add --tty=false');

  let shellRequested = false;
  let arch = flags.arch;
  const requested: string[] = [];
  for (const p of splitCommaList(flags.pkgs)) {
    if (p === 'shell') shellRequested = true;
    else if (p === 'arm64') {
      if (arch === 'amd64') throw new UsageError('--pkgs arm64 conflicts with --arch amd64', 'arm64 is Nixery’s architecture meta-package: use --arch arm64');
      arch = 'arm64';
    } else requested.push(p);
  }

  // The names, before any of them is looked up.
  if (flags.executable !== undefined && flags.executable !== 'shell') checkExecutableName(flags.executable);
  else if (flags.executable === undefined && command.length > 0 && requested.length === 0 && !SHELL_COMMANDS.has(basename(command[0]!))) checkExecutableName(basename(command[0]!));
  for (const p of requested) checkPackageOrExecutable(p);
  for (const p of flags.configPackages) checkPackageOrExecutable(p);
  const tag = flags.tag === undefined ? undefined : validateTag(flags.tag);
  const access = validateAccess(flags);
  const imagePullSecrets = [...new Set(splitCommaList(flags.imagePullSecret))];
  for (const s of imagePullSecrets) checkDnsName('--image-pull-secret', s);
  if (access.insecureSkipTlsVerify) warnings.push("--insecure-skip-tls-verify: the API server's certificate is not checked; whoever answers gets your credentials");

  return {
    executable: flags.executable,
    command,
    requested,
    shellRequested,
    configPackages: flags.configPackages,
    registry,
    tag,
    arch,
    profile,
    stdin,
    tty,
    init: flags.init,
    env,
    envFrom,
    hostNetwork: flags.hostNetwork ?? false,
    labels,
    annotations,
    tolerations,
    requests,
    limits,
    imagePullPolicy: flags.imagePullPolicy,
    imagePullSecrets,
    overrides,
    serviceAccount: flags.serviceAccount,
    node: flags.node,
    namespace: flags.namespace,
    context: flags.context,
    kubeconfig: flags.kubeconfig,
    access,
    podRunningTimeoutSeconds,
    deadlineSeconds,
    keep: flags.keep,
    preflight: flags.preflight,
    sweep: flags.sweep,
    dryRun: flags.dryRun,
    output: flags.output,
    quiet: flags.quiet,
    warnings,
    mode,
    profileExplicit,
  };
}
