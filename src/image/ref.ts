import { UsageError } from '../errors.js';

export type Arch = 'amd64' | 'arm64';

export interface RefInput {
  /** host[:port], e.g. nixery.dev */
  registry: string;
  /** nixpkgs attribute paths as resolved: may hold capitals, dots, a leading `_` before a digit. */
  packages: string[];
  shell: boolean;
  arch: Arch;
  tag?: string;
}

export interface ImageRef {
  registry: string;
  metas: string[];
  /** Normalised, de-duplicated, sorted. */
  packages: string[];
  path: string;
  tag?: string;
  /** registry/path[:tag] */
  ref: string;
}

/** Nixery's only meta-packages; they must come first in the path (nixery.md §1.2). */
const META_ORDER = ['shell', 'arm64'] as const;
// distribution/reference path-component grammar (nixery.md §1.7).
const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const SEGMENT_RE = /^[a-z0-9]+(?:(?:_|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/;
const IPV6_HOST_RE = /^\[[0-9a-f:]+\](?::\d{1,5})?$/;
const MAX_REFERENCE = 255;
const SEARCH_HINT = 'see https://search.nixos.org/packages for attribute names';

/**
 * One nixpkgs attribute path → one Nixery path component. Nixery folds only the top-level
 * attribute to lower case, so a capital in a nested segment (haskellPackages.QuickCheck) can
 * never be served: that is an error, not a warning, because the request would 404 for sure.
 */
export function normalizePackage(attr: string): string {
  if (attr.length === 0) throw new UsageError('empty package name', SEARCH_HINT);
  if (attr.length > 200) throw new UsageError(`package name too long (${attr.length} characters)`, SEARCH_HINT);
  // Nix identifiers cannot start with a digit, so nixpkgs writes _1password-cli; Nixery puts
  // the underscore back for any name starting with a digit (nixery.md §1.6).
  const undigit = /^_[0-9]/.test(attr) ? attr.slice(1) : attr;
  const segments = undigit.split('.');
  if (segments.some((s) => s.length === 0)) {
    throw new UsageError(`invalid package name ${JSON.stringify(attr)}: empty attribute segment (".." or a leading/trailing dot)`, SEARCH_HINT);
  }
  segments.slice(1).forEach((seg) => {
    if (/[A-Z]/.test(seg)) {
      throw new UsageError(
        `package ${JSON.stringify(attr)} cannot be served by Nixery: only the first attribute segment is matched case-insensitively, and "${seg}" has capitals`,
        'pick a top-level attribute that provides the same program, or run your own Nixery with an overlay',
      );
    }
  });
  const component = segments.map((s, i) => (i === 0 ? s.toLowerCase() : s)).join('.');
  for (const seg of component.split('.')) {
    if (!SEGMENT_RE.test(seg)) {
      throw new UsageError(
        `invalid package name ${JSON.stringify(attr)}: nixpkgs attribute names are letters, digits, '-' and '_' (dots between nested attributes)`,
        SEARCH_HINT,
      );
    }
  }
  if (!COMPONENT_RE.test(component)) {
    throw new UsageError(`invalid package name ${JSON.stringify(attr)}: not a valid image path component`, SEARCH_HINT);
  }
  return component;
}

/** host[:port], lower case; no scheme and no path (Nixery serves at the root). */
export function validateRegistry(host: string): string {
  const h = host.trim();
  if (h.length === 0) throw new UsageError('empty --registry', 'give a host such as nixery.dev or nixery.internal:5000');
  if (/^[a-z]+:\/\//i.test(h)) {
    throw new UsageError(`--registry ${JSON.stringify(host)} must be a host, not a URL`, `use ${h.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '')}`);
  }
  if (h.includes('/')) throw new UsageError(`--registry ${JSON.stringify(host)} must be a host[:port] without a path`, 'Nixery serves images at the root of its host');
  if (h !== h.toLowerCase()) throw new UsageError(`--registry ${JSON.stringify(host)} must be lower case`);
  if (!HOST_RE.test(h) && !IPV6_HOST_RE.test(h)) throw new UsageError(`invalid --registry ${JSON.stringify(host)}: expected host or host:port`);
  const port = /:(\d+)$/.exec(h)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw new UsageError(`invalid port in --registry ${JSON.stringify(host)}`);
  return h;
}

/** The Nixery reference for a set of packages (nixery.md §8). */
export function buildImageRef(input: RefInput): ImageRef {
  const registry = validateRegistry(input.registry);
  let shell = input.shell;
  let arch = input.arch;
  const comps = new Set<string>();
  for (const p of input.packages) {
    // A user may name the meta-packages among the packages; they must go to the front.
    const lower = p.toLowerCase();
    if (lower === 'shell') {
      shell = true;
      continue;
    }
    if (lower === 'arm64') {
      // The meta-package, named among the packages (an explicit --arch amd64 is refused earlier).
      arch = 'arm64';
      continue;
    }
    // Not a Nixery meta-package (amd64 is the default): sending it would look up pkgs.amd64.
    if (lower === 'amd64') continue;
    comps.add(normalizePackage(p));
  }
  const metas = META_ORDER.filter((m) => (m === 'shell' ? shell : arch === 'arm64'));
  const packages = [...comps].sort();
  if (packages.length === 0 && !shell) {
    throw new UsageError('no packages to build an image from', 'name an executable, or use --pkgs with shell');
  }
  const path = [...metas, ...packages].join('/');
  const full = `${registry}/${path}`;
  if (full.length > MAX_REFERENCE) {
    throw new UsageError(
      `image reference too long (${full.length} characters, at most ${MAX_REFERENCE}): ${packages.length} packages`,
      'use fewer packages, or run several sessions',
    );
  }
  const tag = input.tag === undefined ? undefined : validateTag(input.tag);
  return { registry, metas, packages, path, tag, ref: tag === undefined ? full : `${full}:${tag}` };
}

/** A Docker tag (Nixery: a branch or commit of its git source). */
export function validateTag(tag: string): string {
  if (!TAG_RE.test(tag)) {
    throw new UsageError(`invalid --tag ${JSON.stringify(tag)}: letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'`);
  }
  return tag;
}

/** registry/path@sha256:… : the tag is dropped, the digest is the real pin (nixery.md §2.4). */
export function withDigest(ref: ImageRef, digest: string): string {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`not a sha256 digest: ${digest}`);
  return `${ref.registry}/${ref.path}@${digest}`;
}
