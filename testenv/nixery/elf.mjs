// A minimal ELF64 little-endian reader: enough to tell executables from shared objects and to read
// the program interpreter, DT_NEEDED, DT_SONAME and DT_RUNPATH/DT_RPATH. The builder uses it to
// find each binary's shared-library closure, the tests to check that every ELF in an image
// resolves inside its /nix/store.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_SONAME = 14n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;

/**
 * @typedef {object} ElfInfo
 * @property {'exec' | 'dyn' | 'other'} type ET_EXEC, ET_DYN (PIE executables and libraries) or other
 * @property {string | undefined} interp PT_INTERP, if any (absent for libraries and static binaries)
 * @property {string[]} needed DT_NEEDED in order
 * @property {string | undefined} soname
 * @property {string | undefined} runpath DT_RUNPATH, or DT_RPATH when there is no RUNPATH
 */

/** @param {Buffer} head */
export function isElf(head) {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/**
 * Read a file's ELF dynamic information, or undefined when it is not a 64-bit little-endian ELF.
 * @param {string} path
 * @returns {ElfInfo | undefined}
 */
export function readElf(path) {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < 64) return undefined;
    const buf = Buffer.alloc(size);
    readSync(fd, buf, 0, size, 0);
    return parseElf(buf);
  } finally {
    closeSync(fd);
  }
}

/**
 * @param {Buffer} b
 * @returns {ElfInfo | undefined}
 */
export function parseElf(b) {
  if (!isElf(b) || b[4] !== 2 || b[5] !== 1) return undefined; // ELFCLASS64, ELFDATA2LSB
  const eType = b.readUInt16LE(16);
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  /** @type {Array<{ vaddr: bigint, offset: bigint, filesz: bigint }>} */
  const loads = [];
  let interp;
  let dyn;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    const pType = b.readUInt32LE(o);
    const offset = b.readBigUInt64LE(o + 8);
    const vaddr = b.readBigUInt64LE(o + 16);
    const filesz = b.readBigUInt64LE(o + 32);
    if (pType === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (pType === PT_INTERP) interp = b.toString('latin1', Number(offset), Number(offset + filesz)).replace(/\0.*$/s, '');
    else if (pType === PT_DYNAMIC) dyn = { offset: Number(offset), size: Number(filesz) };
  }
  /** @type {ElfInfo} */
  const info = { type: eType === 2 ? 'exec' : eType === 3 ? 'dyn' : 'other', interp, needed: [], soname: undefined, runpath: undefined };
  if (!dyn) return info;
  /** @type {Array<[bigint, bigint]>} */
  const entries = [];
  for (let o = dyn.offset; o + 16 <= dyn.offset + dyn.size; o += 16) {
    const tag = b.readBigInt64LE(o);
    if (tag === 0n) break;
    entries.push([tag, b.readBigUInt64LE(o + 8)]);
  }
  const strtabAddr = entries.find(([t]) => t === DT_STRTAB)?.[1];
  if (strtabAddr === undefined) return info;
  const seg = loads.find((l) => strtabAddr >= l.vaddr && strtabAddr < l.vaddr + l.filesz);
  if (!seg) return info;
  const strtab = Number(strtabAddr - seg.vaddr + seg.offset);
  /** @param {bigint} off */
  const str = (off) => {
    const start = strtab + Number(off);
    const end = b.indexOf(0, start);
    return b.toString('utf8', start, end < 0 ? b.length : end);
  };
  let rpath;
  for (const [tag, val] of entries) {
    if (tag === DT_NEEDED) info.needed.push(str(val));
    else if (tag === DT_SONAME) info.soname = str(val);
    else if (tag === DT_RUNPATH) info.runpath = str(val);
    else if (tag === DT_RPATH) rpath = str(val);
  }
  info.runpath ??= rpath;
  return info;
}
