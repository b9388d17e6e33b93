/**
 * Ranking of the packages that provide one executable, so that the first is what a user means.
 * The same function orders candidates when the table is built and explains them at run time
 * (`which -o json`), so the reasons always match the order.
 */
export interface AttrInfo {
  attr: string;
  /** How many executables the attribute ships: a big number means an umbrella package. */
  exeCount: number;
  /** Systems of the table that do not build it (e.g. aarch64-linux for an x86-only package). */
  missingOn?: string[];
}

export interface Ranked {
  attr: string;
  score: number;
  reasons: string[];
  nixery: 'ok' | 'casefold';
}

/** Packages that ship hundreds of tools, or whole applications, that happen to include the binary. */
const UMBRELLAS = new Set([
  'busybox',
  'toybox',
  'u-root-cmds',
  'mastodon',
  'zammad',
  'gotools',
  'docuseal',
  'dawarich',
  '_9base',
  'plan9port',
  'gash-utils',
  'sbase',
  'ubase',
  'uutils-coreutils',
  'uutils-coreutils-noprefix',
  'heirloom',
  'graalvmPackages.truffleruby',
  'toolbox',
  'bashInteractive',
]);
const INTERNAL = /^(minimal-bootstrap|stdenv|bootstrapTools|pkgsStatic|pkgsMusl|pkgsCross|pkgsi686Linux|pkgsLLVM|pkgsx86_64Darwin|darwin)\b|bootstrap/i;
const VARIANT = /(-unwrapped|Unwrapped|-full|Full|-minimal|Minimal|-static|Static|_jit|-jit|-nox|-headless|Headless|-bin|-wrapped|WithGnuTls|-git|-beta|_latest|-latest|FreeThreading|-slim|Test|-gui|-vim|_hpn|_gssapi|WithKerberos|-doc)$/;
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

/** Lower score ranks first. */
export function rankCandidates(exe: string, candidates: AttrInfo[], overrides: Record<string, { attr: string; reason: string }> = {}): Ranked[] {
  const names = candidates.map((c) => c.attr);
  const ranked = candidates.map(({ attr, exeCount }): Ranked => {
    let score = 0;
    const reasons: string[] = [];
    const last = attr.split('.').pop()!;
    const nested = attr.includes('.');
    const override = overrides[exe];
    if (override && override.attr === attr) {
      score -= 1000;
      reasons.push(`chosen by the reviewed overrides: ${override.reason}`);
    }
    if (last.toLowerCase() === exe.toLowerCase()) {
      score -= nested ? 20 : 100;
      reasons.push(nested ? 'nested attribute named like the executable' : 'attribute named like the executable');
    }
    if (nested) {
      score += 40;
      reasons.push('nested attribute (a top-level one is preferred)');
    }
    if (INTERNAL.test(attr)) {
      score += 300;
      reasons.push('bootstrap or cross/static package set');
    }
    if (UMBRELLAS.has(attr)) {
      score += 60;
      reasons.push('umbrella package that happens to ship it');
    } else if (exeCount > UMBRELLA_EXES) {
      score += 30;
      reasons.push(`ships ${exeCount} executables (a big bundle)`);
    }
    const base = names.find((n) => n !== attr && isVariantOf(attr, n));
    if (base) {
      score += 15;
      reasons.push(`variant of ${base}`);
    } else if (VERSIONED.test(last) && !/^_?\d/.test(last) && names.some((n) => n !== attr && !VERSIONED.test(n.split('.').pop()!))) {
      score += 10;
      reasons.push('versioned attribute');
    }
    if (VARIANT.test(last)) {
      score += 8;
      reasons.push('build variant (unwrapped, full, minimal, static, …)');
    }
    // Small dedicated packages first: a gentle slope with the number of executables.
    score += Math.log2(1 + exeCount);
    if (reasons.length === 0) reasons.push(`provides ${exe} (${exeCount} executable${exeCount === 1 ? '' : 's'} in all)`);
    const reach = nixeryReach(attr);
    return { attr, score, reasons, nixery: reach === 'casefold' ? 'casefold' : 'ok' };
  });
  return ranked.sort((a, b) => a.score - b.score || a.attr.length - b.attr.length || (a.attr < b.attr ? -1 : 1));
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
