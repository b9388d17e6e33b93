import type { RunFlags, RunPlan } from '../plan/types.js';
import { scriptPath, type PodScript } from './pod.js';
import { scriptCommand, type ScriptSpec } from './shebang.js';

/** A script read and understood, with how it reaches the pod. */
export interface LoadedScript {
  /** How messages name it: the path, or configmap/NAME/KEY. */
  label: string;
  spec: ScriptSpec;
  pod: PodScript;
}

/**
 * A script run is an ordinary run of its interpreter: `--pkgs PACKAGES -- INTERPRETER PATH ARGS`.
 * So the resolver (attributes or executables, 127 and did-you-mean), the interpreter's provider
 * (added when no listed package has it) and the shell meta-package for bash and sh all come from
 * the usual plan. A `--dry-run` manifest is for `kubectl apply`: nobody attaches to it, so stdin
 * and the TTY are off unless asked for.
 */
export function scriptFlags(flags: RunFlags, script: LoadedScript): RunFlags {
  const args = (flags['--'] ?? []).map(String);
  const command = scriptCommand(script.spec, scriptPath(script.pod), args);
  const packages = [...script.spec.packages];
  // Perl runs under the `exec -a` wrapper, so the plan sees bash first: name perl's provider here.
  if (command[0] === 'bash' && script.spec.interpreter[0] !== 'bash' && !packages.some((p) => p.startsWith(script.spec.interpreter[0]!))) packages.push(script.spec.interpreter[0]!);
  return {
    ...flags,
    executable: undefined,
    pkgs: [...(flags.pkgs ?? []), ...packages],
    '--': command,
    ...(flags.dryRun ? { stdin: flags.stdin ?? false, tty: flags.tty ?? false } : {}),
  };
}

/** The plan carries the script (podFor mounts it) and is named after it, not after the interpreter. */
export function scriptPlan(plan: RunPlan, script: LoadedScript): RunPlan {
  const base = script.pod.fileName.replace(/\.[A-Za-z0-9]+$/, '') || 'script';
  return { ...plan, exe: base, script: script.pod };
}
