import { UsageError } from '../errors.js';
import { checkProgram } from './program.js';

export interface NixShellArgs {
  interpreter: string[];
  packages: string[];
  notes: string[];
}

// nix-build's common build options (LegacyArgs): harmless here, since nothing is built locally.
const IGNORED_SWITCHES = new Set(['-v', '--verbose', '-Q', '--no-build-output', '-K', '--keep-failed', '-k', '--keep-going', '--fallback', '--show-trace', '--repair', '--impure', '--no-out-link', '--no-link', '--dry-run', '--add-drv-link', '--indirect', '--check']);
const IGNORED_WITH_VALUE = new Set(['-j', '--max-jobs', '--cores', '--max-silent-time', '--timeout', '-o', '--out-link', '--exclude', '--drv-link']);

// An attribute path as `-p` takes it when it is not an expression (quoted names like "a.b" aside).
const ATTR_PATH_RE = /^[A-Za-z_][A-Za-z0-9_'-]*(?:\.[A-Za-z_][A-Za-z0-9_'-]*)*$/;

/**
 * nix-shell's options from the `#! nix-shell` lines, read as nix-build.cc reads them: `-i` takes
 * the next word (the last one wins), `-p`/`--packages` anywhere makes every non-option word a
 * package, and without it the words would be Nix files (shell.nix). What only a Nix evaluator can
 * do is refused with what to write instead.
 */
export function parseNixShellArgs(args: string[], file = 'the script'): NixShellArgs {
  let interpreter: string[] | undefined;
  let packagesMode = false;
  const words: string[] = [];
  const notes: string[] = [];
  const value = (i: number, flag: string, what: string): string => {
    const v = args[i + 1];
    if (v === undefined) throw new UsageError(`${file}: ${flag} in a #! nix-shell line needs ${what}`, flag === '-i' ? 'e.g. "#! nix-shell -i bash -p jq"' : undefined);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-i') {
      interpreter = interpreterWords(value(i, '-i', 'an interpreter'), file);
      i++;
    } else if (a === '-p' || a === '--packages') packagesMode = true;
    else if (a === '--pure') notes.push('--pure: the pod never sees this machine’s environment anyway, only the image’s and your --env');
    else if (a === '--keep') {
      const name = value(i++, a, 'a variable name');
      notes.push(`--keep ${name}: nothing of this machine’s environment reaches the pod; pass it with --env ${name}=…`);
    } else if (a === '-I' || a === '--include') {
      const path = value(i++, a, 'a search path');
      notes.push(`-I ${path}: ignored; the registry’s nixpkgs decides the versions (on a self-hosted Nixery, --tag picks a nixpkgs commit)`);
    } else if (a === '--arg' || a === '--argstr' || a === '--option') {
      const name = value(i++, a, 'a name and a value');
      value(i++, a, 'a name and a value');
      notes.push(`${a} ${name}: ignored (it only affects Nix evaluation)`);
    } else if (a === '-E' || a === '--expr') {
      throw new UsageError(`${file}: ${a} (a Nix expression) cannot become an image`, 'list nixpkgs attributes instead: "#! nix-shell -i bash -p jq curl"');
    } else if (a === '--run' || a === '--command') {
      throw new UsageError(`${file}: ${a} is not supported in #! nix-shell lines`, 'name the interpreter with -i; the script itself is what runs');
    } else if (a === '-A' || a === '--attr' || a === '-') {
      throw new UsageError(`${file}: ${a} selects from a Nix file or expression, which cannot become an image`, 'list nixpkgs attributes with -p instead');
    } else if (IGNORED_SWITCHES.has(a)) continue;
    else if (IGNORED_WITH_VALUE.has(a)) {
      value(i++, a, 'a value');
    } else if (a.startsWith('-') && a !== '') {
      throw new UsageError(`${file}: unknown option ${JSON.stringify(a)} in a #! nix-shell line`, 'nix-shell would refuse it too: see nix-shell --help');
    } else words.push(a);
  }
  if (!packagesMode) {
    const what = words.length > 0 ? `the Nix file ${words.join(', ')}` : 'shell.nix or default.nix (no -p)';
    throw new UsageError(`${file}: the #! nix-shell lines use ${what}, which cannot become an image`, 'list the packages instead: "#! nix-shell -i bash -p jq curl"');
  }
  if (words.length === 0) throw new UsageError(`${file}: -p in the #! nix-shell lines names no packages`, 'e.g. "#! nix-shell -i bash -p jq curl"');
  const packages = words.map((w) => packageName(w, file));
  if (interpreter === undefined) {
    // nix-shell without -i would start an interactive shell instead of running the script.
    throw new UsageError(`${file}: the #! nix-shell lines name no interpreter (-i)`, 'add one, e.g. "#! nix-shell -i bash -p jq"');
  }
  return { interpreter, packages, notes };
}

/**
 * nix-shell splices `-i`'s word into `exec INTERPRETER SCRIPT` unquoted, so `-i "python3 -u"` is
 * the interpreter with an argument. Split on whitespace only: anything a shell would interpret
 * beyond that ($, ;, |, quotes) is refused rather than imitated.
 */
function interpreterWords(word: string, file: string): string[] {
  const parts = word.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) throw new UsageError(`${file}: -i in a #! nix-shell line needs an interpreter`, 'e.g. "#! nix-shell -i bash -p jq"');
  for (const p of parts) {
    if (/[$`;|&<>()'"\\*?{}[\]]/.test(p)) {
      throw new UsageError(`${file}: -i ${JSON.stringify(word)} needs a shell to mean anything`, 'name the program and its options only, e.g. -i "python3 -u"');
    }
  }
  // An absolute interpreter (-i /usr/bin/python3) exists on the machine nix-shell ran on, not in the image: its name is looked up instead.
  parts[0] = parts[0]!.slice(parts[0]!.lastIndexOf('/') + 1);
  checkProgram(parts[0], file);
  return parts;
}

/** A `-p` word: an attribute path (nix-shell evaluates it inside `with pkgs;`, so `pkgs.jq` is jq). */
function packageName(word: string, file: string): string {
  const name = word.startsWith('pkgs.') ? word.slice('pkgs.'.length) : word;
  if (ATTR_PATH_RE.test(name)) return name;
  throw new UsageError(`${file}: -p ${JSON.stringify(word)} is a Nix expression, and an image is named by attributes only`, expressionAdvice(word));
}

/** `python3.withPackages (ps: [ ps.requests ])` → "-p python3 python3Packages.requests". */
export function expressionAdvice(expr: string): string {
  const m = /^\s*\(?\s*([A-Za-z_][\w.-]*?)\.(withPackages|ghcWithPackages)\s*\(\s*([A-Za-z_]\w*)\s*:\s*(?:with\s+\3\s*;\s*)?\[([^\]]*)\]\s*\)\s*\)?\s*$/.exec(expr);
  if (m) {
    const [, base, fn, ps, list] = m as unknown as [string, string, string, string, string];
    const set = fn === 'ghcWithPackages' ? base : `${base}Packages`;
    const items = list.split(/\s+/).filter(Boolean).map((x) => (x.startsWith(`${ps}.`) ? x.slice(ps.length + 1) : x));
    const interp = fn === 'ghcWithPackages' ? [] : [base];
    return `list the attributes instead: "#! nix-shell -p ${[...interp, ...items.map((x) => `${set}.${x}`)].join(' ')}"`;
  }
  return 'list nixpkgs attributes instead, e.g. "#! nix-shell -i python3 -p python3 python3Packages.requests"';
}
