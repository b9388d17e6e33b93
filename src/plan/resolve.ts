import { UsageError } from '../errors.js';
import { imageFor } from '../image/for-plan.js';
import { GATE_PACKAGE, INIT_PACKAGE } from '../pod/command.js';
import { basename } from '../pod/manifest.js';
import { hostShellCommand } from '../pod/node.js';
import { capabilityAdvice, profilePackages } from '../pod/profiles.js';
import { resolveExecutable, resolvePackage, type ChoiceStore, type Resolution, type Table } from '../resolve/index.js';
import { modePackages } from './mode-packages.js';
import { SHELL_COMMANDS } from './names.js';
import type { RunPlan, ValidFlags } from './types.js';

export interface ResolveInput {
  table: Table;
  choices?: ChoiceStore;
  /** Could the user have been asked (a terminal)? Without one, a tie between providers is an error. */
  interactive?: boolean;
}

/**
 * Decide what to run and resolve every name to a nixpkgs attribute (offline, from the table):
 * 127 for an executable the table doesn't know, 2 for a tie nobody could be asked about.
 */
export function resolvePlan(flags: ValidFlags, input: ResolveInput): RunPlan {
  const { table } = input;
  // With --arch arm64 the providers nixpkgs builds for aarch64-linux come first.
  const lookup = { choices: input.choices, ...(flags.arch === 'arm64' ? { system: 'aarch64-linux' } : {}) };
  const { command: userCommand, requested } = flags;
  let shell = flags.shellRequested;
  const resolutions: Resolution[] = [];
  let exe: string;
  let command: string[];
  const hostShell = flags.mode.kind === 'node' && flags.mode.hostShell;
  if (hostShell) {
    // The host's own programs, entered with nsenter: the image needs nothing but util-linux.
    exe = 'nsenter';
    command = hostShellCommand(userCommand);
  } else if (flags.executable === 'shell') {
    shell = true;
    exe = 'shell';
    command = userCommand.length > 0 ? userCommand : ['bash'];
  } else if (flags.executable !== undefined) {
    exe = flags.executable;
    command = userCommand.length > 0 ? userCommand : [exe];
    resolutions.push(resolveExecutable(table, exe, lookup));
  } else if (userCommand.length > 0) {
    // `kubectl nixrun -- psql -h my-db`: the command names the executable.
    exe = basename(userCommand[0]!);
    command = userCommand;
    if (requested.length === 0 && !SHELL_COMMANDS.has(exe)) resolutions.push(resolveExecutable(table, exe, lookup));
  } else if (requested.length > 0 || shell || flags.mode.kind !== 'pod') {
    // `kubectl nixrun -p curl,jq`: nothing to run named, so give a shell with those tools.
    shell = true;
    exe = 'shell';
    command = ['bash'];
  } else {
    throw new UsageError('nothing to run', 'name an executable (kubectl nixrun htop), or packages and a shell (kubectl nixrun --pkgs curl,jq shell)');
  }
  if (SHELL_COMMANDS.has(basename(command[0]!))) shell = true;

  for (const p of requested) resolutions.push(resolvePackage(table, p, lookup));
  // `--pkgs jq -- echo hi`: the command's own executable comes too when no requested package
  // provides it (an image holds only what was asked for: without coreutils there is no echo).
  // A name the table does not know (a script, a path in the image) is left to the packages.
  if (flags.executable === undefined && requested.length > 0 && userCommand.length > 0 && !SHELL_COMMANDS.has(exe)) {
    const provided = resolutions.some((r) => r.attr === exe || table.executablesOf(r.attr).includes(exe));
    if (!provided && table.candidates(exe).length > 0) resolutions.push(resolveExecutable(table, exe, lookup));
  }
  if (!input.interactive) {
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
  const configResolutions = flags.configPackages.map((p) => resolvePackage(table, p, lookup));
  const notOnArm64 = unique([...resolutions, ...configResolutions].filter((r) => notBuiltFor(table, r).includes('aarch64-linux')).map((r) => r.attr));
  const addedPackages = unique([
    ...configResolutions.map((r) => r.attr),
    ...profilePackages(flags.profile),
    ...modePackages(flags.mode, shell),
    ...(flags.init ? [INIT_PACKAGE] : []),
    ...(flags.stdin && !shell ? [GATE_PACKAGE] : []),
  ]).filter((p) => !packages.includes(p));

  const warnings = [...flags.warnings];
  const advice = capabilityAdvice(unique([exe, basename(command[0]!), ...requested]), flags.profile);
  if (advice) warnings.push(advice);

  const { executable: _executable, requested: _requested, shellRequested: _shellRequested, configPackages: _configPackages, ...rest } = flags;
  const plan: RunPlan = { ...rest, exe, command, resolutions, packages, addedPackages, shell, warnings, notOnArm64 };
  // Build the reference once now so that bad names and lengths fail before any I/O; the real
  // one is built again once the architecture is known.
  imageFor(plan, plan.arch === 'auto' ? 'amd64' : plan.arch);
  return plan;
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

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
