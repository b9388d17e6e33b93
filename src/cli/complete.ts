import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { UsageError } from '../errors.js';
import type { Table } from '../resolve/index.js';
import type { Io } from '../ui/output.js';
import { tableFor } from './env.js';
import { COMMANDS, GLOBAL_FLAGS, type Command, type Flag } from './flags.js';
import { clusterNames } from './complete-cluster.js';
import { KUBECTL_HELPER } from './kubectl-helper.js';

/** Cobra's directives: kubectl (1.26+) reads them from `kubectl_complete-nixrun`'s last line. */
const NO_FILE_COMP = 4;
const NO_SPACE = 2;
const MAX = 200;

const ALL_COMMANDS: Command[] = Object.values(COMMANDS);
const SUBCOMMANDS = ALL_COMMANDS.filter((c) => c.words.length > 0);

/** The words that name a flag (`-n`, `--namespace`), in the command's order, then the global ones. */
function flagWords(command: Command): string[] {
  return [...command.flags, ...GLOBAL_FLAGS].flatMap((f) => [...(f.alias ? [`-${f.alias}`] : []), f.type === 'boolean' && f.default === true ? `--no-${f.name}` : `--${f.name}`]).concat('--help');
}

/** The flags of `command` that take a value, by every word that names them. */
function valueFlags(command: Command): Map<string, Flag> {
  const byWord = new Map<string, Flag>();
  for (const f of [...command.flags, ...GLOBAL_FLAGS]) {
    if (f.type === 'boolean' || f.type === 'count') continue;
    byWord.set(`--${f.name}`, f);
    if (f.alias) byWord.set(`-${f.alias}`, f);
  }
  return byWord;
}

/** Which command the words before the cursor select (the run command unless a subcommand's words lead). */
function commandOf(positionals: string[]): Command {
  return SUBCOMMANDS.find((c) => c.words[0] === positionals[0]) ?? COMMANDS.run;
}

/**
 * `__complete ARGS… PARTIAL`: the cobra protocol that kubectl uses for plugins. Offline and
 * fast: flags from the flag table, packages and executables from the bundled table, contexts and
 * namespaces from the kubeconfig (no API call).
 */
export async function complete(args: string[], io: Io): Promise<number> {
  const words = args.length === 0 ? [''] : args;
  const partial = words[words.length - 1]!;
  const before = words.slice(0, -1);
  const prev = before[before.length - 1];
  let out: string[] = [];
  let directive = NO_FILE_COMP;

  // The positionals so far: words that are neither flags nor a flag's value (of any command: the
  // command is not known before its word is found).
  const anyValueFlag = new Map(ALL_COMMANDS.flatMap((c) => [...valueFlags(c)]));
  const positionals = before.filter((w, i) => !w.startsWith('-') && !(i > 0 && anyValueFlag.has(before[i - 1]!)));
  const command = commandOf(positionals);
  const valued = valueFlags(command);
  const eq = partial.indexOf('=');
  const [flag, valuePrefix] = partial.startsWith('-') && eq > 0 ? [partial.slice(0, eq), partial.slice(eq + 1)] : [undefined, undefined];
  const valueFlag = flag !== undefined ? valued.get(flag) : prev !== undefined ? valued.get(prev) : undefined;

  if (before.includes('--')) {
    directive = 0; // The command's own arguments: let the shell complete files.
  } else if (valueFlag !== undefined) {
    const prefix = valuePrefix ?? partial;
    const values = valueFlag.values === 'pod' || valueFlag.values === 'node' ? (await clusterNames(valueFlag.values, before, io)).map((v) => (valueFlag.values === 'node' ? v.slice('node/'.length) : v)).filter((v) => v.startsWith(prefix)) : valuesFor(valueFlag, prefix, io.env);
    if (valueFlag.values === 'file') directive = 0;
    out = flag !== undefined ? values.map((v) => `${flag}=${v}`) : values;
    if (valueFlag.values === 'pkgs') directive |= NO_SPACE;
  } else if (partial.startsWith('-')) {
    out = flagWords(command).filter((f) => f.startsWith(partial));
  } else {
    const done = positionals.slice(command.words.length);
    const { positional } = command;
    if (command === COMMANDS.run) {
      // node/NAME (kubectl debug's form) completes from the cluster's nodes.
      if (positionals.length === 0 && partial.startsWith('node/')) out = (await clusterNames('node', before, io)).filter((v) => v.startsWith(partial));
      else if (positionals.length === 0) out = [...SUBCOMMANDS.map((c) => c.words[0]!), 'shell'].filter((s) => s.startsWith(partial)).concat(executables(io, partial));
    } else if (positionals.length < command.words.length) {
      out = [command.words[positionals.length]!].filter((s) => s.startsWith(partial));
    } else if (positional === 'executables') {
      out = executables(io, partial);
    } else if (positional !== undefined && done.length === 0) {
      out = positional.filter((s) => s.startsWith(partial));
    }
  }
  io.stdout.write(out.slice(0, MAX).map((s) => `${s}\n`).join('') + `:${directive}\n`);
  return 0;
}

function executables(io: Io, prefix: string): string[] {
  return prefixed(tableOrNothing(io.env)?.executables() ?? [], prefix);
}

/** Completion must never fail loudly: an unreadable table (NIXRUN_TABLE) offers nothing. */
function tableOrNothing(env: NodeJS.ProcessEnv): Table | undefined {
  try {
    return tableFor(env);
  } catch {
    return undefined;
  }
}

function valuesFor(flag: Flag, prefix: string, env: NodeJS.ProcessEnv): string[] {
  if (flag.choices) return flag.choices.filter((p) => p.startsWith(prefix));
  switch (flag.values) {
    case 'context':
      return kubeconfigs(env).contexts.filter((c) => c.startsWith(prefix));
    case 'namespace':
      return kubeconfigs(env).namespaces.filter((n) => n.startsWith(prefix));
    case 'pkgs': {
      // "curl,ps" completes the last item and keeps the ones before it.
      const i = prefix.lastIndexOf(',');
      const head = i === -1 ? '' : prefix.slice(0, i + 1);
      const last = prefix.slice(i + 1);
      const table = tableOrNothing(env);
      if (!table) return [];
      // Typing a command (psq…) offers the package that provides it (postgresql) as well.
      const exes = prefixed(table.executables(), last);
      const providers = exes.slice(0, 50).flatMap((e) => table.candidates(e).slice(0, 1).map((c) => c.attr));
      const names = [...new Set([...prefixed(table.attributes(), last), ...providers, ...exes])];
      return names.map((n) => head + n);
    }
    default:
      return [];
  }
}

function prefixed(names: string[], prefix: string): string[] {
  return names.filter((n) => n.startsWith(prefix)).sort((a, b) => a.length - b.length || a.localeCompare(b)).slice(0, MAX);
}

function kubeconfigs(env: NodeJS.ProcessEnv): { contexts: string[]; namespaces: string[] } {
  const files = env.KUBECONFIG ? env.KUBECONFIG.split(delimiter).filter(Boolean) : [join(env.HOME || homedir(), '.kube', 'config')];
  const contexts = new Set<string>();
  const namespaces = new Set<string>(['default']);
  for (const f of files) {
    if (!existsSync(f)) continue;
    try {
      const doc = parseYaml(readFileSync(f, 'utf8')) as { contexts?: Array<{ name?: string; context?: { namespace?: string } }> };
      for (const c of doc.contexts ?? []) {
        if (c.name) contexts.add(c.name);
        if (c.context?.namespace) namespaces.add(c.context.namespace);
      }
    } catch {
      // An unreadable kubeconfig offers nothing; completion must never fail loudly.
    }
  }
  return { contexts: [...contexts].sort(), namespaces: [...namespaces].sort() };
}

/** Scripts for using `kubectl-nixrun` directly (kubectl's own completion uses kubectl_complete-nixrun). */
export function completionScript(shell: 'bash' | 'zsh' | 'fish'): string {
  if (shell === 'fish') {
    return `# kubectl-nixrun completion for fish: kubectl-nixrun completion fish > ~/.config/fish/completions/kubectl-nixrun.fish
function __kubectl_nixrun_complete
    set -l args (commandline -opc)[2..-1] (commandline -ct)
    kubectl-nixrun __complete $args 2>/dev/null | string match -v -r '^:'
end
complete -c kubectl-nixrun -f -a '(__kubectl_nixrun_complete)'
`;
  }
  const body = `# kubectl-nixrun completion for ${shell}: source <(kubectl-nixrun completion ${shell})
_kubectl_nixrun() {
  local cur out directive
  cur="\${COMP_WORDS[COMP_CWORD]}"
  out=$(kubectl-nixrun __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
  directive=\${out##*:}
  out=\${out%:*}
  COMPREPLY=()
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$out" -- "$cur"))
  if (( (directive & 2) != 0 )); then compopt -o nospace 2>/dev/null; fi
  if (( (directive & 4) == 0 )) && (( \${#COMPREPLY[@]} == 0 )); then compopt -o default 2>/dev/null; fi
}
complete -F _kubectl_nixrun kubectl-nixrun
`;
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${body}` : body;
}

const HELPER_NAME = 'kubectl_complete-nixrun';

/**
 * Put kubectl's completion helper on PATH: next to the kubectl-nixrun that PATH finds (krew's
 * bin directory, npm's), or in --dir. krew cannot install it, so this is the one-step way.
 * Never overwrites a file that is not ours.
 */
export function installKubectlHelper(opts: { dir?: string }, io: Io): { path: string; dir: string; onPath: boolean } {
  const pathDirs = (io.env.PATH ?? '').split(delimiter).filter(Boolean);
  const dir = opts.dir ?? pathDirs.find((d) => existsSync(join(d, 'kubectl-nixrun')));
  if (!dir) throw new UsageError('kubectl-nixrun is not on your PATH, so there is no obvious place for the helper', 'give one that is on your PATH: kubectl nixrun completion install --dir ~/.local/bin');
  const path = join(dir, HELPER_NAME);
  if (existsSync(path)) {
    const current = readFileSync(path);
    const ours = current.includes('kubectl-nixrun') && (current.includes('__complete') || current.includes('kubectl_complete-nixrun'));
    if (!ours) throw new UsageError(`${path} exists and was not written by kubectl-nixrun; not overwriting it`, 'remove it, or choose another --dir');
    // npm's own helper (a symlink to bin/kubectl_complete-nixrun.js) already does the job.
    if (lstatSync(path).isSymbolicLink()) return { path, dir, onPath: pathDirs.includes(dir) };
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, KUBECTL_HELPER, { mode: 0o755 });
  chmodSync(path, 0o755);
  return { path, dir, onPath: pathDirs.map((d) => resolve(d)).includes(resolve(dir)) };
}
