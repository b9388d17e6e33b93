import yargs, { type Argv } from 'yargs';
import { ExitCode, UsageError } from '../errors.js';
import { processIo, Ui, type Io } from '../ui/output.js';
import { PROFILE_NAMES, type RawRunArgs } from './args.js';
import { VERSION } from './version.js';

/**
 * The command line: yargs parses, every command's handler is loaded lazily so that `--help`,
 * `--version`, `which` and `--dry-run` never pay for the Kubernetes client.
 */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  if (argv[0] === '__complete') {
    // kubectl's plugin completion protocol (cobra's): kept out of yargs so nothing is printed but candidates.
    const { complete } = await import('./complete.js');
    return complete(argv.slice(1), io);
  }
  let exitCode: number = ExitCode.ok;
  const quiet = argv.includes('-q') || argv.includes('--quiet');
  const ui = new Ui(io, { quiet });
  try {
    const parser = buildParser(argv, io, (code) => {
      exitCode = code;
    });
    await parser.parseAsync();
  } catch (err) {
    ui.error(err);
    exitCode = err instanceof UsageError ? ExitCode.usage : exitCodeOf(err);
  }
  return exitCode;
}

function exitCodeOf(err: unknown): number {
  if (err && typeof err === 'object' && 'exitCode' in err && typeof err.exitCode === 'number') return err.exitCode;
  return ExitCode.tool;
}

type SetExit = (code: number) => void;

const EPILOG = `Exit codes: the container's own exit code; 2 bad usage; 125 the plugin failed (API error,
timeout); 126 the image could not be built or started (Nixery 404/500, ErrImagePull, PodSecurity);
127 executable not found in the lookup table; 130 interrupted.

Docs: https://github.com/kubectl-nixrun/kubectl-nixrun#readme`;

export function buildParser(argv: string[], io: Io, setExit: SetExit): Argv {
  const width = Math.min(io.stdout.columns ?? 100, 110);
  const parser = yargs(argv)
    .scriptName('kubectl nixrun')
    .parserConfiguration({ 'populate--': true, 'strip-dashed': false, 'greedy-arrays': false})
    .strict()
    .exitProcess(false)
    .showHelpOnFail(false)
    .help('help')
    .version(false)
    .wrap(width)
    .fail((msg, err) => {
      // yargs' own parse errors (YError) are usage errors; errors from handlers pass through.
      if (err && err.name !== 'YError') throw err;
      if (err) msg = err.message;
      // yargs' messages span lines ("Invalid values:\n  Argument: …"): keep the error to one line.
      const oneLine = (msg ?? 'invalid arguments').replace(/:\s*\n\s*/g, ': ').replace(/\s*\n\s*/g, '; ');
      throw new UsageError(lowerFirst(oneLine), 'see kubectl nixrun --help');
    })
    // A flag given twice keeps its last value, as kubectl does (array flags keep them all).
    .middleware((argv) => {
      for (const [k, v] of Object.entries(argv)) {
        if (Array.isArray(v) && !ARRAY_FLAGS.has(k) && k !== '_' && k !== '--') argv[k] = v[v.length - 1];
      }
    }, true)
    .option('quiet', { alias: 'q', type: 'boolean', default: false, description: 'Print nothing but errors and the container output' })
    .option('version', { type: 'boolean', description: 'Print the version and the lookup table in use' })
    .option('verbose', { alias: 'v', type: 'count', description: 'Say what is done against the cluster and registry (never credentials)' })
    .command(
      '$0 [executable]',
      'Run EXECUTABLE (or an interactive shell) in a throw-away pod built from nixpkgs',
      (y) => runExamples(runOptions(y)),
      async (args) => {
        if (args.version) {
          const { printVersion } = await import('./version-command.js');
          setExit(printVersion(io));
          return;
        }
        const { runCommand } = await import('./run.js');
        setExit(await runCommand(args as unknown as RawRunArgs, io));
      },
    )
    .command(
      'pick',
      'Choose packages interactively, then run them (same flags as the default command)',
      (y) =>
        runOptions(y)
          .example('$0 pick', 'type psq, pick postgresql (and more), then choose the command')
          .example('$0 pick -n debug --profile netadmin', 'the picked tools with NET_ADMIN in namespace debug')
          .example('$0 pick --dry-run -o yaml', 'pick, then print the pod instead of running it'),
      async (args) => {
        const { runCommand } = await import('./run.js');
        setExit(await runCommand({ ...(args as unknown as RawRunArgs), pick: true }, io));
      },
    )
    .command(
      'completion <shell>',
      'Print a shell completion script for kubectl-nixrun, or `install` kubectl\'s helper (kubectl_complete-nixrun) on your PATH',
      (y) =>
        y
          .positional('shell', { choices: ['bash', 'zsh', 'fish', 'install'] as const, demandOption: true })
          .option('dir', { type: 'string', requiresArg: true, description: 'With install: where to write kubectl_complete-nixrun (default: next to kubectl-nixrun on your PATH)' })
          .example('kubectl nixrun completion install', 'let kubectl complete `kubectl nixrun …` (krew cannot install the helper)')
          .example('source <(kubectl-nixrun completion bash)', 'complete kubectl-nixrun in this bash')
          .example('kubectl-nixrun completion fish > ~/.config/fish/completions/kubectl-nixrun.fish', 'for fish')
          .epilog('kubectl itself completes `kubectl nixrun …` through kubectl_complete-nixrun on your PATH (kubectl 1.26+).'),
      async (args) => {
        const { completionScript, installKubectlHelper } = await import('./complete.js');
        if (args.shell === 'install') {
          const { path, dir, onPath } = installKubectlHelper(args.dir === undefined ? {} : { dir: args.dir }, io);
          io.stderr.write(`${path} is in place${onPath ? '' : ` (add ${dir} to your PATH so kubectl finds it)`}\n`);
        } else {
          io.stdout.write(completionScript(args.shell as 'bash' | 'zsh' | 'fish'));
        }
        setExit(ExitCode.ok);
      },
    )
    .command(
      'table update',
      'Build your own package table from a nix-index database or programs.sqlite (it then wins over the bundled one)',
      (y) =>
        y
          .option('from', { type: 'string', requiresArg: true, description: 'Database file (default: ~/.cache/nix-index/files)' })
          .option('system', { type: 'string', requiresArg: true, default: 'x86_64-linux', description: 'System to read from a programs.sqlite' })
          .example('$0 table update', 'from the nix-index database on this machine')
          .example('$0 table update --from /nix/var/nix/profiles/per-user/root/channels/nixos/programs.sqlite', 'from a NixOS channel'),
      async (args) => {
        const { tableUpdate } = await import('./table.js');
        setExit(await tableUpdate({ ...(args.from === undefined ? {} : { from: args.from }), system: args.system, quiet: args.quiet }, io));
      },
    )
    .command(
      'config view',
      'Print the effective configuration and where each value comes from',
      (y) =>
        y
          .example('$0 config view', 'each setting with its source: flag, env, file or default')
          .example('NIXRUN_REGISTRY=nixery.example.com $0 config view', 'see an environment variable win over the file')
          .epilog('The file: ~/.config/kubectl-nixrun/config.yaml ($XDG_CONFIG_HOME, or NIXRUN_CONFIG).'),
      async () => {
        const { configView } = await import('./config-view.js');
        setExit(await configView(io));
      },
    )
    .command(
      'which [executables..]',
      'Show the nixpkgs attribute each executable resolves to',
      (y) =>
        y
          .positional('executables', { type: 'string', array: true, description: 'Executable names, e.g. psql grep nc' })
          .option('output', { alias: 'o', choices: ['json'] as const, description: 'Ranked candidates with the reasons' })
          .option('all', { type: 'boolean', default: false, description: 'List every provider, best first' })
          .option('forget', { type: 'boolean', default: false, description: 'Forget remembered choices for these executables' })
          .example('$0 which psql grep nc', 'postgresql, gnugrep, netcat')
          .example('$0 which -o json bundle', 'every provider of bundle, ranked, with reasons'),
      async (args) => {
        const { whichCommand } = await import('./which.js');
        setExit(
          whichCommand(
            {
              executables: (args.executables ?? []).map(String),
              output: args.output,
              all: args.all,
              forget: args.forget,
            },
            io,
          ),
        );
      },
    )
    .command(
      'gc',
      'Delete nixrun pods whose owner is gone, that finished, or that are older than --ttl',
      (y) =>
        y
          .option('all-namespaces', { alias: 'A', type: 'boolean', default: false, description: 'Look in every namespace' })
          .option('dry-run', { type: 'boolean', default: false, description: 'Only list what would be deleted' })
          .option('ttl', { type: 'string', requiresArg: true, description: 'Also delete pods older than this (e.g. 24h), whoever owns them' })
          .option('namespace', { alias: 'n', type: 'string', requiresArg: true, description: 'Namespace (default: the context’s)' })
          .option('context', { type: 'string', requiresArg: true, description: 'Kubeconfig context' })
          .option('kubeconfig', { type: 'string', requiresArg: true, description: 'Path to the kubeconfig file' })
          .example('$0 gc -A --dry-run', 'list stale pods in all namespaces'),
      async (args) => {
        const [{ gcCommand }, { parseDuration }] = await Promise.all([import('./gc.js'), import('../pod/index.js')]);
        setExit(
          await gcCommand(
            {
              allNamespaces: args.allNamespaces,
              dryRun: args.dryRun,
              quiet: args.quiet,
              ...(args.ttl === undefined ? {} : { ttlSeconds: parseDuration(args.ttl) }),
              ...(args.namespace === undefined ? {} : { namespace: args.namespace }),
              ...(args.context === undefined ? {} : { context: args.context }),
              ...(args.kubeconfig === undefined ? {} : { kubeconfig: args.kubeconfig }),
            },
            io,
          ),
        );
      },
    )
    .epilog(EPILOG);
  return parser;
}

const ARRAY_FLAGS = new Set(['pkgs', 'p', 'env', 'e', 'envFrom', 'env-from', 'toleration', 'labels', 'l', 'annotations', 'executables']);

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function runOptions(y: Argv) {
  return y
    .positional('executable', {
      type: 'string',
      description: 'The command you need (psql, dig, htop…), or "shell" for an interactive bash',
    })
    .option('pkgs', {
      alias: 'p',
      type: 'string',
      array: true,
      requiresArg: true,
      description: 'Extra packages: nixpkgs attributes or executable names (repeatable, comma-separated)',
    })
    .option('namespace', { alias: 'n', type: 'string', requiresArg: true, description: 'Namespace (default: the context’s, else "default")' })
    .option('context', { type: 'string', requiresArg: true, description: 'Kubeconfig context to use' })
    .option('kubeconfig', { type: 'string', requiresArg: true, description: 'Path to the kubeconfig file' })
    .option('stdin', { alias: 'i', type: 'boolean', description: 'Pass stdin to the container (default: on)' })
    .option('tty', { alias: 't', type: 'boolean', description: 'Allocate a TTY (default: when stdin and stdout are terminals)' })
    .option('env', { alias: 'e', type: 'string', array: true, requiresArg: true, description: 'Environment variable K=V (repeatable)' })
    .option('env-from', { type: 'string', array: true, requiresArg: true, description: 'Every key of secret/NAME or configmap/NAME as a variable (repeatable)' })
    .option('host-network', { type: 'boolean', default: false, description: "Use the node's network (ip, tcpdump on the node's interfaces); needs a namespace Pod Security lets do it" })
    .option('registry', { type: 'string', requiresArg: true, description: 'Nixery registry host (env NIXRUN_REGISTRY; default nixery.dev)' })
    .option('tag', { type: 'string', requiresArg: true, description: 'Image tag: a branch or commit on a self-hosted git-source Nixery (ignored by nixery.dev)' })
    .option('arch', { choices: ['auto', 'amd64', 'arm64'] as const, default: 'auto', description: 'Image architecture; auto reads the target node(s)' })
    .option('profile', { choices: PROFILE_NAMES, description: 'Security profile (default: restricted; env NIXRUN_PROFILE)' })
    .option('service-account', { type: 'string', requiresArg: true, description: 'Service account for the pod (its token is mounted)' })
    .option('node', { type: 'string', requiresArg: true, description: 'Run on this node' })
    .option('toleration', { type: 'string', array: true, requiresArg: true, description: 'Toleration key[=value]:Effect, or "all" (repeatable)' })
    .option('requests', { type: 'string', requiresArg: true, description: 'Resource requests, e.g. cpu=100m,memory=128Mi' })
    .option('limits', { type: 'string', requiresArg: true, description: 'Resource limits, e.g. cpu=1,memory=512Mi' })
    .option('labels', { alias: 'l', type: 'string', array: true, requiresArg: true, description: 'Pod labels k=v (repeatable, comma-separated)' })
    .option('annotations', { type: 'string', array: true, requiresArg: true, description: 'Pod annotations k=v (repeatable)' })
    .option('image-pull-policy', { choices: ['Always', 'IfNotPresent', 'Never'] as const, description: 'Image pull policy (default: the cluster’s)' })
    .option('overrides', { type: 'string', requiresArg: true, description: 'JSON applied to the pod as a strategic merge patch' })
    .option('pod-running-timeout', { type: 'string', requiresArg: true, description: 'How long to wait for the pod to start (default: 5m)' })
    .option('deadline', { type: 'string', requiresArg: true, description: 'activeDeadlineSeconds backstop for the pod (default: 4h)' })
    .option('init', { type: 'boolean', default: true, description: 'Run the command under tini so Ctrl-C and signals reach it (--no-init: run it as PID 1)' })
    .option('preflight', { type: 'boolean', default: true, description: 'Build the image on the registry before creating the pod (--no-preflight to skip)' })
    .option('sweep', { type: 'boolean', default: true, description: 'Delete our own stale pods at start (--no-sweep to skip)' })
    .option('keep', { type: 'boolean', default: false, description: 'Keep the pod after exit' })
    .option('pick', { type: 'boolean', default: false, description: 'Choose packages interactively (the default with no arguments on a terminal)' })
    .option('dry-run', { type: 'boolean', default: false, description: 'Print the pod that would be created; no cluster needed' })
    .option('output', { alias: 'o', choices: ['yaml', 'json'] as const, description: 'Output format for --dry-run' });
}

function runExamples<T>(y: Argv<T>): Argv<T> {
  return y
    .example('$0 psql -- psql -h my-db -U app', 'psql against the service my-db')
    .example('$0 ping -- ping -c 3 my-svc', 'ping a service (ICMP works unprivileged)')
    .example('$0 --pkgs curl,gnugrep,netcat shell', 'an interactive bash with curl, grep and nc')
    .example('$0 htop', 'run htop itself')
    .example('$0 --dry-run -o yaml psql', 'print the pod, no cluster needed');
}

export { VERSION };
