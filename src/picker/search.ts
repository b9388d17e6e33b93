import fuzzysort from 'fuzzysort';
import type { Table } from '../resolve/index.js';

export interface PickEntry {
  attr: string;
  /** What it provides, for "postgresql — psql, pg_dump, …". */
  executables: string[];
  /** Why it matched: the executable or attribute name that hit. */
  via: string;
}

interface Name {
  key: string;
  name: string;
  kind: 'exe' | 'attr';
  prepared: ReturnType<typeof fuzzysort.prepare>;
}

interface Names {
  /** Lower-cased, sorted, for prefix ranges by binary search. */
  sorted: Name[];
}

/**
 * Search over every executable and attribute in the table, ranked: exact hits, then prefixes
 * (shortest first), then fuzzy matches (fuzzysort), with recently used packages lifted. The
 * index is built once, on the first search, so typing stays instant over the whole table.
 */
export class PackageIndex {
  private names: Names | undefined;

  constructor(
    private readonly table: Table,
    private readonly recent: string[] = [],
  ) {}

  search(term: string, limit = 30): PickEntry[] {
    const t = term.trim();
    if (t.length === 0) return this.recent.filter((a) => this.table.hasAttribute(a)).slice(0, limit).map((a) => this.entry(a, 'recent'));
    const names = this.index();
    const scores = new Map<string, { score: number; via: string }>();
    const add = (attr: string | undefined, score: number, via: string) => {
      if (!attr) return;
      const boosted = score + (this.recent.includes(attr) ? 0.5 : 0);
      const prev = scores.get(attr);
      if (!prev || prev.score < boosted) scores.set(attr, { score: boosted, via });
    };

    // Exact: the executable's providers in ranked order, and the attribute itself.
    this.table.candidates(t).forEach((c, i) => add(c.attr, 10 - i * 0.01, t));
    if (this.table.hasAttribute(t)) add(t, 10, t);

    // Prefix: a contiguous range of the sorted keys.
    const lower = t.toLowerCase();
    const from = lowerBound(names.sorted, lower);
    const prefixHits: Name[] = [];
    for (let i = from; i < names.sorted.length && names.sorted[i]!.key.startsWith(lower) && prefixHits.length < 200; i++) {
      prefixHits.push(names.sorted[i]!);
    }
    prefixHits.sort((a, b) => a.name.length - b.name.length || a.name.localeCompare(b.name));
    for (const hit of prefixHits.slice(0, limit * 2)) add(this.attrOf(hit), 5 - hit.name.length * 0.01, hit.name);

    // Fuzzy: everything else that looks like what was typed.
    if (scores.size < limit) {
      for (const r of fuzzysort.go(lower, names.sorted, { key: 'prepared', limit: limit * 2, threshold: 0.35 })) {
        add(this.attrOf(r.obj), r.score, r.obj.name);
      }
    }
    return [...scores.entries()]
      .sort((a, b) => b[1].score - a[1].score || a[0].localeCompare(b[0]))
      .slice(0, limit)
      .map(([attr, { via }]) => this.entry(attr, via));
  }

  private attrOf(hit: { name: string; kind: 'exe' | 'attr' }): string | undefined {
    return hit.kind === 'attr' ? hit.name : this.table.candidates(hit.name)[0]?.attr;
  }

  private entry(attr: string, via: string): PickEntry {
    return { attr, executables: this.table.executablesOf(attr), via };
  }

  /** Build the index now (the picker calls this once the prompt is on screen, before any key). */
  warm(): void {
    this.index();
  }

  private index(): Names {
    if (this.names) return this.names;
    const all: Name[] = [];
    const push = (name: string, kind: 'exe' | 'attr') => {
      const key = name.toLowerCase();
      all.push({ key, name, kind, prepared: fuzzysort.prepare(key) });
    };
    for (const name of this.table.executables()) push(name, 'exe');
    for (const name of this.table.attributes()) push(name, 'attr');
    all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.names = { sorted: all };
    return this.names;
  }
}

function lowerBound(xs: Array<{ key: string }>, key: string): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]!.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** "postgresql — psql, pg_dump, pg_restore, …" */
export function describeEntry(e: PickEntry, max = 6): string {
  if (e.executables.length === 0) return e.attr;
  const shown = e.executables.slice(0, max).join(', ');
  return `${e.attr} — ${shown}${e.executables.length > max ? ', …' : ''}`;
}
