/**
 * Ranking of the packages that provide one executable, so that the first is what a user means.
 * The same function orders candidates when the table is built and explains them at run time
 * (`which -o json`), so the reasons always match the order.
 *
 * Lower score ranks first. Each signal below was kept because it fixed a class of wrong picks on
 * the everyday list (test/unit/resolve/everyday-list.ts, 218 commands): 89.4% right before them,
 * 100% with them; `node bench/rank-signals.mjs` switches each off and lists what flips (without
 * Debian's hints 97.2%; without them and the reimplementation pattern 94.0%):
 *
 * - name: an attribute named like the executable (htop, jq) is what people mean, unless a
 *   mainstream distribution ships that executable from another project (drill: nixpkgs' `drill`
 *   is an HTTP load tester, Debian's /usr/bin/drill is ldns's DNS tool).
 * - distro: Debian's choice for /usr/bin/X (its Contents index, mapped to attributes by package and
 *   source name): util-linux for nsenter, diffutils for diff, iproute2 for bridge, mariadb for
 *   mysqldump, coreutils for base64. The strongest general signal; required/important packages
 *   (the base system) count more than optional ones.
 * - variant: a candidate whose store name (pname) or attribute is another candidate's with a
 *   suffix (util-linux-minimal under the alias libuuid, systemd-minimal, iptables-legacy, _15).
 * - reimplementation: uutils-*, u-root, gash-utils, 9base, sbase, busybox, toybox, klibc lose to
 *   the originals, by name pattern (a class, not a list of executables).
 * - bundle: a package with very many executables is an umbrella, unless the executable is central
 *   to it (ip6tables in iptables, kafka-topics.sh in apache-kafka: its name shares the package's).
 * - arch: on arm64, a package nixpkgs does not build for aarch64-linux loses to one it does.
 */
export interface AttrInfo {
  attr: string;
  /** How many executables the attribute ships: a big number means an umbrella package. */
  exeCount: number;
  /** Systems of the table that do not build it (e.g. aarch64-linux for an x86-only package). */
  missingOn?: string[];
  /**
   * The store path's package name without version and output (util-linux-minimal for libuuid),
   * when it differs from the attribute's last segment: aliases and variants show here.
   */
  pname?: string;
  /** The store name's version (2.41.3): two attributes of one upstream release share it. */
  version?: string;
}

/** Debian's package for /usr/bin/X (or /bin, /sbin, /usr/sbin), with its source package. */
export interface DistroHint {
  pkg: string;
  /** Source package, when it differs from the binary package. */
  src?: string;
  /** Debian priority: required/important mark the base system. */
  base?: boolean;
}

export interface RankOptions {
  /** Debian's providers of this executable (from the table). */
  distro?: DistroHint[];
  /** The target system: candidates not built for it lose (aarch64-linux for --arch arm64). */
  system?: string;
}

export interface Ranked {
  attr: string;
  score: number;
  reasons: string[];
  nixery: 'ok' | 'casefold';
}

/** The weights of the signals; exported so that bench/rank-signals.mjs can switch one off. */
export const WEIGHTS = {
  override: -1000,
  name: -100,
  nameNested: -20,
  /** The name bonus left when Debian ships the executable from another project. */
  nameDisputed: -30,
  nested: 40,
  internal: 300,
  umbrella: 60,
  bundle: 30,
  distro: -60,
  distroBase: -80,
  variant: 15,
  versioned: 10,
  buildVariant: 8,
  notBuilt: 200,
};

/**
 * Signals switched off, by name: for measuring what each one is worth (bench/rank-signals.mjs);
 * empty in normal use. Names: distro, namesake, sameRelease, reimplementation, central, familyBase, pnameVariant.
 */
export const DISABLED = new Set<string>();
const on = (signal: string) => !DISABLED.has(signal);

/** Packages that ship hundreds of tools, or whole applications, that happen to include the binary. */
const UMBRELLAS = new Set([
  'busybox',
  'toybox',
  'u-root-cmds',
  '_9base',
  'gash-utils',
  'sbase',
  'ubase',
  'uutils-coreutils',
  'uutils-coreutils-noprefix',
  'mastodon',
  'zammad',
  'gotools',
  'docuseal',
  'dawarich',
  'plan9port',
  'heirloom',
  'graalvmPackages.truffleruby',
  'toolbox',
  'bashInteractive',
]);
/**
 * Reimplementations and multi-call rewrites of the classic tools: they lose to the originals.
 * Matched on the attribute and on the store name, so their variants and aliases lose too.
 */
const REIMPLEMENTATION = /^(uutils-|u-root|gash-utils|_?9base|sbase|ubase|busybox|toybox|klibc|heirloom|mescc-tools|deterministic-|minimal-bootstrap)/;
const INTERNAL = /^(minimal-bootstrap|stdenv|bootstrapTools|pkgsStatic|pkgsMusl|pkgsCross|pkgsi686Linux|pkgsLLVM|pkgsx86_64Darwin|darwin)\b|bootstrap/i;
const VARIANT = /(-unwrapped|Unwrapped|-full|Full|-minimal|Minimal|-small|Small|-static|Static|_jit|-jit|-nox|-headless|Headless|-bin|-wrapped|WithGnuTls|-git|-beta|_latest|-latest|FreeThreading|-slim|Test|-gui|-vim|_hpn|_gssapi|WithKerberos|-doc|-legacy|-lts|-cuda|-rocm)$/;
/** Suffixes of a store name that make it a variant of the plain one (util-linux-minimal). */
const PNAME_VARIANT = /-(minimal|small|full|static|unwrapped|wrapped|headless|nox|slim|legacy|lts|bin|jit|cuda|rocm|gui|with-[a-z-]+)$/;
const VERSIONED = /(_\d+(_\d+)*|\d+)$/;
const UMBRELLA_EXES = 40;

/** Can Nixery serve it? Only the first segment is matched case-insensitively (nixery.md §1.5). */
export function nixeryReach(attr: string): 'ok' | 'casefold' | 'unreachable' {
  const segs = attr.split('.');
  if (segs.some((s) => s.length === 0 || !/^[A-Za-z0-9_][A-Za-z0-9_+-]*$/.test(s) || /\+/.test(s))) return 'unreachable';
  if (segs.slice(1).some((s) => /[A-Z]/.test(s))) return 'unreachable';
  return /[A-Z]/.test(segs[0]!) ? 'casefold' : 'ok';
}

/** attr "a" is the base of "a_15", "a-gnu", "aFull": another candidate is then a variant of it. */
function isVariantOf(variant: string, base: string): boolean {
  if (variant.length <= base.length || !variant.startsWith(base)) return false;
  const next = variant[base.length]!;
  return next === '-' || next === '_' || next === '.' || /[A-Z0-9]/.test(next);
}

/**
 * The store name of a nix-index record without version and output, like Nix's parseDrvName:
 * "util-linux-minimal-2.41.3-bin" (output bin) → "util-linux-minimal".
 */
export function storePname(name: string, output = 'out'): { pname: string; version: string } {
  let n = name;
  if (output !== 'out' && n.endsWith(`-${output}`)) n = n.slice(0, -output.length - 1);
  const m = /-\d/.exec(n);
  return m ? { pname: n.slice(0, m.index), version: n.slice(m.index + 1) } : { pname: n, version: '' };
}

/** A name reduced for matching across naming schemes: lower case, letters and digits only. */
const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * The names a Debian package maps to in nixpkgs: itself, and without a version or the usual
 * packaging suffixes (mariadb-client-core → mariadb, postgresql-client-15 → postgresql,
 * bind9 → bind, python3-minimal → python3).
 */
export function debianKeys(name: string): string[] {
  const keys = new Set<string>([name]);
  let n = name.replace(/\.io$/, '');
  for (let i = 0; i < 4; i++) {
    n = n.replace(/-?\d+(\.\d+)*$/, '').replace(/-(client|server|core|common|bin|tools|utils|minimal|cli|progs)$/, '');
    keys.add(n);
  }
  return [...keys].filter((k) => k.length >= 2);
}

/** The candidate's own names (attribute, last segment, store name), for matching Debian's names. */
function ownNames(c: AttrInfo): string[] {
  const last = c.attr.split('.').pop()!;
  const names = [last, c.pname ?? last];
  return [...new Set(names.flatMap((n) => [n.toLowerCase(), n.toLowerCase().replace(/^gnu(?=[a-z])/, '')]))];
}

/** Which of Debian's packages names this candidate (by binary or source package name)? */
export function distroMatch(c: AttrInfo, hints: DistroHint[]): DistroHint | undefined {
  const own = new Set(ownNames(c));
  return hints.find((h) => [h.pkg, h.src ?? h.pkg].some((n) => debianKeys(n).some((k) => own.has(k))));
}

/** Does the executable's name carry the package's (ip6tables in iptables, kafka-topics.sh in apache-kafka)? */
function isCentral(exe: string, c: AttrInfo): boolean {
  const e = squash(exe).replace(/\d+/g, '');
  return ownNames(c).some((n) => {
    const p = squash(n).replace(/^(apache|gnu|lib)/, '');
    if (p.length < 3) return false;
    return e.includes(p) || p.includes(e) || (e.length >= 4 && p.startsWith(e.slice(0, 4)));
  });
}

export function rankCandidates(exe: string, candidates: AttrInfo[], overrides: Record<string, { attr: string; reason: string }> = {}, opts: RankOptions = {}): Ranked[] {
  const W = WEIGHTS;
  const names = candidates.map((c) => c.attr);
  const pnames = new Set(candidates.map((c) => (c.pname ?? c.attr.split('.').pop()!).toLowerCase()));
  const hints = opts.distro ?? [];
  // Debian's choice names top-level attributes only: a package set's member (kdePackages.step,
  // python3Packages.x) is a library or a desktop app that happens to share the name.
  const distroOf = new Map(candidates.map((c) => [c.attr, on('distro') && hints.length > 0 && !c.attr.includes('.') ? distroMatch(c, hints) : undefined]));
  const distroPicks = candidates.filter((c) => distroOf.get(c.attr));
  // The full package of a family whose smaller variants are also candidates (systemd beside
  // systemdMinimal, apacheKafka beside apacheKafka_3_9) is not an umbrella: it is the original.
  const pnameOf = (c: AttrInfo) => (c.pname ?? c.attr.split('.').pop()!).toLowerCase();
  const isFamilyBase = (c: AttrInfo) =>
    candidates.some((o) => o !== c && (isVariantOf(o.attr, c.attr) || (PNAME_VARIANT.test(pnameOf(o)) && pnameOf(o).replace(PNAME_VARIANT, '') === pnameOf(c))));
  const ranked = candidates.map((c): Ranked => {
    const { attr, exeCount } = c;
    let score = 0;
    const reasons: string[] = [];
    const last = attr.split('.').pop()!;
    const pname = (c.pname ?? last).toLowerCase();
    const nested = attr.includes('.');
    const override = overrides[exe];
    if (override && override.attr === attr) {
      score += W.override;
      reasons.push(`chosen by the reviewed overrides: ${override.reason}`);
    }
    const deb = distroOf.get(attr);
    if (last.toLowerCase() === exe.toLowerCase()) {
      // Named like the executable, but Debian ships it from another project that is also a
      // candidate, and this one is not that project under another name: a namesake (drill, whoami).
      // (kubectl is kubernetes 1.35.3 split out: same version, so not a namesake.)
      const other = on('namesake') && !deb && distroPicks.find((d) => !pname.includes((d.pname ?? d.attr).toLowerCase()) && !(on('sameRelease') && c.version && c.version === d.version));
      if (other && !nested) {
        score += W.nameDisputed;
        reasons.push(`named like the executable, but Debian's ${exe} is ${describeHint(distroOf.get(other.attr)!)}, which is ${other.attr}`);
      } else {
        score += nested ? W.nameNested : W.name;
        reasons.push(nested ? 'nested attribute named like the executable' : 'attribute named like the executable');
      }
    }
    if (deb) {
      score += deb.base ? W.distroBase : W.distro;
      reasons.push(`Debian ships ${exe} in ${describeHint(deb)}`);
    }
    if (nested) {
      score += W.nested;
      reasons.push('nested attribute (a top-level one is preferred)');
    }
    if (INTERNAL.test(attr)) {
      score += W.internal;
      reasons.push('bootstrap or cross/static package set');
    }
    if (UMBRELLAS.has(attr) || (on('reimplementation') && (REIMPLEMENTATION.test(attr) || REIMPLEMENTATION.test(pname)))) {
      score += W.umbrella;
      reasons.push('a reimplementation or umbrella package (uutils, busybox, toybox, u-root, …): the original is preferred');
    } else if (exeCount > UMBRELLA_EXES && !(on('central') && isCentral(exe, c)) && !(on('familyBase') && isFamilyBase(c))) {
      score += W.bundle;
      reasons.push(`ships ${exeCount} executables (a big bundle) and ${exe} is not named after it`);
    }
    const base = names.find((n) => n !== attr && isVariantOf(attr, n));
    const pbase = PNAME_VARIANT.test(pname) ? pname.replace(PNAME_VARIANT, '') : undefined;
    if (base) {
      score += W.variant;
      reasons.push(`variant of ${base}`);
    } else if (on('pnameVariant') && pbase && pnames.has(pbase)) {
      score += W.variant;
      reasons.push(`its store name ${pname} is a variant of ${pbase}, also a candidate`);
    } else if (VERSIONED.test(last) && !/^_?\d/.test(last) && names.some((n) => n !== attr && !VERSIONED.test(n.split('.').pop()!))) {
      score += W.versioned;
      reasons.push('versioned attribute');
    }
    if (VARIANT.test(last)) {
      score += W.buildVariant;
      reasons.push('build variant (unwrapped, full, minimal, static, …)');
    }
    if (opts.system && c.missingOn?.includes(opts.system)) {
      score += W.notBuilt;
      reasons.push(`not built for ${opts.system} in nixpkgs`);
    }
    // Small dedicated packages first: a gentle slope with the number of executables.
    score += Math.log2(1 + exeCount);
    if (reasons.length === 0) reasons.push(`provides ${exe} (${exeCount} executable${exeCount === 1 ? '' : 's'} in all)`);
    const reach = nixeryReach(attr);
    return { attr, score, reasons, nixery: reach === 'casefold' ? 'casefold' : 'ok' };
  });
  return ranked.sort((a, b) => a.score - b.score || a.attr.length - b.attr.length || (a.attr < b.attr ? -1 : 1));
}

function describeHint(h: DistroHint): string {
  return `${h.pkg}${h.src && h.src !== h.pkg ? ` (source ${h.src})` : ''}${h.base ? ', part of the base system' : ''}`;
}

/** The winner is clear-cut when it is alone, exact, or the runner-up is plainly worse. */
export function isClearCut(ranked: Array<{ score: number }>): boolean {
  if (ranked.length <= 1) return true;
  return ranked[1]!.score - ranked[0]!.score >= 8;
}

/** Two candidates the ranking cannot tell apart at all. */
export function isAmbiguous(ranked: Array<{ score: number }>): boolean {
  return ranked.length > 1 && Math.abs(ranked[1]!.score - ranked[0]!.score) < 0.5;
}
