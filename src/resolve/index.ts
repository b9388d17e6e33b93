import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, NixrunError } from '../errors.js';
import { isAmbiguous, isClearCut, nixeryReach, rankCandidates, WEIGHTS, type AttrInfo } from './rank.js';
import { attrKey, parseHints, parseTableLazy, type Overrides } from './table-file.js';
import { readJsonFile, writeJsonFile, xdgPath } from '../xdg.js';

export interface Candidate {
  attr: string;
  reasons: string[];
  nixery: 'ok' | 'casefold' | 'unreachable';
  /** Lower is better; the gaps tell how clear the choice is. */
  score: number;
  /** Systems of the table that do not build it (aarch64-linux: not for --arch arm64). */
  notBuiltFor?: string[];
}

export interface TableInfo {
  kind: 'bundled' | 'user';
  path: string;
  source: string;
  /** YYYY-MM-DD */
  snapshot: string;
  systems: string[];
  executables: number;
  attributes: number;
}

export interface Table {
  info: TableInfo;
  /**
   * Ranked best first; [] when unknown. Exact, case-sensitive match. With a system
   * (aarch64-linux for arm64), packages nixpkgs does not build for it rank last.
   */
  candidates(exe: string, opts?: { system?: string }): Candidate[];
  /** Is this an attribute of the table (first segment compared case-insensitively, like Nixery)? */
  hasAttribute(attr: string): boolean;
  executablesOf(attr: string): string[];
  /** Did-you-mean: close executable names, then attributes. */
  suggest(name: string, max?: number): string[];
  executables(): string[];
  attributes(): string[];
  /** The table's systems that do not build this attribute ([] when all do, or it is unknown). */
  missingOn(attr: string): string[];
}

export interface Resolution {
  input: string;
  attr: string;
  via: 'attribute' | 'executable' | 'remembered';
  candidates: Candidate[];
  /** The winner is plainly the one (alone, exact, or far ahead). */
  clearCut: boolean;
  /** The ranking cannot tell the first two apart. */
  ambiguous: boolean;
}

export interface ChoiceStore {
  get(exe: string): string | undefined;
  set(exe: string, attr: string): void;
  forget(exe?: string): void;
}

/** The table's file name, bundled in data/ and the user's in the XDG data directory. */
export const TABLE_FILE = 'table.br';

/** In the standalone binary the data files are embedded: their paths inside the executable. */
let embeddedData: { table: string; overrides: Overrides } | undefined;
export function useEmbeddedData(data: { table: string; overrides: Overrides }): void {
  embeddedData = data;
}

/** The package root: the nearest directory above this module (or the bundle) holding data/. */
function packageDataDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'data', TABLE_FILE))) return join(dir, 'data');
    dir = dirname(dir);
  }
  throw new NixrunError('the bundled package table (data/table.br) is missing from the installation', { exitCode: ExitCode.tool, hint: 'reinstall kubectl-nixrun' });
}

/** Which table to read: set by the CLI from NIXRUN_TABLE and the XDG data directory. */
export interface TableFiles {
  /** Use this table file (and the overrides.json beside it) instead of any other. */
  file?: string;
  /** The user's own table from `table update`: used, when it exists, instead of the bundled one. */
  userFile?: string;
}

function bundledTablePath(): string {
  return embeddedData?.table || join(packageDataDir(), TABLE_FILE);
}

export function loadOverrides(files: TableFiles = {}): Overrides {
  try {
    if (!files.file && embeddedData) return embeddedData.overrides;
    const dir = files.file ? dirname(files.file) : packageDataDir();
    return JSON.parse(readFileSync(join(dir, 'overrides.json'), 'utf8')) as Overrides;
  } catch {
    return {};
  }
}

/** One table per file for the life of the process (the CLI opens the same one from several places). */
const opened = new Map<string, Table>();

/** The table to use: `file`, else the user's when there is one, else the bundled one. Synchronous. */
export function loadTable(files: TableFiles = {}): Table {
  const useUser = !files.file && files.userFile !== undefined && existsSync(files.userFile);
  const path = files.file || (useUser ? files.userFile! : bundledTablePath());
  let table = opened.get(path);
  if (!table) {
    table = openTable(path, useUser ? 'user' : 'bundled', loadOverrides(files));
    opened.set(path, table);
  }
  return table;
}

function openTable(path: string, kind: 'bundled' | 'user', overrides: Overrides): Table {
  const file = parseTableLazy(readFileSync(path));
  const { header, attrs: section0 } = file;
  let allAttrs: AttrInfo[] | undefined;
  const attrs = () => (allAttrs ??= section0.all());
  let sectionText: string | undefined;
  const section = () => (sectionText ??= `\n${file.exeSection()}`);
  // exe → the rest of its line: candidate indexes, then Debian's providers after a tab.
  let exeMap: Map<string, string> | undefined;
  let attrIndex: Map<string, number> | undefined;
  // Counted when asked (`table info`), not on every load.
  let exeCount: number | undefined = file.exeCount;
  const countExes = () => {
    if (exeCount !== undefined) return exeCount;
    let n = 0;
    const text = section();
    for (let i = text.indexOf('\n'); i !== -1 && i < text.length - 1; i = text.indexOf('\n', i + 1)) n++;
    return (exeCount = n);
  };

  // One lookup searches (version 2: one block; version 1: the text); many build the map once.
  let lookups = 0;
  const entryOf = (exe: string): { idx: number[]; hints: string } | undefined => {
    if (!exeMap && ++lookups > 16) exeMap = parseExes(section());
    let rest: string | undefined;
    if (exeMap) rest = exeMap.get(exe);
    else if (file.findExe) rest = file.findExe(exe);
    else {
      const text = section();
      const at = text.indexOf(`\n${exe}\t`);
      if (at === -1) return undefined;
      const start = at + exe.length + 2;
      const end = text.indexOf('\n', start);
      rest = text.slice(start, end === -1 ? undefined : end);
    }
    return rest === undefined ? undefined : splitEntry(rest);
  };
  const attrIndexes = () => (attrIndex ??= new Map(attrs().map((a, i) => [attrKey(a.attr), i])));
  const indexOfAttr = (attr: string): number | undefined => (file.findAttr && !attrIndex ? file.findAttr(attrKey(attr)) : attrIndexes().get(attrKey(attr)));
  // Attribute index → its executables, read straight off the candidate lists: the picker asks
  // on its first key, and 50,000 entries split into arrays were most of its garbage.
  let byIndex: Array<string[] | undefined> | undefined;
  const executablesByIndex = () => {
    if (byIndex) return byIndex;
    exeMap ??= parseExes(section());
    byIndex = new Array<string[] | undefined>(section0.length);
    for (const [exe, rest] of exeMap) {
      let i = 0;
      for (let k = 0; k <= rest.length; k++) {
        const c = k < rest.length ? rest.charCodeAt(k) : 44;
        if (c >= 48 && c <= 57) i = i * 10 + (c - 48);
        else {
          (byIndex[i] ??= []).push(exe);
          i = 0;
          if (c !== 44) break; // a tab: Debian's providers follow
        }
      }
    }
    return byIndex;
  };

  return {
    info: {
      kind,
      path,
      source: header.source,
      snapshot: header.snapshot,
      systems: header.systems,
      get executables() {
        return countExes();
      },
      attributes: section0.length,
    },
    candidates(exe, opts = {}) {
      const entry = entryOf(exe);
      if (!entry) return [];
      const infos: AttrInfo[] = entry.idx.map((i) => section0.at(i));
      // Re-rank with the same function the build used, for the reasons; the order is the same
      // (for the table's own system; another system may reorder).
      const ranked = rankCandidates(exe, infos, overrides, { ...(entry.hints ? { distro: parseHints(entry.hints) } : {}), ...(opts.system ? { system: opts.system } : {}) });
      const missing = new Map(infos.map((i) => [i.attr, i.missingOn]));
      return ranked.map((r) => {
        const notBuiltFor = missing.get(r.attr);
        return { attr: r.attr, reasons: r.reasons, nixery: nixeryReach(r.attr), score: r.score, notBuiltFor: notBuiltFor?.length ? notBuiltFor : undefined };
      });
    },
    hasAttribute: (attr) => indexOfAttr(attr) !== undefined,
    executablesOf: (attr) => {
      const i = indexOfAttr(attr);
      return [...((i === undefined ? undefined : executablesByIndex()[i]) ?? [])].sort((a, b) => a.length - b.length || a.localeCompare(b));
    },
    suggest(name, max = 3) {
      exeMap ??= parseExes(section());
      return closest(name, [...exeMap.keys()], max).concat(closest(name, attrs().map((a) => a.attr), max)).filter((v, i, all) => all.indexOf(v) === i).slice(0, max);
    },
    executables() {
      exeMap ??= parseExes(section());
      return [...exeMap.keys()];
    },
    attributes: () => attrs().map((a) => a.attr),
    missingOn: (attr) => {
      const i = indexOfAttr(attr);
      return (i === undefined ? undefined : section0.at(i).missingOn) ?? [];
    },
  };
}

function splitEntry(rest: string): { idx: number[]; hints: string } {
  const tab = rest.indexOf('\t');
  return tab === -1 ? { idx: rest.split(',').map(Number), hints: '' } : { idx: rest.slice(0, tab).split(',').map(Number), hints: rest.slice(tab + 1) };
}

function parseExes(section: string): Map<string, string> {
  const map = new Map<string, string>();
  let pos = 1;
  while (pos < section.length) {
    const tab = section.indexOf('\t', pos);
    const nl = section.indexOf('\n', tab);
    if (tab === -1) break;
    const end = nl === -1 ? section.length : nl;
    map.set(section.slice(pos, tab), section.slice(tab + 1, end));
    pos = end + 1;
  }
  return map;
}

export function tableAgeDays(info: TableInfo, now = Date.now()): number {
  const t = Date.parse(info.snapshot);
  return Number.isNaN(t) ? 0 : (now - t) / 86_400_000;
}

/** `system`: the target (aarch64-linux for arm64): a provider nixpkgs builds for it is preferred. */
export function resolveExecutable(table: Table, exe: string, opts: { choices?: ChoiceStore; system?: string } = {}): Resolution {
  const candidates = table.candidates(exe, opts.system ? { system: opts.system } : {});
  if (candidates.length === 0) {
    const ideas = table.suggest(exe, 3);
    throw new NixrunError(`no package in nixpkgs provides the executable "${exe}"${ideas.length > 0 ? `; did you mean ${ideas.join(', ')}?` : ''}`, {
      exitCode: ExitCode.notFound,
      hint: `if you know the package, name it: kubectl nixrun --pkgs <attribute> -- ${exe}`,
    });
  }
  const remembered = opts.choices?.get(exe);
  if (remembered && candidates.some((c) => c.attr === remembered)) {
    return { input: exe, attr: remembered, via: 'remembered', candidates, clearCut: true, ambiguous: false };
  }
  return { input: exe, attr: candidates[0]!.attr, via: 'executable', candidates, clearCut: isClearCut(candidates), ambiguous: isAmbiguous(candidates) };
}

/**
 * The same resolution for another target system (an arm64 cluster found by --arch auto, after the
 * plan was resolved for amd64): when the pick is not built for it and another candidate is, the
 * best of those wins, as `resolveExecutable(…, { system })` would have ranked it. An attribute
 * named explicitly or a remembered choice is kept (the run then warns).
 */
export function preferBuiltFor(r: Resolution, system: string): Resolution {
  if (r.via !== 'executable') return r;
  const notBuilt = (c: Candidate) => c.notBuiltFor?.includes(system) ?? false;
  const pick = r.candidates.find((c) => c.attr === r.attr);
  if (!pick || !notBuilt(pick) || r.candidates.every(notBuilt)) return r;
  const candidates = r.candidates
    .map((c) => (notBuilt(c) ? { ...c, score: c.score + WEIGHTS.notBuilt, reasons: [...c.reasons, `not built for ${system} in nixpkgs`] } : c))
    .sort((a, b) => a.score - b.score);
  return { ...r, attr: candidates[0]!.attr, candidates, clearCut: isClearCut(candidates), ambiguous: isAmbiguous(candidates) };
}

/**
 * --pkgs: an exact attribute wins, then an executable name; anything else is taken as an
 * attribute the table does not list (libraries, data, python3Packages.*), for Nixery to judge.
 */
export function resolvePackage(table: Table, name: string, opts: { choices?: ChoiceStore; system?: string } = {}): Resolution {
  if (table.hasAttribute(name) || table.candidates(name).length === 0) {
    return { input: name, attr: name, via: 'attribute', candidates: [], clearCut: true, ambiguous: false };
  }
  return resolveExecutable(table, name, opts);
}

/** Remembered choices, like comma's cache: ${XDG_STATE_HOME:-~/.local/state}/kubectl-nixrun/choices.json */
export function fileChoiceStore(env: NodeJS.ProcessEnv): ChoiceStore {
  const path = xdgPath('state', 'choices.json', env);
  const read = () => readJsonFile<Record<string, string>>(path, {});
  const write = (data: Record<string, string>) => writeJsonFile(path, data, 2);
  return {
    get: (exe) => read()[exe],
    set: (exe, attr) => write({ ...read(), [exe]: attr }),
    forget: (exe) => {
      if (exe === undefined) return write({});
      const data = read();
      delete data[exe];
      write(data);
    },
  };
}

function closest(name: string, pool: string[], max: number): string[] {
  const limit = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  const scored: Array<[string, number]> = [];
  for (const p of pool) {
    if (Math.abs(p.length - name.length) > limit) continue;
    const d = distance(name, p, limit);
    if (d <= limit) scored.push([p, d]);
  }
  return scored.sort((a, b) => a[1] - b[1] || a[0].length - b[0].length || a[0].localeCompare(b[0])).slice(0, max).map(([p]) => p);
}

/** Levenshtein distance with an early exit once every cell exceeds `limit`. */
function distance(a: string, b: string, limit: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length]!;
}
