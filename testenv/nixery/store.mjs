// The store builder: turns the attribute map (packages.mjs) and this machine's Debian files into
// Nix-like store paths, each one a gzip tar layer in the cache.
//
//   plan      reads dpkg's database and every mapped ELF, finds each one's shared libraries
//             (RUNPATH, then Debian's multiarch dirs), groups the libraries per Debian source
//             package into library store paths and gives every store path an input-addressed
//             name /nix/store/<32 nix-base32 chars>-<name> (sha256 of the name, the Debian
//             package versions, the file list and the dependencies' names, folded to 160 bits
//             as Nix does). Cached as plan.json, checked against dpkg's versions on load.
//   ensure    materialises one store path in a temporary directory (files copied without xattrs,
//             modes reset), compiles the C wrappers, patches every ELF's interpreter and RUNPATH
//             into the store (Debian's patchelf), and packs it as a reproducible layer: sorted
//             entries, uid/gid 0, mtime 1, dirs 0555, files 0444/0555, gzip without a timestamp.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync, symlinkSync, openSync, readSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import tar from 'tar-stream';
import { isElf, readElf } from './elf.mjs';
import { INTERNAL, LIB_DATA, PACKAGES, debianPackages } from './packages.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const gzip = promisify(gzipCb);
/** Bump when the layout of store paths changes without a change to the files hashed below. */
const BUILDER_VERSION = 1;
export const STORE = '/nix/store';
const BIN_DIRS = new Set(['/bin', '/sbin', '/usr/bin', '/usr/sbin']);
const LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/lib', '/usr/lib'];
export const MTIME = new Date(1000);
export const LAYER_TYPE = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/**
 * @typedef {import('./packages.mjs').PackageSpec} PackageSpec
 * @typedef {{ dest: string, kind: 'file', src: string, exec: boolean, elf?: ElfPatch }
 *   | { dest: string, kind: 'symlink', target: string }
 *   | { dest: string, kind: 'text', content: string }
 *   | { dest: string, kind: 'dir' }
 *   | { dest: string, kind: 'wrapper', wrapped: string, set: Record<string, string>, setDefault: Record<string, string> }} Entry
 * @typedef {{ interp?: boolean, rpath: string[] }} ElfPatch  rpath: store path keys whose lib/ dir goes into RUNPATH
 * @typedef {object} StorePathPlan
 * @property {string} key       map key (attribute), `internal:<name>` or `lib:<debian source>`
 * @property {string} name      <pname>-<version>
 * @property {string} base      <hash>-<name>
 * @property {string[]} deps    keys of the store paths it refers to (direct)
 * @property {string[]} debian  Debian packages (name=version) its files come from
 * @property {Entry[]} entries
 * @property {string[]} skipped host files left out (scripts), for the provenance
 * @typedef {object} Plan
 * @property {string} id
 * @property {Record<string, StorePathPlan>} paths
 * @property {Record<string, string>} attrs   attribute → store path key
 * @property {Record<string, string>} errors  attribute → why it cannot be built here
 * @property {Record<string, string>} debian  every Debian package involved → version
 * @property {Record<string, string>} tools
 * @property {number} [builder]
 * @typedef {object} LayerMeta
 * @property {string} base
 * @property {string} digest  sha256 of the gzip blob
 * @property {string} diffId  sha256 of the tar
 * @property {number} size
 * @property {number} tarSize
 * @property {Array<[string, 'dir' | 'file' | 'symlink']>} listing  entries relative to the store path
 */

export function defaultCacheRoot() {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kubectl-nixrun', 'nixery');
}

/** Cache directory for this map, this builder and these Debian versions. */
export function defaultCacheDir() {
  const dpkg = loadDpkg();
  const h = createHash('sha256').update(`builder ${BUILDER_VERSION}\n`);
  for (const f of ['packages.mjs', 'store.mjs', 'elf.mjs']) h.update(f).update(readFileSync(join(HERE, f)));
  for (const p of debianPackages()) h.update(`${p}=${dpkg.status.get(p)?.version ?? 'missing'}\n`);
  return join(defaultCacheRoot(), h.digest('hex').slice(0, 16));
}

// ---------------------------------------------------------------------------------------------
// Nix-style names

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** Nix's base-32 (as in printHash32) of a byte string. */
export function nixBase32(bytes) {
  const len = Math.ceil((bytes.length * 8) / 5);
  let s = '';
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    const c = (bytes[i] >> j) | (i + 1 < bytes.length ? bytes[i + 1] << (8 - j) : 0);
    s += NIX32[c & 0x1f];
  }
  return s;
}

/** sha256 folded to 20 bytes (Nix's compressHash), in base 32: the 32 characters of a store path. */
export function storeHash(input) {
  const full = createHash('sha256').update(input).digest();
  const out = Buffer.alloc(20);
  for (let i = 0; i < full.length; i++) out[i % 20] ^= full[i];
  return nixBase32(out);
}

/** Upstream part of a Debian version: no epoch, no Debian revision, no +dfsg/~deb suffixes. */
export function upstreamVersion(v) {
  let u = v.replace(/^\d+:/, '');
  const dash = u.lastIndexOf('-');
  if (dash > 0) u = u.slice(0, dash);
  return u.replace(/[+~](dfsg|ds|deb|really|b\d).*$/, '');
}

// ---------------------------------------------------------------------------------------------
// dpkg

/**
 * @typedef {{ version: string, source: string, sourceVersion: string }} DebPkg
 * @typedef {{ status: Map<string, DebPkg>, owner: (path: string) => string | undefined, list: (pkg: string) => string[] }} Dpkg
 */

/** @type {Dpkg | undefined} */
let dpkgCache;

/** dpkg's installed packages and file lists (merged /usr: /bin/x and /usr/bin/x are one path). */
export function loadDpkg() {
  if (dpkgCache) return dpkgCache;
  /** @type {Map<string, DebPkg>} */
  const status = new Map();
  for (const para of readFileSync('/var/lib/dpkg/status', 'utf8').split(/\n\n+/)) {
    const f = Object.fromEntries(
      para
        .split('\n')
        .filter((l) => /^[A-Za-z-]+: /.test(l))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
    );
    if (!f.Package || !/ installed$/.test(f.Status ?? '')) continue;
    if (f.Architecture && !['amd64', 'all'].includes(f.Architecture)) continue;
    const m = /^(\S+)(?: \((.+)\))?$/.exec(f.Source ?? f.Package);
    status.set(f.Package, { version: f.Version, source: m?.[1] ?? f.Package, sourceVersion: m?.[2] ?? f.Version });
  }
  /** @type {Map<string, string>} */
  const owners = new Map();
  /** @type {Map<string, string[]>} */
  const lists = new Map();
  const info = '/var/lib/dpkg/info';
  for (const f of readdirSync(info)) {
    if (!f.endsWith('.list')) continue;
    const pkg = f.slice(0, -5).replace(/:(amd64|all)$/, '');
    if (!status.has(pkg)) continue;
    const paths = readFileSync(join(info, f), 'utf8').split('\n').filter(Boolean);
    lists.set(pkg, paths);
    for (const p of paths) if (!owners.has(mergedUsr(p))) owners.set(mergedUsr(p), pkg);
  }
  dpkgCache = { status, owner: (p) => owners.get(mergedUsr(p)), list: (pkg) => lists.get(pkg) ?? [] };
  return dpkgCache;
}

function mergedUsr(p) {
  return p.replace(/^\/usr\/(bin|sbin|lib|lib32|lib64|libx32)(\/|$)/, '/$1$2');
}

// ---------------------------------------------------------------------------------------------
// Planning

/** @param {string} p */
function headIsElf(p) {
  const fd = openSync(p, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    return isElf(b);
  } finally {
    closeSync(fd);
  }
}

/** @param {string} p */
function exists(p) {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

async function toolVersions() {
  const v = async (cmd, args) => {
    try {
      return (await run(cmd, args)).stdout.split('\n')[0].trim();
    } catch {
      return 'missing';
    }
  };
  return { patchelf: await v('patchelf', ['--version']), gcc: await v('gcc', ['--version']), node: process.version };
}

/**
 * Build the whole plan: every attribute of the map, its library closure and every store path's name.
 * @param {Dpkg} dpkg
 * @returns {Promise<Plan>}
 */
export async function makePlan(dpkg = loadDpkg()) {
  /** @type {Record<string, StorePathPlan>} */
  const paths = {};
  /** @type {Record<string, string>} */
  const errors = {};
  /** @type {Record<string, string>} */
  const attrs = {};
  /** @type {Map<PackageSpec, string>} spec object → key, so aliases share one store path */
  const specKeys = new Map();
  /** Libraries: host soname path → { group, name, elf info } */
  /** @type {Map<string, { group: string, file: string, real: string, needed: string[], runpath?: string, interp?: string, resolved?: string[] }>} */
  const libs = new Map();
  /** @type {Map<string, Set<string>>} group → library file names (lib/<name>) */
  const groups = new Map();
  /** @type {Map<string, Set<string>>} group → Debian packages */
  const groupDebs = new Map();
  /** @type {Map<string, string>} resolved ELF host path → its needed list, resolved to lib host paths */
  const involved = new Map();
  const version = (pkg) => dpkg.status.get(pkg)?.version;

  /**
   * Resolve a DT_NEEDED name as Debian's ld.so would (RUNPATH, then the multiarch dirs), and queue it.
   * @returns {string} the library's host path
   */
  const resolve = (name, fromHost, runpath) => {
    const dirs = [...(runpath ? runpath.split(':').map((d) => d.replace(/\$(ORIGIN|\{ORIGIN\})/g, dirname(fromHost))) : []), ...LIB_DIRS];
    for (const d of dirs) {
      const p = join(d, name);
      if (!exists(p)) continue;
      addLib(p, name);
      return p;
    }
    throw new Error(`${fromHost} needs ${name}, which is not in ${dirs.join(', ')}`);
  };
  const addLib = (p, name) => {
    if (libs.has(p)) return;
    const real = realpathSync(p);
    const pkg = dpkg.owner(p) ?? dpkg.owner(real);
    if (!pkg) throw new Error(`${p} belongs to no Debian package`);
    const src = dpkg.status.get(pkg);
    if (!src) throw new Error(`${pkg} is not installed`);
    const group = src.source;
    const info = readElf(real);
    const entry = { group, file: name, real, needed: info?.needed ?? [], runpath: info?.runpath, interp: info?.interp };
    libs.set(p, entry);
    if (!groups.has(group)) groups.set(group, new Set());
    groups.get(group).add(name);
    if (!groupDebs.has(group)) groupDebs.set(group, new Set());
    groupDebs.get(group).add(`${pkg}=${src.version}`);
    involved.set(`${pkg}`, src.version);
    entry.resolved = entry.needed.map((n) => resolve(n, real, info?.runpath));
  };

  /**
   * Entries of one map spec (files from the host, links, texts) and its ELF files' needs.
   * @param {string} key
   * @param {PackageSpec} spec
   */
  const planSpec = (key, spec) => {
    for (const d of spec.deb) if (!version(d)) throw new Error(`Debian package ${d} is not installed (apt-get install ${d})`);
    for (const d of spec.deb) involved.set(d, version(d));
    /** @type {Entry[]} */
    const entries = [];
    const skipped = [];
    /** @type {Array<{ entry: Entry & { kind: 'file' }, host: string, needed: string[], interp?: string }>} */
    const elves = [];
    const rename = (n) => spec.rename?.[n] ?? n;
    const addFile = (host, dest, exec = (statSync(host).mode & 0o111) !== 0) => {
      /** @type {Entry & { kind: 'file' }} */
      const entry = { dest, kind: 'file', src: realpathSync(host), exec };
      entries.push(entry);
      if (headIsElf(entry.src)) {
        const info = readElf(entry.src);
        if (info && (info.interp || info.needed.length > 0)) {
          elves.push({ entry, host: entry.src, needed: info.needed.map((n) => resolve(n, entry.src, info.runpath)), interp: info.interp });
          if (info.interp) addLib(info.interp, basename(info.interp));
        }
      }
      return entry;
    };
    // bin/
    if (spec.bin) {
      const bins = spec.bin === 'all' ? spec.deb.flatMap((d) => dpkg.list(d).filter((p) => BIN_DIRS.has(dirname(p)))) : spec.bin;
      const byReal = new Map();
      const links = [];
      const seen = new Set();
      for (const p of bins) {
        const st = lstatSync(p);
        if (st.isSymbolicLink()) {
          links.push(p);
          continue;
        }
        if (!st.isFile()) continue;
        const name = rename(basename(p));
        if (seen.has(name)) continue;
        if (!headIsElf(p)) {
          if (spec.bin !== 'all') throw new Error(`${p} is not an ELF executable`);
          skipped.push(`${p} (script)`);
          continue;
        }
        seen.add(name);
        byReal.set(realpathSync(p), name);
        addFile(p, `bin/${name}`);
      }
      for (const p of links) {
        const name = rename(basename(p));
        if (seen.has(name)) continue;
        let real;
        try {
          real = realpathSync(p);
        } catch {
          continue;
        }
        const target = byReal.get(real);
        if (!target) {
          skipped.push(`${p} (link to ${real})`);
          continue;
        }
        seen.add(name);
        entries.push({ dest: `bin/${name}`, kind: 'symlink', target });
      }
    }
    // files/ trees
    for (const [host, dest] of spec.files ?? []) {
      /** @type {Entry[]} */
      const found = [];
      walkTree(host, dest, spec.exclude ?? [], found, () => {});
      for (const e of found) {
        if (e.kind === 'file') addFile(e.src, e.dest, e.exec);
        else entries.push(e);
      }
    }
    for (const [dest, content] of Object.entries(spec.text ?? {})) entries.push({ dest, kind: 'text', content });
    for (const d of spec.dirs ?? []) entries.push({ dest: d, kind: 'dir' });
    for (const [n, target] of Object.entries(spec.links ?? {})) entries.push({ dest: `bin/${n}`, kind: 'symlink', target });
    return { entries, skipped, elves };
  };

  /** @type {Map<string, ReturnType<typeof planSpec> & { spec: PackageSpec }>} */
  const planned = new Map();
  /** @type {Array<[string, PackageSpec]>} */
  const specs = [...Object.entries(INTERNAL).map(([k, s]) => /** @type {[string, PackageSpec]} */ ([`internal:${k}`, s])), ...Object.entries(PACKAGES)];
  for (const [attr, spec] of specs) {
    const key = specKeys.get(spec) ?? (attr.startsWith('internal:') ? attr : `attr:${attr}`);
    specKeys.set(spec, key);
    if (!attr.startsWith('internal:')) attrs[attr] = key;
    if (planned.has(key)) continue;
    try {
      for (const dep of spec.deps ?? []) if (errors[`internal:${dep}`]) throw new Error(errors[`internal:${dep}`]);
      planned.set(key, { ...planSpec(key, spec), spec });
    } catch (err) {
      errors[attr.replace(/^internal:/, 'internal:')] = /** @type {Error} */ (err).message;
    }
  }
  for (const [attr, key] of Object.entries(attrs)) if (!planned.has(key)) errors[attr] ??= errors[key] ?? 'not planned';
  for (const a of Object.keys(errors)) if (attrs[a]) delete attrs[a];

  // Library data (LIB_DATA: xtables extensions, terminfo) rides along with its source's libraries;
  // its ELF files may need more libraries, so resolve those first, until nothing new appears.
  /** @type {Map<string, Entry[]>} */
  const libDataEntries = new Map();
  for (let more = true; more; ) {
    more = false;
    for (const group of [...groups.keys()]) {
      if (libDataEntries.has(group) || !LIB_DATA[group]) continue;
      more = true;
      /** @type {Entry[]} */
      const entries = [];
      for (const [host, dest] of LIB_DATA[group]) {
        if (!existsSync(host)) continue;
        walkTree(host, dest, [], entries, (e) => {
          const info = readElf(e.src);
          if (info && info.needed.length > 0) e.elf = { interp: Boolean(info.interp), rpath: info.needed.map((n) => resolve(n, e.src, info.runpath)) };
        });
        const owner = dpkg.owner(host);
        if (owner) groupDebs.get(group)?.add(`${owner}=${version(owner)}`), involved.set(owner, version(owner));
      }
      libDataEntries.set(group, entries);
    }
  }
  // Library store paths, one per Debian source.
  const libKey = (group) => `lib:${group}`;
  const groupOf = (hostPath) => libKey(/** @type {any} */ (libs.get(hostPath)).group);
  for (const [group, names] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const hostOf = new Map([...libs.values()].filter((l) => l.group === group).map((l) => [l.file, l]));
    /** @type {Entry[]} */
    const entries = [];
    const deps = new Set();
    for (const name of [...names].sort()) {
      const l = hostOf.get(name);
      /** @type {Entry & { kind: 'file' }} */
      const e = { dest: `lib/${name}`, kind: 'file', src: l.real, exec: (statSync(l.real).mode & 0o111) !== 0 };
      // glibc's own objects find each other by soname (ld.so and libc.so.6 are always loaded
      // first): no RUNPATH; only libc.so.6's own interpreter (it runs as a program) is patched.
      // Libraries that also run as programs (libc.so.6, libcap.so.2) get the store's interpreter.
      const interp = Boolean(l.interp) && !name.startsWith('ld-linux');
      if (interp) deps.add(libKey('glibc'));
      if (isGlibc(group)) {
        if (interp) e.elf = { interp, rpath: [] };
      } else if (l.needed.length > 0 || interp) {
        const rpath = [...new Set(l.resolved.map(groupOf))];
        for (const r of rpath) deps.add(r);
        e.elf = { interp, rpath };
      }
      entries.push(e);
    }
    for (const e of libDataEntries.get(group) ?? []) {
      if (e.kind === 'file' && e.elf) {
        e.elf = { interp: e.elf.interp, rpath: [...new Set(e.elf.rpath.map(groupOf))] };
        for (const r of e.elf.rpath) deps.add(r);
        if (e.elf.interp) deps.add(libKey('glibc'));
      }
      entries.push(e);
    }
    deps.delete(libKey(group));
    const ver = upstreamVersion([...groupDebs.get(group)][0].split('=')[1]);
    paths[libKey(group)] = { key: libKey(group), name: `${group}-${ver}-lib`, base: '', deps: [...deps].sort(), debian: [...groupDebs.get(group)].sort(), entries: dedupe(entries), skipped: [] };
  }

  const glibcKey = [...groups.keys()].filter(isGlibc).map(libKey)[0];
  const ncursesKey = groups.has('ncurses') ? libKey('ncurses') : undefined;
  /** Transitive closure of library groups, to find the programs that use libtinfo. */
  const closure = (keys) => {
    const out = new Set();
    const stack = [...keys];
    while (stack.length) {
      const k = stack.pop();
      if (out.has(k)) continue;
      out.add(k);
      stack.push(...(paths[k]?.deps ?? []));
    }
    return out;
  };
  for (const [key, p] of planned) {
    const deps = new Set((p.spec.deps ?? []).map((d) => `internal:${d}`));
    const byDest = new Map(p.entries.map((e) => [e.dest, e]));
    for (const el of p.elves) {
      const rpath = [...new Set(el.needed.map((r) => libKey(libs.get(r).group)))];
      for (const r of rpath) deps.add(r);
      if (el.interp) deps.add(glibcKey);
      el.entry.elf = { interp: Boolean(el.interp), rpath };
    }
    // Wrappers: the map's, and TERMINFO_DIRS for every program of a top-level attribute that
    // links libtinfo (Debian's libtinfo only searches /etc, /lib and /usr/share).
    /** @type {Record<string, import('./packages.mjs').WrapSpec>} */
    const wraps = { ...(p.spec.wrap ?? {}) };
    if (!key.startsWith('internal:') && ncursesKey) {
      for (const el of p.elves) {
        if (!el.entry.dest.startsWith('bin/') || !el.interp) continue;
        if (!closure(el.entry.elf.rpath).has(ncursesKey)) continue;
        const n = el.entry.dest.slice(4);
        wraps[n] = { ...wraps[n], setDefault: { ...(wraps[n]?.setDefault ?? {}), TERMINFO_DIRS: `@lib:ncurses@/share/terminfo` } };
      }
    }
    for (const [n, w] of Object.entries(wraps)) {
      const e = byDest.get(`bin/${n}`);
      if (!e || e.kind !== 'file') throw new Error(`${key}: cannot wrap bin/${n}: not a file`);
      e.dest = `bin/.${n}-wrapped`;
      p.entries.push({ dest: `bin/${n}`, kind: 'wrapper', wrapped: `@out@/bin/.${n}-wrapped`, set: w.set ?? {}, setDefault: w.setDefault ?? {} });
      deps.add(glibcKey);
      for (const v of [...Object.values(w.set ?? {}), ...Object.values(w.setDefault ?? {})]) for (const m of v.matchAll(/@lib:([^@]+)@/g)) deps.add(libKey(m[1]));
    }
    const spec = p.spec;
    const ver = spec.version ?? upstreamVersion(version(spec.deb[0]) ?? '');
    paths[key] = {
      key,
      name: ver ? `${spec.pname}-${ver}` : spec.pname,
      base: '',
      deps: [...deps].filter(Boolean).sort(),
      debian: spec.deb.map((d) => `${d}=${version(d)}`).sort(),
      entries: dedupe(p.entries),
      skipped: p.skipped,
    };
  }

  // Names: input-addressed, dependencies first.
  const done = new Set();
  const visiting = new Set();
  const name = (k) => {
    const p = paths[k];
    if (done.has(k)) return p.base;
    if (visiting.has(k)) throw new Error(`dependency cycle through ${k}`);
    visiting.add(k);
    const depBases = p.deps.filter((d) => d !== k).map(name);
    const input = JSON.stringify({ builder: BUILDER_VERSION, name: p.name, debian: p.debian, deps: depBases, entries: p.entries.map((e) => ({ ...e, src: e.kind === 'file' ? e.src : undefined })) });
    p.base = `${storeHash(input)}-${p.name}`;
    visiting.delete(k);
    done.add(k);
    return p.base;
  };
  for (const k of Object.keys(paths).sort()) name(k);
  const debian = Object.fromEntries([...involved].sort(([a], [b]) => (a < b ? -1 : 1)));
  const id = createHash('sha256').update(JSON.stringify(Object.values(paths).map((p) => p.base).sort())).digest('hex').slice(0, 16);
  return { id, paths, attrs, errors, debian, tools: await toolVersions() };
}

/**
 * Collect a host tree as entries: directories, files (dereferenced when a symlink leaves the tree),
 * relative symlinks that stay inside it. `onElf` sees each ELF file entry.
 * @param {string} host
 * @param {string} dest
 * @param {string[]} exclude regular expressions on host paths
 * @param {Entry[]} out
 * @param {(e: Entry & { kind: 'file' }) => void} onElf
 */
function walkTree(host, dest, exclude, out, onElf) {
  const top = host;
  const walk = (h, d) => {
    if (exclude.some((r) => new RegExp(r).test(h))) return;
    const st = lstatSync(h);
    if (st.isSymbolicLink()) {
      const t = readlinkSync(h);
      const inside = !t.startsWith('/') && posix.normalize(posix.join(dirname(h), t)).startsWith(`${top}/`);
      if (inside) {
        out.push({ dest: d, kind: 'symlink', target: t });
        return;
      }
      let real;
      try {
        real = realpathSync(h);
      } catch {
        return; // dangling
      }
      if (statSync(real).isDirectory()) return walk(real, d);
      return addF(real, d);
    }
    if (st.isDirectory()) {
      out.push({ dest: d, kind: 'dir' });
      for (const n of readdirSync(h).sort()) walk(join(h, n), `${d}/${n}`);
    } else if (st.isFile()) addF(h, d);
  };
  const addF = (h, d) => {
    /** @type {Entry & { kind: 'file' }} */
    const e = { dest: d, kind: 'file', src: realpathSync(h), exec: (statSync(h).mode & 0o111) !== 0 };
    out.push(e);
    if (headIsElf(e.src)) onElf(e);
  };
  walk(host, dest);
}

function isGlibc(group) {
  return group === 'glibc';
}

/** @param {Entry[]} entries */
function dedupe(entries) {
  const m = new Map();
  for (const e of entries) if (!m.has(e.dest) || e.kind !== 'dir') m.set(e.dest, e);
  return [...m.values()].sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// The store: plan + layers on disk

export class Store {
  /** @param {{ cacheDir?: string, log?: (msg: string) => void }} [opts] */
  constructor(opts = {}) {
    this.cacheDir = opts.cacheDir ?? defaultCacheDir();
    this.log = opts.log ?? (() => {});
    mkdirSync(join(this.cacheDir, 'blobs'), { recursive: true });
    mkdirSync(join(this.cacheDir, 'layers'), { recursive: true });
    mkdirSync(join(this.cacheDir, 'tmp'), { recursive: true });
    /** @type {Promise<Plan> | undefined} */
    this.planPromise = undefined;
    /** @type {Map<string, Promise<LayerMeta>>} */
    this.inflight = new Map();
  }

  /** @returns {Promise<Plan>} */
  plan() {
    this.planPromise ??= this.loadOrMakePlan();
    return this.planPromise;
  }

  async loadOrMakePlan() {
    const file = join(this.cacheDir, 'plan.json');
    const dpkg = loadDpkg();
    if (existsSync(file)) {
      try {
        /** @type {Plan} */
        const plan = JSON.parse(readFileSync(file, 'utf8'));
        const stale = Object.entries(plan.debian).find(([p, v]) => dpkg.status.get(p)?.version !== v);
        if (!stale && plan.builder === BUILDER_VERSION) return plan;
        if (stale) this.log(`plan: ${stale[0]} changed, planning again`);
      } catch {
        // planned again below
      }
    }
    const t0 = Date.now();
    const plan = await makePlan(dpkg);
    plan.builder = BUILDER_VERSION;
    this.log(`plan: ${Object.keys(plan.paths).length} store paths for ${Object.keys(plan.attrs).length} attributes in ${Date.now() - t0} ms`);
    atomicWrite(file, JSON.stringify(plan, null, 1));
    return plan;
  }

  blobPath(digest) {
    return join(this.cacheDir, 'blobs', digest.replace(/^sha256:/, ''));
  }

  /** Store a blob by its sha256; returns the digest. */
  putBlob(buf) {
    const digest = `sha256:${createHash('sha256').update(buf).digest('hex')}`;
    const p = this.blobPath(digest);
    if (!existsSync(p)) atomicWrite(p, buf);
    return digest;
  }

  /**
   * The layer of one store path, built if it is not in the cache yet.
   * @param {string} key
   * @returns {Promise<LayerMeta>}
   */
  async ensure(key) {
    const plan = await this.plan();
    const p = plan.paths[key];
    if (!p) throw new Error(`no store path ${key}`);
    const metaFile = join(this.cacheDir, 'layers', `${p.base}.json`);
    if (existsSync(metaFile)) return JSON.parse(readFileSync(metaFile, 'utf8'));
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.build(plan, p, metaFile).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** Every store path of the plan (what build.mjs does). */
  async ensureAll() {
    const plan = await this.plan();
    const out = [];
    for (const k of Object.keys(plan.paths).sort()) out.push(await this.ensure(k));
    return out;
  }

  /**
   * @param {Plan} plan
   * @param {StorePathPlan} p
   * @param {string} metaFile
   */
  async build(plan, p, metaFile) {
    const t0 = Date.now();
    const work = join(this.cacheDir, 'tmp', `${p.base}.${process.pid}.${randomBytes(4).toString('hex')}`);
    const root = join(work, p.base);
    mkdirSync(root, { recursive: true });
    const at = (k) => `${STORE}/${plan.paths[k].base}`;
    const out = `${STORE}/${p.base}`;
    const subst = (s) =>
      s.replace(/@([^@]+)@/g, (m, ref) => {
        if (ref === 'out') return out;
        if (ref.startsWith('lib:')) return at(ref);
        if (plan.paths[`internal:${ref}`]) return at(`internal:${ref}`);
        throw new Error(`${p.key}: unknown placeholder ${m}`);
      });
    const glibc = Object.values(plan.paths).find((x) => x.key === 'lib:glibc');
    const interp = `${STORE}/${glibc.base}/lib/ld-linux-x86-64.so.2`;
    try {
      for (const e of p.entries) {
        const dst = join(root, e.dest);
        mkdirSync(dirname(dst), { recursive: true });
        if (e.kind === 'dir') mkdirSync(dst, { recursive: true });
        else if (e.kind === 'file') copyFileSync(e.src, dst); // content only: no xattrs, no file capabilities
        else if (e.kind === 'text') writeFileSync(dst, e.content);
        else if (e.kind === 'symlink') symlinkSync(subst(e.target), dst);
        else if (e.kind === 'wrapper') await compileWrapper(dst, subst(e.wrapped), mapValues(e.set, subst), mapValues(e.setDefault, subst));
      }
      for (const e of p.entries) {
        const elf = e.kind === 'file' ? e.elf : e.kind === 'wrapper' ? { interp: true, rpath: ['lib:glibc'] } : undefined;
        if (!elf) continue;
        const args = [];
        if (elf.interp) args.push('--set-interpreter', interp);
        const rpath = elf.rpath.map((k) => `${at(k)}/lib`).join(':');
        if (rpath) args.push('--set-rpath', rpath);
        if (args.length) await run('patchelf', [...args, join(root, e.dest)]);
      }
      const { tarBuf, listing } = await packTree(root, `nix/store/${p.base}`);
      const gz = await gzip(tarBuf, { level: 6 });
      const digest = this.putBlob(gz);
      /** @type {LayerMeta} */
      const meta = { base: p.base, digest, diffId: `sha256:${createHash('sha256').update(tarBuf).digest('hex')}`, size: gz.length, tarSize: tarBuf.length, listing };
      atomicWrite(metaFile, JSON.stringify(meta));
      this.log(`built ${p.base}: ${listing.length} entries, ${(gz.length / 1e6).toFixed(1)} MB in ${Date.now() - t0} ms`);
      return meta;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** What went into this cache: Debian packages and versions, tools, store paths. */
  async provenance() {
    const plan = await this.plan();
    return {
      builder: BUILDER_VERSION,
      plan: plan.id,
      cacheDir: this.cacheDir,
      debian: plan.debian,
      tools: plan.tools,
      errors: plan.errors,
      attributes: Object.fromEntries(Object.entries(plan.attrs).map(([a, k]) => [a, `${STORE}/${plan.paths[k].base}`])),
      storePaths: Object.fromEntries(Object.values(plan.paths).map((p) => [`${STORE}/${p.base}`, { debian: p.debian, deps: p.deps.map((d) => `${STORE}/${plan.paths[d].base}`), skipped: p.skipped }])),
    };
  }
}

function mapValues(o, f) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

/** Write a file through a temporary name and a rename, so readers never see half of it. */
export function atomicWrite(file, data) {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** A C string literal. */
function cstr(s) {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}

/**
 * A compiled wrapper in the manner of nixpkgs' makeBinaryWrapper: sets the variables and execs the
 * wrapped program with the same argv (multi-call binaries see their own name). No shell involved.
 */
async function compileWrapper(dst, wrapped, set, setDefault) {
  const lines = [
    '#include <errno.h>',
    '#include <stdio.h>',
    '#include <stdlib.h>',
    '#include <string.h>',
    '#include <unistd.h>',
    'int main(int argc, char **argv) {',
    '  (void)argc;',
    ...Object.entries(set).map(([k, v]) => `  setenv(${cstr(k)}, ${cstr(v)}, 1);`),
    ...Object.entries(setDefault).map(([k, v]) => `  setenv(${cstr(k)}, ${cstr(v)}, 0);`),
    `  execv(${cstr(wrapped)}, argv);`,
    `  fprintf(stderr, "%s: cannot run %s: %s\\n", argv[0], ${cstr(wrapped)}, strerror(errno));`,
    '  return 126;',
    '}',
    '',
  ];
  const src = `${dst}.c`;
  writeFileSync(src, lines.join('\n'));
  await run('gcc', ['-O2', '-s', '-o', dst, src]);
  rmSync(src);
}

/**
 * A reproducible tar of a directory under a prefix: its parents (nix/, nix/store/) first, then
 * every entry sorted by name, root-owned, mtime 1, dirs 0555, files 0444 or 0555.
 * @param {string} root
 * @param {string} prefix
 */
export async function packTree(root, prefix) {
  /** @type {Array<[string, 'dir' | 'file' | 'symlink']>} */
  const listing = [];
  const walk = (dir, rel) => {
    for (const n of readdirSync(dir).sort()) {
      const p = join(dir, n);
      const r = rel ? `${rel}/${n}` : n;
      const st = lstatSync(p);
      if (st.isDirectory()) {
        listing.push([r, 'dir']);
        walk(p, r);
      } else if (st.isSymbolicLink()) listing.push([r, 'symlink']);
      else listing.push([r, 'file']);
    }
  };
  walk(root, '');
  /** @type {TarEntry[]} */
  const entries = [];
  const parts = prefix.split('/');
  for (let i = 1; i <= parts.length; i++) entries.push({ name: parts.slice(0, i).join('/'), type: 'directory' });
  for (const [r, kind] of listing) {
    const p = join(root, r);
    const name = `${prefix}/${r}`;
    if (kind === 'dir') entries.push({ name, type: 'directory' });
    else if (kind === 'symlink') entries.push({ name, type: 'symlink', linkname: readlinkSync(p) });
    else entries.push({ name, type: 'file', body: readFileSync(p), exec: (statSync(p).mode & 0o111) !== 0 });
  }
  return { tarBuf: await makeTar(entries), listing };
}

/** @typedef {{ name: string, type: 'directory' | 'file' | 'symlink', linkname?: string, body?: Buffer, exec?: boolean }} TarEntry */

/**
 * @param {TarEntry[]} entries in the order to write
 * @returns {Promise<Buffer>}
 */
export async function makeTar(entries) {
  const pack = tar.pack();
  /** @type {Buffer[]} */
  const chunks = [];
  pack.on('data', (c) => {
    chunks.push(/** @type {Buffer} */ (c));
  });
  const ended = new Promise((resolve, reject) => {
    pack.on('end', () => resolve(undefined));
    pack.on('error', reject);
  });
  for (const e of entries) {
    const header = {
      name: e.type === 'directory' ? `${e.name}/` : e.name,
      type: e.type,
      mode: e.type === 'directory' ? 0o555 : e.type === 'symlink' ? 0o777 : e.exec ? 0o555 : 0o444,
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      mtime: MTIME,
      ...(e.type === 'symlink' ? { linkname: e.linkname } : {}),
      ...(e.type === 'file' ? { size: e.body.length } : {}),
    };
    await new Promise((resolve, reject) => {
      const cb = (/** @type {Error | null | undefined} */ err) => (err ? reject(err) : resolve(undefined));
      if (e.type === 'file') pack.entry(header, e.body, cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export { relative, posix };
