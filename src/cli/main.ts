import yargs, { type Argv } from 'yargs';
import { ExitCode, exitCodeOf, UsageError } from '../errors.js';
import { processIo, Ui, type Io } from '../ui/output.js';
import { defaultFactory, type Factory } from './factory.js';
import { ARRAY_FLAGS, COMMANDS, GLOBAL_FLAGS, rewriteNodePositional, withFlags, type Flag } from './flags.js';
import type { RawRunArgs } from './run.js';

/**
 * The command line: yargs parses, every command's handler is loaded lazily so that `--help`,
 * `--version`, `which` and `--dry-run` never pay for the Kubernetes client. Everything that
 * reaches outside the process comes in through `io` and `factory`, so tests can drive it.
 */
export async function main(argv0: string[], io: Io = processIo(), factory: Factory = defaultFactory): Promise<number> {
  if (argv0[0] === '__complete') {
    // kubectl's plugin completion protocol (cobra's): kept out of yargs so nothing is printed but candidates.
    const { complete } = await import('./complete.js');
    return complete(argv0.slice(1), io);
  }
  const argv = rewriteNodePositional(argv0);
  let exitCode: number = ExitCode.ok;
  const quiet = argv.includes('-q') || argv.includes('--quiet');
  const ui = new Ui(io, { quiet });
  try {
    let help = '';
    const parser = buildParser(argv, io, factory, (code) => {
      exitCode = code;
    });
    // yargs hands its own output (--help) to this callback instead of the console.
    await parser.parseAsync(argv, {}, (_err, _args, output) => {
      help = output;
    });
    if (help) io.stdout.write(`${help}\n`);
  } catch (err) {
    ui.error(err);
    exitCode = err instanceof UsageError ? ExitCode.usage : exitCodeOf(err);
  }
  return exitCode;
}

type SetExit = (code: number) => void;

const EPILOG = `Exit codes: the container's own exit code; 2 bad usage; 125 the plugin failed (API error,
timeout); 126 the image could not be built or started (Nixery 404/500, ErrImagePull, PodSecurity);
127 executable not found in the lookup table; 130 interrupted.

Docs: https://github.com/kubectl-nixrun/kubectl-nixrun#readme`;

function buildParser(argv: string[], io: Io, factory: Factory, setExit: SetExit): Argv {
  const width = Math.min(io.stdout.columns ?? 100, 110);
  const root = yargs(argv)
    .scriptName('kubectl nixrun')
    .parserConfiguration({ 'populate--': true, 'strip-dashed': false, 'greedy-arrays': false })
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
    .middleware((args) => {
      for (const [k, v] of Object.entries(args)) {
        if (Array.isArray(v) && !ARRAY_FLAGS.has(k) && k !== '_' && k !== '--') args[k] = v[v.length - 1];
      }
    }, true);
  return withFlags(root, GLOBAL_FLAGS)
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
        setExit(await runCommand(args as unknown as RawRunArgs, io, factory));
      },
    )
    .command(
      'pick',
      'Choose packages interactively, then run them (same flags as the default command)',
      (y) =>
        runOptions(y, COMMANDS.pick.flags)
          .example('$0 pick', 'type psq, pick postgresql (and more), then choose the command')
          .example('$0 pick -n debug --profile netadmin', 'the picked tools with NET_ADMIN in namespace debug')
          .example('$0 pick --dry-run -o yaml', 'pick, then print the pod instead of running it'),
      async (args) => {
        const { runCommand } = await import('./run.js');
        // yargs leaves the command's own word in `_`: it is not a stray argument.
        const raw = args as unknown as RawRunArgs;
        setExit(await runCommand({ ...raw, _: (raw._ ?? []).slice(1), pick: true }, io, factory));
      },
    )
    .command(
      'completion <shell>',
      'Print a shell completion script for kubectl-nixrun, or `install` kubectl\'s helper (kubectl_complete-nixrun) on your PATH',
      (y) =>
        withFlags(y.positional('shell', { choices: COMMANDS.completion.positional, demandOption: true }), COMMANDS.completion.flags)
          .example('kubectl nixrun completion install', 'let kubectl complete `kubectl nixrun …` (krew cannot install the helper)')
          .example('source <(kubectl-nixrun completion bash)', 'complete kubectl-nixrun in this bash')
          .example('kubectl-nixrun completion fish > ~/.config/fish/completions/kubectl-nixrun.fish', 'for fish')
          .epilog('kubectl itself completes `kubectl nixrun …` through kubectl_complete-nixrun on your PATH (kubectl 1.26+).'),
      async (args) => {
        const { completionScript, installKubectlHelper } = await import('./complete.js');
        const { shell, dir } = args as unknown as { shell: 'bash' | 'zsh' | 'fish' | 'install'; dir?: string };
        if (shell === 'install') {
          const installed = installKubectlHelper({ dir }, io);
          io.stderr.write(`${installed.path} is in place${installed.onPath ? '' : ` (add ${installed.dir} to your PATH so kubectl finds it)`}\n`);
        } else {
          io.stdout.write(completionScript(shell));
        }
        setExit(ExitCode.ok);
      },
    )
    .command(
      'table update',
      'Build your own package table from a nix-index database or programs.sqlite (it then wins over the bundled one)',
      (y) =>
        withFlags(y, COMMANDS.table.flags)
          .example('$0 table update', 'from the nix-index database on this machine')
          .example('$0 table update --from /nix/var/nix/profiles/per-user/root/channels/nixos/programs.sqlite', 'from a NixOS channel'),
      async (args) => {
        const { tableUpdate } = await import('./table.js');
        setExit(await tableUpdate(args as unknown as { from?: string; system: string; quiet: boolean }, io));
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
        withFlags(y.positional('executables', { type: 'string', array: true, description: 'Executable names, e.g. psql grep nc' }), COMMANDS.which.flags)
          .example('$0 which psql grep nc', 'postgresql, gnugrep, netcat')
          .example('$0 which -o json bundle', 'every provider of bundle, ranked, with reasons'),
      async (args) => {
        const { whichCommand } = await import('./which.js');
        const { executables, output, all, forget } = args as unknown as { executables?: unknown[]; output?: 'json'; all: boolean; forget: boolean };
        setExit(whichCommand({ executables: (executables ?? []).map(String), output, all, forget }, io));
      },
    )
    .command(
      'image [executables..]',
      'Print the Nixery image reference for packages, pinned by digest (for Deployments and Jobs)',
      (y) =>
        withFlags(y.positional('executables', { type: 'string', array: true, description: 'Executables whose packages go into the image' }), COMMANDS.image.flags)
          .example('$0 image --shell -p google-cloud-sdk,redis,kubectl,curl,jq', 'nixery.dev/shell/curl/google-cloud-sdk/jq/kubectl/redis@sha256:…')
          .example('$0 image psql dig -o json', 'packages, tag reference, digest and architecture')
          .example('$0 image --no-preflight -p curl', 'offline: the tag reference, not pinned'),
      async (args) => {
        const { imageCommand } = await import('./image.js');
        setExit(await imageCommand(args as unknown as import('./image.js').ImageArgs, io));
      },
    )
    .command(
      'gc',
      'Delete nixrun pods whose owner is gone, that finished, or that are older than --ttl',
      (y) => withFlags(y, COMMANDS.gc.flags).example('$0 gc -A --dry-run', 'list stale pods in all namespaces'),
      async (args) => {
        const { gcCommand } = await import('./gc.js');
        setExit(await gcCommand(args as unknown as import('./gc.js').GcArgs, io, factory));
      },
    )
    .epilog(EPILOG);
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function runOptions(y: Argv, flags: Flag[] = COMMANDS.run.flags) {
  const withExecutable = y.positional('executable', {
    type: 'string',
    description: 'The command you need (psql, dig, htop…), or "shell" for an interactive bash',
  });
  return withFlags(withExecutable, flags);
}

function runExamples<T>(y: Argv<T>): Argv<T> {
  return y
    .example('$0 psql -- psql -h my-db -U app', 'psql against the service my-db')
    .example('$0 ping -- ping -c 3 my-svc', 'ping a service (ICMP works unprivileged)')
    .example('$0 --pkgs curl,gnugrep,netcat shell', 'an interactive bash with curl, grep and nc')
    .example('$0 htop', 'run htop itself')
    .example('$0 --dry-run -o yaml psql', 'print the pod, no cluster needed')
    .example('$0 ./check.sh -- --verbose', 'run a script by its #! nix-shell -i bash -p jq lines')
    .example('$0 --configmap cluster-check -- arg', 'run the script kept in ConfigMap cluster-check')
    .example('$0 --target pod/web --pkgs procps,tcpdump shell', 'tools inside a running pod (an ephemeral container)')
    .example('$0 --copy pod/web --replace app shell', 'a disposable copy of a pod, deleted on exit')
    .example('$0 node/worker-1 htop', 'on the node, in its host namespaces; / at /host');
}
