import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { nixeryReach, rankCandidates, type AttrInfo } from './rank.js';

/**
 * The lookup table on disk: brotli-compressed text, sorted and de-duplicated.
 *
 *   #nixrun-table 1
 *   #source <where it came from>          (one `#key value` line per header field)
 *   @attrs                                 then one `attr<TAB>exeCount[<TAB>system,…]` line per
 *                                          attribute; the systems are those that lack it
 *   @exes                                  then one `exe<TAB>i,j,k` line per executable:
 *                                          indexes into @attrs, best candidate first
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
}

export type Overrides = Record<string, { attr: string; reason: string }>;

export interface BuildStats {
  packages: number;
  dropped: string[];
}

/** From (exe, attr) pairs and per-attribute executable counts to a ranked table. */
export function rankTable(pairs: Map<string, Set<string>>, exeCounts: Map<string, number>, overrides: Overrides, header: TableHeader): TableData {
  // Overrides may name attributes nix-index does not list (aliases share a store path with the
  // attribute it recorded): add them.
  for (const [exe, o] of Object.entries(overrides)) {
    if (!pairs.has(exe)) pairs.set(exe, new Set());
    pairs.get(exe)!.add(o.attr);
    if (!exeCounts.has(o.attr)) exeCounts.set(o.attr, 1);
  }
  const attrNames = [...exeCounts.keys()].sort();
  const index = new Map(attrNames.map((a, i) => [a, i]));
  const attrs = attrNames.map((attr) => ({ attr, exeCount: exeCounts.get(attr)! }));
  const exes = new Map<string, number[]>();
  for (const exe of [...pairs.keys()].sort()) {
    const infos = [...pairs.get(exe)!].map((a) => attrs[index.get(a)!]!);
    exes.set(
      exe,
      rankCandidates(exe, infos, overrides).map((r) => index.get(r.attr)!),
    );
  }
  return { header, attrs, exes };
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
  for (const a of t.attrs) lines.push(a.missingOn?.length ? `${a.attr}\t${a.exeCount}\t${a.missingOn.join(',')}` : `${a.attr}\t${a.exeCount}`);
  lines.push('@exes');
  for (const [exe, idx] of t.exes) lines.push(`${exe}\t${idx.join(',')}`);
  return brotliCompressSync(Buffer.from(`${lines.join('\n')}\n`), {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24 },
  });
}

/** Parse the table. The @exes section is indexed lazily: one lookup never splits 70k lines. */
export function parseTable(compressed: Buffer): { header: TableHeader; attrs: AttrInfo[]; exeSection: string } {
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
  const attrs: AttrInfo[] = [];
  for (const line of text.slice(pos, exesAt + 1).split('\n')) {
    if (line.length === 0) continue;
    const tab = line.indexOf('\t');
    const tab2 = line.indexOf('\t', tab + 1);
    const attr = line.slice(0, tab);
    if (tab2 === -1) attrs.push({ attr, exeCount: Number(line.slice(tab + 1)) });
    else attrs.push({ attr, exeCount: Number(line.slice(tab + 1, tab2)), missingOn: line.slice(tab2 + 1).split(',') });
  }
  return { header, attrs, exeSection: text.slice(exesAt + '\n@exes\n'.length) };
}

