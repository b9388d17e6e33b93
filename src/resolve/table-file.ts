import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { distroMatch, nixeryReach, rankCandidates, type AttrInfo, type DistroHint } from './rank.js';

/**
 * The lookup table on disk: brotli-compressed text, sorted and de-duplicated.
 *
 *   #nixrun-table 1
 *   #source <where it came from>          (one `#key value` line per header field)
 *   @attrs                                 then one `attr<TAB>exeCount[<TAB>system,…[<TAB>pname
 *                                          [<TAB>version]]]` line per attribute: the systems are
 *                                          those that lack it; pname (the store name without
 *                                          version, empty when it is the attribute's last segment)
 *                                          and version come from the store path
 *   @exes                                  then one `exe<TAB>i,j,k[<TAB>debian]` line per
 *                                          executable: indexes into @attrs, best candidate first;
 *                                          debian is Debian's providers of /usr/bin/exe that name
 *                                          a candidate, `pkg[:source][!]` joined by `,` (`!`: a
 *                                          required or important package, the base system)
 *
 * Tables written before pname, version and debian existed read as before (the fields are optional).
 */
export interface TableHeader {
  source: string;
  snapshot: string;
  systems: string[];
  generated?: string;
}

export interface TableData {
  header: TableHeader;
  attrs: AttrInfo[];
  /** Candidates per executable, ranked, as indexes into attrs. */
  exes: Map<string, number[]>;
  /** Debian's providers per executable, those that name a candidate. */
  distro: Map<string, DistroHint[]>;
}

export type Overrides = Record<string, { attr: string; reason: string }>;

export interface BuildStats {
  packages: number;
  dropped: string[];
}

/** From (exe, attr) pairs and per-attribute executable counts to a ranked table. */
export function rankTable(
  pairs: Map<string, Set<string>>,
  exeCounts: Map<string, number>,
  overrides: Overrides,
  header: TableHeader,
  more: { names?: Map<string, { pname: string; version: string }>; distro?: Map<string, DistroHint[]> } = {},
): TableData {
  // Overrides may name attributes nix-index does not list (aliases share a store path with the
  // attribute it recorded): add them.
  for (const [exe, o] of Object.entries(overrides)) {
    if (!pairs.has(exe)) pairs.set(exe, new Set());
    pairs.get(exe)!.add(o.attr);
    if (!exeCounts.has(o.attr)) exeCounts.set(o.attr, 1);
  }
  const attrNames = [...exeCounts.keys()].sort();
  const index = new Map(attrNames.map((a, i) => [a, i]));
  // The store name is kept for top-level attributes whose name differs from it (aliases and
  // variants show there; package sets' members do not take part in those signals); the version
  // only where the ranking compares it (below), to keep the table small and quick to load.
  const attrs = attrNames.map((attr): AttrInfo => {
    const n = more.names?.get(attr);
    const info: AttrInfo = { attr, exeCount: exeCounts.get(attr)! };
    if (n && !attr.includes('.') && n.pname.toLowerCase() !== attr.toLowerCase()) info.pname = n.pname;
    return info;
  });
  const exes = new Map<string, number[]>();
  const distro = new Map<string, DistroHint[]>();
  for (const exe of [...pairs.keys()].sort()) {
    const infos = [...pairs.get(exe)!].map((a) => attrs[index.get(a)!]!);
    // Keep only Debian's providers that name a candidate: the others cannot change the order.
    const hints = (more.distro?.get(exe) ?? []).filter((h) => infos.length > 1 && infos.some((i) => distroMatch(i, [h])));
    if (hints.length > 0) {
      distro.set(exe, hints);
      // A namesake check compares versions: the attribute named like the executable and
      // Debian's picks.
      for (const i of infos) {
        const v = more.names?.get(i.attr)?.version;
        if (v && (i.attr.toLowerCase() === exe.toLowerCase() || distroMatch(i, hints))) i.version = v;
      }
    }
    exes.set(
      exe,
      rankCandidates(exe, infos, overrides, { distro: hints }).map((r) => index.get(r.attr)!),
    );
  }
  return { header, attrs, exes, distro };
}

/** Keep only what Nixery can serve; returns the dropped attribute names. */
export function reachableOnly(attrs: Iterable<string>): { keep: Set<string>; dropped: string[] } {
  const keep = new Set<string>();
  const dropped: string[] = [];
  for (const a of attrs) {
    if (nixeryReach(a) === 'unreachable') dropped.push(a);
    else keep.add(a);
  }
  return { keep, dropped };
}

export function serializeTable(t: TableData): Buffer {
  const lines = ['#nixrun-table 1', `#source ${t.header.source}`, `#snapshot ${t.header.snapshot}`, `#systems ${t.header.systems.join(',')}`];
  if (t.header.generated) lines.push(`#generated ${t.header.generated}`);
  lines.push('@attrs');
  for (const a of t.attrs) {
    const fields = [a.attr, String(a.exeCount), a.missingOn?.join(',') ?? '', a.pname ?? '', a.version ?? ''];
    while (fields.length > 2 && fields[fields.length - 1] === '') fields.pop();
    lines.push(fields.join('\t'));
  }
  lines.push('@exes');
  for (const [exe, idx] of t.exes) {
    const hints = t.distro.get(exe);
    lines.push(hints?.length ? `${exe}\t${idx.join(',')}\t${hints.map(formatHint).join(',')}` : `${exe}\t${idx.join(',')}`);
  }
  return brotliCompressSync(Buffer.from(`${lines.join('\n')}\n`), {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24 },
  });
}

/** The @attrs section, parsed a line at a time on demand: a lookup reads a handful of them. */
export interface AttrSection {
  length: number;
  at(i: number): AttrInfo;
  all(): AttrInfo[];
}

/**
 * Parse the table. Both sections are indexed lazily: a run that resolves one executable finds its
 * line in @exes by search and parses only its candidates' lines of @attrs.
 */
export function parseTableLazy(compressed: Buffer): { header: TableHeader; attrs: AttrSection; exeSection: string } {
  const text = brotliDecompressSync(compressed).toString('utf8');
  if (!text.startsWith('#nixrun-table 1\n')) throw new Error('not a kubectl-nixrun table (bad header)');
  const header: TableHeader = { source: '', snapshot: '', systems: [] };
  let pos = 0;
  for (;;) {
    const nl = text.indexOf('\n', pos);
    const line = text.slice(pos, nl);
    pos = nl + 1;
    if (line === '@attrs') break;
    const sp = line.indexOf(' ');
    const key = line.slice(1, sp);
    const value = line.slice(sp + 1);
    if (key === 'source') header.source = value;
    else if (key === 'snapshot') header.snapshot = value;
    else if (key === 'systems') header.systems = value.split(',').filter(Boolean);
    else if (key === 'generated') header.generated = value;
  }
  const exesAt = text.indexOf('\n@exes\n', pos - 1);
  // Line starts of @attrs (one more entry: the end).
  const starts: number[] = [];
  for (let at = pos; at <= exesAt; at = text.indexOf('\n', at) + 1) starts.push(at);
  const count = starts.length;
  starts.push(exesAt + 1);
  const cache: Array<AttrInfo | undefined> = new Array(count);
  const at = (i: number): AttrInfo => (cache[i] ??= parseAttrLine(text.slice(starts[i]!, starts[i + 1]! - 1)));
  return {
    header,
    attrs: { length: count, at, all: () => Array.from({ length: count }, (_, i) => at(i)) },
    exeSection: text.slice(exesAt + '\n@exes\n'.length),
  };
}

/** Parse the table, every attribute at once. */
export function parseTable(compressed: Buffer): { header: TableHeader; attrs: AttrInfo[]; exeSection: string } {
  const { header, attrs, exeSection } = parseTableLazy(compressed);
  return { header, attrs: attrs.all(), exeSection };
}

function parseAttrLine(line: string): AttrInfo {
  const tab = line.indexOf('\t');
  const tab2 = line.indexOf('\t', tab + 1);
  const attr = line.slice(0, tab);
  if (tab2 === -1) return { attr, exeCount: Number(line.slice(tab + 1)) };
  const [missing, pname, version] = line.slice(tab2 + 1).split('\t');
  const info: AttrInfo = { attr, exeCount: Number(line.slice(tab + 1, tab2)) };
  if (missing) info.missingOn = missing.split(',');
  if (pname) info.pname = pname;
  if (version) info.version = version;
  return info;
}

function formatHint(h: DistroHint): string {
  return `${h.pkg}${h.src && h.src !== h.pkg ? `:${h.src}` : ''}${h.base ? '!' : ''}`;
}

export function parseHints(field: string): DistroHint[] {
  return field.split(',').map((f) => {
    const base = f.endsWith('!');
    const [pkg, src] = (base ? f.slice(0, -1) : f).split(':');
    return { pkg: pkg!, ...(src ? { src } : {}), ...(base ? { base } : {}) };
  });
}

