import { readNixIndex } from './nixindex.js';
import { storePname, type DistroHint } from './rank.js';
import { rankTable, reachableOnly, type Overrides, type TableData, type TableHeader } from './table-file.js';

export interface BuildResult {
  table: TableData;
  stats: { packages: number; withExecutables: number; dropped: string[] };
  /** Each attribute's store name without output (util-linux-minimal-2.41.3): the same package on another system. */
  storeNames?: Map<string, string>;
}

/**
 * Every executable under bin/ and sbin/ of every top-level attribute in a nix-index database
 * (the bundled one, or a user's ~/.cache/nix-index/files), ranked.
 */
export async function buildFromNixIndex(
  path: string,
  overrides: Overrides,
  header: Omit<TableHeader, 'systems'> & { systems?: string[] },
  opts: { distro?: Map<string, DistroHint[]> } = {},
): Promise<BuildResult> {
  const pairs = new Map<string, Set<string>>();
  const exeCounts = new Map<string, number>();
  // The store name of the attribute's output with the most executables: pname and version.
  const names = new Map<string, { pname: string; version: string; n: number }>();
  const systems = new Set<string>();
  let packages = 0;
  let withExecutables = 0;
  for await (const pkg of readNixIndex(path)) {
    packages++;
    // Non-top-level paths are only in some package's closure: their attr is the referrer's.
    if (!pkg.origin.toplevel || pkg.executables.length === 0) continue;
    withExecutables++;
    if (pkg.origin.system) systems.add(pkg.origin.system);
    const attr = pkg.origin.attr;
    exeCounts.set(attr, Math.max(exeCounts.get(attr) ?? 0, pkg.executables.length));
    if ((names.get(attr)?.n ?? -1) < pkg.executables.length) names.set(attr, { ...storePname(pkg.name, pkg.origin.output), n: pkg.executables.length });
    for (const exe of pkg.executables) {
      if (!pairs.has(exe)) pairs.set(exe, new Set());
      pairs.get(exe)!.add(attr);
    }
  }
  const result = finish(pairs, exeCounts, overrides, { ...header, systems: header.systems ?? [...systems].sort() }, packages, withExecutables, { names, ...(opts.distro ? { distro: opts.distro } : {}) });
  return { ...result, storeNames: new Map([...names].map(([a, n]) => [a, `${n.pname}-${n.version}`])) };
}

/**
 * The top-level attributes that ship executables in a nix-index database: read from another
 * system's database to mark what that system does not build.
 */
export async function attributesWithExecutables(path: string): Promise<{ attrs: Set<string>; systems: Set<string>; storeNames: Set<string> }> {
  const attrs = new Set<string>();
  const systems = new Set<string>();
  const storeNames = new Set<string>();
  for await (const pkg of readNixIndex(path)) {
    if (!pkg.origin.toplevel || pkg.executables.length === 0) continue;
    attrs.add(pkg.origin.attr);
    const { pname, version } = storePname(pkg.name, pkg.origin.output);
    storeNames.add(`${pname}-${version}`);
    if (pkg.origin.system) systems.add(pkg.origin.system);
  }
  return { attrs, systems, storeNames };
}

/**
 * Mark the attributes another system's database lacks (`missingOn`), and add it to the systems.
 * nix-index records one attribute per store path, and not always the same one on every system
 * (glibc's outputs are recorded as `iconv` on aarch64-linux): an attribute whose store name
 * (name and version) the other system has is present there.
 */
export function markMissing(
  table: TableData,
  system: string,
  present: Set<string>,
  overrides: Overrides,
  byName: { storeNames?: Map<string, string>; presentNames?: Set<string> } = {},
): number {
  const overridden = new Set(Object.values(overrides).map((o) => o.attr));
  let n = 0;
  for (const a of table.attrs) {
    // Overrides name attributes nix-index may list under another name: no claim about them.
    if (present.has(a.attr) || overridden.has(a.attr)) continue;
    const name = byName.storeNames?.get(a.attr);
    if (name && byName.presentNames?.has(name)) continue;
    a.missingOn = [...(a.missingOn ?? []), system];
    n++;
  }
  if (!table.header.systems.includes(system)) table.header.systems = [...table.header.systems, system].sort();
  return n;
}

/** NixOS's command-not-found database: `Programs(name, system, package)`. */
export async function buildFromProgramsSqlite(path: string, overrides: Overrides, header: Omit<TableHeader, 'systems'>, system = 'x86_64-linux'): Promise<BuildResult> {
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare('SELECT name, package FROM Programs WHERE system = ?').all(system) as Array<{ name: string; package: string }>;
    const pairs = new Map<string, Set<string>>();
    const exeCounts = new Map<string, number>();
    for (const { name, package: attr } of rows) {
      if (!pairs.has(name)) pairs.set(name, new Set());
      pairs.get(name)!.add(attr);
      exeCounts.set(attr, (exeCounts.get(attr) ?? 0) + 1);
    }
    return finish(pairs, exeCounts, overrides, { ...header, systems: [system] }, exeCounts.size, exeCounts.size);
  } finally {
    db.close();
  }
}

function finish(
  pairs: Map<string, Set<string>>,
  exeCounts: Map<string, number>,
  overrides: Overrides,
  header: TableHeader,
  packages: number,
  withExecutables: number,
  more: Parameters<typeof rankTable>[4] = {},
): BuildResult {
  const { keep, dropped } = reachableOnly(exeCounts.keys());
  for (const a of dropped) exeCounts.delete(a);
  for (const [exe, attrs] of pairs) {
    for (const a of attrs) if (!keep.has(a)) attrs.delete(a);
    if (attrs.size === 0) pairs.delete(exe);
  }
  return { table: rankTable(pairs, exeCounts, overrides, header, more), stats: { packages, withExecutables, dropped: dropped.sort() } };
}
