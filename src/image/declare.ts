import { UsageError } from '../errors.js';
import { checkExecutableName, checkPackageOrExecutable, splitCommaList } from '../plan/names.js';
import { resolveExecutable, resolvePackage, type Resolution, type Table } from '../resolve/index.js';
import { buildImageRef, type Arch, type ImageRef } from './ref.js';

export interface DeclareInput {
  executables: string[];
  pkgs: string[];
  shell: boolean;
  arch: Arch;
  registry: string;
  tag?: string;
}

export interface DeclaredImage {
  image: ImageRef;
  arch: Arch;
  resolutions: Resolution[];
  /** Things to tell the user (a package the shell meta-package already holds). */
  notes: string[];
}

// What Nixery's `shell` meta-package is made of: naming them again adds nothing.
const IN_SHELL = new Set(['bashInteractive', 'coreutils', 'moreutils', 'nano']);

/**
 * The image `kubectl nixrun image` prints: exactly the packages named (executables resolved by
 * the table, attributes as given), no tini, gate or fakenss, since the image is for the user's own
 * Deployment or Job, not for a session. A tie between providers is an error (nobody is asked).
 */
export function declareImage(input: DeclareInput, table: Table): DeclaredImage {
  const requested = splitCommaList(input.pkgs);
  let shell = input.shell;
  const names: string[] = [];
  for (const p of requested) {
    if (p === 'shell') shell = true;
    else if (p === 'arm64' || p === 'amd64') throw new UsageError(`--pkgs ${p}: the architecture is --arch ${p}`);
    else names.push(p);
  }
  for (const e of input.executables) checkExecutableName(e);
  for (const p of names) checkPackageOrExecutable(p);
  const lookup = input.arch === 'arm64' ? { system: 'aarch64-linux' } : {};
  const resolutions = [...input.executables.map((e) => resolveExecutable(table, e, lookup)), ...names.map((p) => resolvePackage(table, p, lookup))];
  const tie = resolutions.find((r) => r.via === 'executable' && r.ambiguous);
  if (tie) {
    const cands = tie.candidates.slice(0, 4).map((c) => c.attr);
    throw new UsageError(`"${tie.input}" is provided equally by ${cands.join(', ')}: choose one`, `kubectl nixrun image -p ${cands[0]}`);
  }
  const notes: string[] = [];
  let packages = [...new Set(resolutions.map((r) => r.attr))];
  if (shell) {
    const dropped = packages.filter((p) => IN_SHELL.has(p));
    if (dropped.length > 0) notes.push(`${dropped.join(', ')}: already in Nixery's shell meta-package`);
    packages = packages.filter((p) => !IN_SHELL.has(p));
  }
  if (packages.length === 0 && !shell) throw new UsageError('no packages named', 'e.g. kubectl nixrun image --shell -p curl,jq');
  const image = buildImageRef({ registry: input.registry, packages, shell, arch: input.arch, tag: input.tag });
  return { image, arch: input.arch, resolutions, notes };
}
