import type * as Zlib from 'node:zlib';
import { distroMatch, nixeryReach, rankCandidates, type AttrInfo, type DistroHint } from './rank.js';

/**
 * node:zlib on first use: `--version` reads the table's plain-text index and decodes no block,
 * and loading zlib is ~4 ms of a start of ~60.
 */
const zlib = (): typeof Zlib => process.getBuiltinModule('node:zlib');

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
 * That is version 1, one brotli stream; version 2 (serializeTable) keeps the same lines in blocks
 * that a lookup decodes one at a time.
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

/** Lines per compressed block of the version 2 file: a lookup decodes one or two of them. */
const BLOCK_LINES = 128;
const MAGIC_V2 = '#nixrun-table 2\n';

/** Where a version 2 file keeps its blocks and what it knows without decoding any. */
interface IndexV2 {
  header: TableHeader;
  exes: number;
  attrs: number;
  block: number;
  /** Each block's first name (executables; attributes when attrsSorted). */
  exeFirst: string[];
  attrFirst: string[];
  /** Compressed byte lengths: the attribute blocks, then the executable blocks. */
  attrBlocks: number[];
  exeBlocks: number[];
  /** Is @attrs sorted, so an attribute can be found by search? */
  attrsSorted: boolean;
  /** First segments with capitals, by their lower case (attrKey folds the first segment). */
  foldedHeads: Record<string, string[]>;
  /** How the blocks are stored: brotli (absent, the first version 2 files) or as they are. */
  codec?: TableCodec;
}

/**
 * Blocks are stored as they are by default: a lookup then costs no node:zlib (1.7 ms to load,
 * 0.8 ms for the first brotli block: half of a `which`'s own work) for 1.6 MB instead of 0.5 MB
 * on disk (the npm tarball and the binaries compress it anyway).
 */
export type TableCodec = 'br' | 'none';

/**
 * Version 2 (written since issue 19): the same lines as version 1, in blocks of 128 lines (stored
 * as they are, or brotli-compressed: the index's codec),
 * after a plain-text magic line and a JSON index (u32 LE length, then the JSON): the header, the
 * counts, each executable block's first name and the block sizes. A lookup binary-searches the
 * index and decodes only the block holding the hit (and its candidates' @attrs blocks) instead
 * of the whole table. Version 1 (one brotli stream of the text) is still read.
 */
export function serializeTable(t: TableData, opts: { codec?: TableCodec } = {}): Buffer {
  const codec = opts.codec ?? 'none';
  const attrLines = t.attrs.map((a) => {
    const fields = [a.attr, String(a.exeCount), a.missingOn?.join(',') ?? '', a.pname ?? '', a.version ?? ''];
    while (fields.length > 2 && fields[fields.length - 1] === '') fields.pop();
    return fields.join('\t');
  });
  const exeLines = [...t.exes.keys()].sort().map((exe) => {
    const idx = t.exes.get(exe)!;
    const hints = t.distro.get(exe);
    return hints?.length ? `${exe}\t${idx.join(',')}\t${hints.map(formatHint).join(',')}` : `${exe}\t${idx.join(',')}`;
  });
  const blocks = (lines: string[]) => {
    const out: Buffer[] = [];
    for (let i = 0; i < lines.length; i += BLOCK_LINES) {
      const text = Buffer.from(lines.slice(i, i + BLOCK_LINES).join('\n'));
      out.push(codec === 'br' ? zlib().brotliCompressSync(text, { params: { [zlib().constants.BROTLI_PARAM_QUALITY]: 11 } }) : text);
    }
    return out;
  };
  const attrBlocks = blocks(attrLines);
  const exeBlocks = blocks(exeLines);
  const names = t.attrs.map((a) => a.attr);
  const foldedHeads: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const a of names) {
    const head = headOf(a);
    const lower = head.toLowerCase();
    if (head !== lower && !(foldedHeads[lower] ??= []).includes(head)) foldedHeads[lower]!.push(head);
  }
  const index: IndexV2 = {
    header: t.header,
    exes: exeLines.length,
    attrs: attrLines.length,
    block: BLOCK_LINES,
    exeFirst: exeLines.filter((_, i) => i % BLOCK_LINES === 0).map((l) => l.slice(0, l.indexOf('\t'))),
    attrFirst: names.filter((_, i) => i % BLOCK_LINES === 0),
    attrBlocks: attrBlocks.map((b) => b.length),
    exeBlocks: exeBlocks.map((b) => b.length),
    attrsSorted: names.every((a, i) => i === 0 || names[i - 1]! < a),
    foldedHeads,
    ...(codec === 'none' ? { codec } : {}),
  };
  const json = Buffer.from(JSON.stringify(index));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  return Buffer.concat([Buffer.from(MAGIC_V2), len, json, ...attrBlocks, ...exeBlocks]);
}

function headOf(a: string): string {
  const dot = a.indexOf('.');
  return dot === -1 ? a : a.slice(0, dot);
}

/** An attribute's lookup key: the first segment compared case-insensitively, like Nixery. */
export function attrKey(a: string): string {
  const dot = a.indexOf('.');
  return dot === -1 ? a.toLowerCase() : a.slice(0, dot).toLowerCase() + a.slice(dot);
}

/** The @attrs section, parsed a line at a time on demand: a lookup reads a handful of them. */
export interface AttrSection {
  length: number;
  at(i: number): AttrInfo;
  all(): AttrInfo[];
}

/** A table file opened for lookups. */
export interface OpenedTable {
  header: TableHeader;
  attrs: AttrSection;
  /** The whole @exes section as text (every line ends with a newline), decoded when first asked. */
  exeSection(): string;
  /** Counted from the index (version 2); undefined: count the lines of exeSection(). */
  exeCount?: number;
  /** Version 2: the rest of an executable's line (after its tab), decoding one block. */
  findExe?(exe: string): string | undefined;
  /** Version 2: an attribute's index by attrKey, without parsing every attribute. */
  findAttr?(key: string): number | undefined;
}

/**
 * Parse the table lazily: a run that resolves one executable finds its line in @exes by search
 * and parses only its candidates' lines of @attrs (version 2: decodes only their blocks).
 */
export function parseTableLazy(file: Buffer): OpenedTable {
  if (file.length >= MAGIC_V2.length && file.toString('latin1', 0, MAGIC_V2.length) === MAGIC_V2) return openV2(file);
  return parseV1(file);
}

function openV2(file: Buffer): OpenedTable {
  const jsonAt = MAGIC_V2.length + 4;
  const index = JSON.parse(file.toString('utf8', jsonAt, jsonAt + file.readUInt32LE(MAGIC_V2.length))) as IndexV2;
  const B = index.block;
  const offsets = (lengths: number[], start: number) => {
    const at = [start];
    for (const n of lengths) at.push(at[at.length - 1]! + n);
    return at;
  };
  const attrAt = offsets(index.attrBlocks, jsonAt + file.readUInt32LE(MAGIC_V2.length));
  const exeAt = offsets(index.exeBlocks, attrAt[attrAt.length - 1]!);
  const decode =
    index.codec === 'none'
      ? (at: number[], b: number) => file.toString('utf8', at[b], at[b + 1]).split('\n')
      : (at: number[], b: number) => zlib().brotliDecompressSync(file.subarray(at[b], at[b + 1])).toString('utf8').split('\n');
  const attrBlocks: Array<string[] | undefined> = [];
  const exeBlocks: Array<string[] | undefined> = [];
  const attrNames: Array<string[] | undefined> = [];
  const attrLine = (i: number) => (attrBlocks[Math.floor(i / B)] ??= decode(attrAt, Math.floor(i / B)))[i % B]!;
  const exeBlock = (b: number) => (exeBlocks[b] ??= decode(exeAt, b));
  const cache: Array<AttrInfo | undefined> = new Array(index.attrs);
  const at = (i: number): AttrInfo => {
    if (!(i >= 0 && i < index.attrs)) throw new RangeError(`attribute index ${i} out of range`);
    return (cache[i] ??= parseAttrLine(attrLine(i)));
  };
  // The last block whose first name is <= name.
  const blockFor = (first: (b: number) => string, count: number, name: string) => {
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (first(mid) <= name) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  let exeText: string | undefined;
  return {
    header: index.header,
    attrs: { length: index.attrs, at, all: () => Array.from({ length: index.attrs }, (_, i) => at(i)) },
    exeCount: index.exes,
    exeSection: () => (exeText ??= index.exeBlocks.map((_, b) => `${exeBlock(b).join('\n')}\n`).join('')),
    findExe(exe) {
      if (index.exes === 0 || exe < index.exeFirst[0]!) return undefined;
      const prefix = `${exe}\t`;
      const line = exeBlock(blockFor((b) => index.exeFirst[b]!, index.exeFirst.length, exe)).find((l) => l.startsWith(prefix));
      return line?.slice(prefix.length);
    },
    findAttr: index.attrsSorted
      ? (key) => {
          const exact = (name: string) => {
            if (index.attrs === 0 || name < index.attrFirst[0]!) return undefined;
            const b = blockFor((n) => index.attrFirst[n]!, index.attrFirst.length, name);
            attrLine(b * B);
            const i = (attrNames[b] ??= attrBlocks[b]!.map((l) => l.slice(0, l.indexOf('\t')))).indexOf(name);
            return i === -1 ? undefined : b * B + i;
          };
          // Every attribute with this key: the key itself and its first segment's capitalised
          // spellings; the last in table order wins, as in a map built from the whole table.
          const head = headOf(key);
          const rest = key.slice(head.length);
          let found: number | undefined;
          for (const h of [head, ...(Object.hasOwn(index.foldedHeads, head) ? index.foldedHeads[head]! : [])]) {
            const i = exact(h + rest);
            if (i !== undefined && (found === undefined || i > found)) found = i;
          }
          return found;
        }
      : undefined,
  };
}

function parseV1(compressed: Buffer): OpenedTable {
  const text = zlib().brotliDecompressSync(compressed).toString('utf8');
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
  const exeSection = text.slice(exesAt + '\n@exes\n'.length);
  return {
    header,
    attrs: { length: count, at, all: () => Array.from({ length: count }, (_, i) => at(i)) },
    exeSection: () => exeSection,
  };
}

/** Parse the table, every attribute at once. */
export function parseTable(file: Buffer): { header: TableHeader; attrs: AttrInfo[]; exeSection: string } {
  const t = parseTableLazy(file);
  return { header: t.header, attrs: t.attrs.all(), exeSection: t.exeSection() };
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

