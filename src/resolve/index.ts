import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ExitCode, NixrunError } from '../errors.js';
import { SEED_TABLE, SEED_INFO } from './seed.js';

export interface Candidate {
  attr: string;
  reasons: string[];
  nixery: 'ok' | 'casefold' | 'unreachable';
}

export interface TableInfo {
  kind: 'bundled' | 'user' | 'seed';
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
  /** Ranked best first; [] when unknown. */
  candidates(exe: string): Candidate[];
  hasAttribute(attr: string): boolean;
  executablesOf(attr: string): string[];
  suggest(name: string, max?: number): string[];
  executables(): string[];
  attributes(): string[];
}

export interface Resolution {
  input: string;
  attr: string;
  via: 'attribute' | 'executable' | 'remembered';
  candidates: Candidate[];
  clearCut: boolean;
}

export interface ChoiceStore {
  get(exe: string): string | undefined;
  set(exe: string, attr: string): void;
  forget(exe?: string): void;
}

/**
 * The lookup table. Until the table built from the nix-index database lands (issue [table]),
 * this is the small seed table behind the same interface.
 */
export function loadTable(): Table {
  return seedTable();
}

function seedTable(): Table {
  const byExe = new Map(Object.entries(SEED_TABLE));
  const byAttr = new Map<string, string[]>();
  for (const [exe, attrs] of byExe) for (const a of attrs) byAttr.set(a, [...(byAttr.get(a) ?? []), exe]);
  const attrKey = (a: string) => {
    const [first, ...rest] = a.split('.');
    return [first!.toLowerCase(), ...rest].join('.');
  };
  const attrIndex = new Map([...byAttr.keys()].map((a) => [attrKey(a), a]));
  return {
    info: { ...SEED_INFO, executables: byExe.size, attributes: byAttr.size },
    candidates: (exe) =>
      (byExe.get(exe) ?? []).map((attr, i) => ({
        attr,
        reasons: i === 0 ? ['first in the seed table'] : ['alternative in the seed table'],
        nixery: /^[^.]*[A-Z]/.test(attr) ? 'casefold' : 'ok',
      })),
    hasAttribute: (attr) => attrIndex.has(attrKey(attr)),
    executablesOf: (attr) => byAttr.get(attrIndex.get(attrKey(attr)) ?? attr) ?? [],
    suggest: (name, max = 3) => closest(name, [...byExe.keys(), ...byAttr.keys()], max),
    executables: () => [...byExe.keys()].sort(),
    attributes: () => [...byAttr.keys()].sort(),
  };
}

export function tableAgeDays(info: TableInfo, now = Date.now()): number {
  const t = Date.parse(info.snapshot);
  return Number.isNaN(t) ? 0 : (now - t) / 86_400_000;
}

export function resolveExecutable(table: Table, exe: string, opts: { choices?: ChoiceStore } = {}): Resolution {
  const candidates = table.candidates(exe);
  if (candidates.length === 0) {
    const ideas = table.suggest(exe, 3);
    throw new NixrunError(`no package in nixpkgs provides the executable "${exe}"${ideas.length > 0 ? `; did you mean ${ideas.join(', ')}?` : ''}`, {
      exitCode: ExitCode.notFound,
      hint: `if you know the package, name it: kubectl nixrun --pkgs <attribute> -- ${exe}`,
    });
  }
  const remembered = opts.choices?.get(exe);
  if (remembered && candidates.some((c) => c.attr === remembered)) {
    return { input: exe, attr: remembered, via: 'remembered', candidates, clearCut: true };
  }
  return { input: exe, attr: candidates[0]!.attr, via: 'executable', candidates, clearCut: candidates.length === 1 };
}

/**
 * --pkgs: an exact attribute wins, then an executable name; anything else is taken as an
 * attribute the table does not list (libraries, data, python3Packages.*), for Nixery to judge.
 */
export function resolvePackage(table: Table, name: string, opts: { choices?: ChoiceStore } = {}): Resolution {
  if (table.hasAttribute(name) || table.candidates(name).length === 0) {
    return { input: name, attr: name, via: 'attribute', candidates: [], clearCut: true };
  }
  return resolveExecutable(table, name, opts);
}

/** Remembered choices, like comma's cache: ${XDG_STATE_HOME:-~/.local/state}/kubectl-nixrun/choices.json */
export function fileChoiceStore(env: NodeJS.ProcessEnv = process.env): ChoiceStore {
  const path = join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'kubectl-nixrun', 'choices.json');
  const read = (): Record<string, string> => {
    try {
      return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>) : {};
    } catch {
      return {};
    }
  };
  const write = (data: Record<string, string>) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  };
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
  const scored = pool.map((p) => [p, distance(name, p)] as const).filter(([, d]) => d <= Math.max(2, Math.floor(name.length / 3)));
  return [...new Set(scored.sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).map(([p]) => p))].slice(0, max);
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
