import { UsageError } from '../errors.js';
import { parseNixShellArgs } from './nix-shell.js';
import { checkProgram } from './program.js';
import { shellwords } from './shellwords.js';

/** How a script is to be run: which interpreter, with which packages in the image. */
export interface ScriptSpec {
  /** `nix-shell`: the first line runs nix-shell, which reads the `#! nix-shell` lines; `interpreter`: an ordinary `#!` line. */
  kind: 'nix-shell' | 'interpreter';
  /** The interpreter's argv, before the script's path (e.g. ["python3", "-u"]). */
  interpreter: string[];
  /** nixpkgs attributes from `-p`/`--packages`, as written (without a `pkgs.` prefix). */
  packages: string[];
  /** What was accepted but means something else in a pod (--pure, -I, --keep): one line each. */
  notes: string[];
}

/**
 * Read a script's `#!` lines the way the kernel and nix-shell do. The first line decides: if it
 * runs nix-shell (`#!/usr/bin/env nix-shell`, `#! nix-shell`, `#!/path/to/nix-shell`), every
 * later line matching nix-shell's own pattern `^#!\s*nix-shell\s+(.*)$` adds arguments
 * (nix-build.cc; it scans the whole file, not only the lines right after the first); otherwise
 * the first line names an ordinary interpreter, whose argument the kernel passes as one word.
 */
export function parseShebang(text: string, file = 'the script'): ScriptSpec {
  const lines = text.split('\n');
  const first = chomp(lines[0] ?? '');
  if (!first.startsWith('#!')) {
    throw new UsageError(
      `${file} has no #! line, so nothing says how to run it`,
      'start it with "#!/usr/bin/env bash" (add tools with --pkgs), or with "#!/usr/bin/env nix-shell" and "#! nix-shell -i bash -p jq"',
    );
  }
  const line = first.slice(2).trim();
  if (line.length === 0) throw new UsageError(`${file}: the #! line names no interpreter`, 'write e.g. "#!/usr/bin/env bash"');
  // The kernel splits the #! line once: the path, then the rest as a single argument.
  const space = line.search(/\s/);
  const path = space === -1 ? line : line.slice(0, space);
  const arg = space === -1 ? undefined : line.slice(space).trim();
  const program = basename(path);

  let words: string[];
  if (program === 'env') words = envWords(arg, file);
  else words = arg === undefined ? [program] : [program, arg];

  if (words[0] === 'nix-shell') {
    if (words.length > 1) {
      throw new UsageError(
        `${file}: options on the first line are not read by nix-shell (${words.slice(1).join(' ')})`,
        'put them on a second line: "#! nix-shell -i bash -p jq"',
      );
    }
    const args = lines
      .slice(1)
      .map(chomp)
      .flatMap((l) => {
        const m = /^#!\s*nix-shell\s+(.*)$/.exec(l);
        return m ? shellwords(m[1]!) : [];
      });
    const parsed = parseNixShellArgs(args, file);
    return { kind: 'nix-shell', interpreter: parsed.interpreter, packages: parsed.packages, notes: parsed.notes };
  }
  checkProgram(words[0]!, file);
  return { kind: 'interpreter', interpreter: words, packages: [], notes: [] };
}

/**
 * `#!/usr/bin/env NAME` runs NAME; `env -S "a b"` splits its argument (coreutils 8.30+). Without
 * -S the kernel hands `python3 -u` to env as one name, which fails on every system.
 */
function envWords(arg: string | undefined, file: string): string[] {
  if (arg === undefined) throw new UsageError(`${file}: "#!/usr/bin/env" names no program`, 'write e.g. "#!/usr/bin/env bash"');
  if (arg.startsWith('-S')) {
    const words = arg.slice(2).trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) throw new UsageError(`${file}: "#!/usr/bin/env -S" names no program`, 'write e.g. "#!/usr/bin/env -S python3 -u"');
    return words;
  }
  if (arg.startsWith('-')) throw new UsageError(`${file}: env options other than -S are not supported in the #! line (${arg})`, 'name the program: "#!/usr/bin/env python3"');
  if (/\s/.test(arg)) throw new UsageError(`${file}: "#!/usr/bin/env ${arg}" passes "${arg}" to env as one program name`, `write "#!/usr/bin/env -S ${arg}"`);
  return [arg];
}

/** nix's chomp: trailing whitespace (and a \r of CRLF files) goes. */
function chomp(s: string): string {
  return s.replace(/[ \t\r\n]+$/, '');
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i === -1 ? p : p.slice(i + 1);
}

/**
 * The container's argv for the script at `path` with the user's `args`, as nix-shell builds it
 * (`exec INTERPRETER SCRIPT ARGS`), without any shell string made from user data. nix-shell's two
 * interpreter hacks are kept: Ruby reads the #! line itself, so it gets `-e 'load(ARGV.shift)'`;
 * Perl re-runs the #! program unless argv[0] lacks "perl", so it runs as `exec -a PERL` under a
 * constant bash script that takes everything else as "$@".
 */
export function scriptCommand(spec: ScriptSpec, path: string, args: string[]): string[] {
  const interp = spec.interpreter;
  if (spec.kind === 'nix-shell' && /ruby/.test(interp[0]!)) return [...interp, '-e', 'load(ARGV.shift)', '--', path, ...args];
  if (spec.kind === 'nix-shell' && /perl/.test(interp[0]!)) return ['bash', '-c', 'exec -a PERL "$@"', 'nixrun-perl', ...interp, path, ...args];
  return [...interp, path, ...args];
}
