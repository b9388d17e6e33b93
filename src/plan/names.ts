import { UsageError } from '../errors.js';
import { normalizePackage } from '../image/ref.js';
import { isDnsSubdomain } from '../pod/parse.js';

/** Commands that need Nixery's `shell` meta-package (bash, coreutils) to exist in the image. */
export const SHELL_COMMANDS = new Set(['bash', 'sh']);

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
export function checkPackageOrExecutable(name: string): void {
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

export function checkDnsName(flag: string, value: string): void {
  if (!isDnsSubdomain(value)) throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: expected a lower-case DNS name`);
}

/** `-p a,b -p c` → [a, b, c]; empty items (a trailing comma) are dropped. */
export function splitCommaList(items: string[] | undefined): string[] {
  return (items ?? []).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
}
