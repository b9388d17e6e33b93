import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { createZstdDecompress } from 'node:zlib';

/**
 * Reader for nix-index's "files" database (the file `nix-locate` and comma read), written from
 * nix-index's src/database.rs, src/frcode.rs and src/files.rs:
 *
 * - header: the 4 bytes `NIXI`, then the format version as a little-endian u64 (1);
 * - then one zstd stream of frcode lines `<meta> NUL <prefix-diff> <path suffix> LF`, where the
 *   path shares `shared` leading bytes with the previous line's path and `shared` changes by the
 *   prefix diff (one signed byte, or 0x80 followed by a big-endian i16);
 * - meta is `<size>x` (executable), `<size>r` (regular), `<target>s` (symlink), `<size>d`
 *   (directory), or `p` for the record that closes a package: its "path" is the package's
 *   StorePath as JSON (`{"store_dir","hash","name","origin":{"attr","output","toplevel","system"}}`).
 *   A package's file entries come before its record.
 */
export const NIX_INDEX_MAGIC = 'NIXI';
export const NIX_INDEX_VERSION = 1n;

export interface PackageOrigin {
  attr: string;
  output: string;
  toplevel: boolean;
  system?: string | null;
}

export interface IndexedPackage {
  /** The store path's name, e.g. "postgresql-17.5". */
  name: string;
  /** The store path's hash: two attributes with the same hash (and name) are the same package. */
  hash: string;
  origin: PackageOrigin;
  /** Executables: regular executable files or symlinks directly under bin/ or sbin/. */
  executables: string[];
}

export class NixIndexFormatError extends Error {
  override name = 'NixIndexFormatError';
}

/** Check the header; returns the byte offset where the zstd stream starts. */
export function checkHeader(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(12);
    const n = readSync(fd, head, 0, 12, 0);
    if (n < 12 || head.subarray(0, 4).toString('latin1') !== NIX_INDEX_MAGIC) {
      throw new NixIndexFormatError(`${path} is not a nix-index database (no NIXI magic)`);
    }
    const version = head.readBigUInt64LE(4);
    if (version !== NIX_INDEX_VERSION) throw new NixIndexFormatError(`${path}: nix-index format version ${version}, expected ${NIX_INDEX_VERSION}`);
    return 12;
  } finally {
    closeSync(fd);
  }
}

/** Stream the packages of a nix-index database, with the executables each one provides. */
export async function* readNixIndex(path: string): AsyncGenerator<IndexedPackage> {
  const start = checkHeader(path);
  const decoder = new FrcodeDecoder();
  const stream = createReadStream(path, { start }).pipe(createZstdDecompress());
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    yield* decoder.push(chunk);
  }
  decoder.end();
}

const NUL = 0;
const LF = 10;

/** Incremental frcode decoder: feed decompressed chunks, get finished packages. */
export class FrcodeDecoder {
  private pending: Buffer = Buffer.alloc(0);
  // The previous path, reused in place: a database has tens of millions of lines.
  private prev: Buffer = Buffer.alloc(1 << 16);
  private prevLen = 0;
  private shared = 0;
  private executables: string[] = [];

  *push(chunk: Buffer): Generator<IndexedPackage> {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      const nul = buf.indexOf(NUL, pos);
      if (nul === -1) break;
      // The prefix diff follows the NUL: 1 byte, or 3 when the first is 0x80.
      if (nul + 1 >= buf.length) break;
      const first = buf[nul + 1]!;
      const diffLen = first === 0x80 ? 3 : 1;
      if (nul + diffLen >= buf.length) break;
      const lf = buf.indexOf(LF, nul + 1 + diffLen);
      if (lf === -1) break;
      const diff = first === 0x80 ? buf.readInt16BE(nul + 2) : (first << 24) >> 24;
      const shared = this.shared + diff;
      if (shared < 0 || shared > this.prevLen) {
        throw new NixIndexFormatError(`corrupt database: shared prefix ${shared} out of range 0..${this.prevLen}`);
      }
      const suffixStart = nul + 1 + diffLen;
      const len = shared + (lf - suffixStart);
      if (len > this.prev.length) {
        const bigger = Buffer.alloc(Math.max(len, this.prev.length * 2));
        this.prev.copy(bigger, 0, 0, shared);
        this.prev = bigger;
      }
      buf.copy(this.prev, shared, suffixStart, lf);
      this.prevLen = len;
      this.shared = shared;
      const kind = buf[nul - 1];
      const metaLen = nul - pos;
      pos = lf + 1;
      if (metaLen === 1 && kind === 0x70 /* p */) {
        yield this.finishPackage(this.prev.subarray(0, len));
      } else if ((kind === 0x78 /* x */ || kind === 0x73) /* s */ && isExecutablePath(this.prev, len)) {
        const name = this.prev.toString('utf8', this.prev[1] === 0x73 ? 6 : 5, len);
        // Nix wrappers leave bin/.foo-wrapped beside bin/foo: index foo only.
        if (!name.startsWith('.')) this.executables.push(name);
      }
    }
    this.pending = Buffer.from(buf.subarray(pos));
  }

  end(): void {
    if (this.pending.length > 0) throw new NixIndexFormatError('corrupt database: truncated entry at the end');
  }

  private finishPackage(json: Buffer): IndexedPackage {
    let parsed: { name?: string; hash?: string; origin?: PackageOrigin };
    try {
      parsed = JSON.parse(json.toString('utf8')) as typeof parsed;
    } catch {
      throw new NixIndexFormatError(`corrupt database: package record is not JSON: ${json.subarray(0, 80).toString('utf8')}`);
    }
    if (!parsed.origin || typeof parsed.origin.attr !== 'string') throw new NixIndexFormatError('corrupt database: package record without origin.attr');
    const pkg: IndexedPackage = { name: parsed.name ?? '', hash: parsed.hash ?? '', origin: parsed.origin, executables: [...new Set(this.executables)] };
    this.executables = [];
    return pkg;
  }
}

/** "/bin/<name>" or "/sbin/<name>", with no further slash. */
function isExecutablePath(p: Buffer, len: number): boolean {
  let start: number;
  if (len > 5 && p[0] === 0x2f && p[1] === 0x62 && p[2] === 0x69 && p[3] === 0x6e && p[4] === 0x2f) start = 5;
  else if (len > 6 && p[0] === 0x2f && p[1] === 0x73 && p[2] === 0x62 && p[3] === 0x69 && p[4] === 0x6e && p[5] === 0x2f) start = 6;
  else return false;
  return p.indexOf(0x2f, start) === -1 || p.indexOf(0x2f, start) >= len;
}
