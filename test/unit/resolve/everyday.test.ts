import { describe, expect, it } from 'vitest';
import { loadTable, resolveExecutable } from '../../../src/resolve/index.js';
import { EVERYDAY, SEEDS } from './everyday-list.js';

// The everyday list (everyday-list.ts): ≥ 150 commands people reach for when debugging in a
// cluster, with the attributes a person would accept. Resolved against the bundled table.
describe('everyday debugging commands resolve to the package a person means', () => {
  const table = loadTable();

  it.each(SEEDS)('seed: %s → one of %j', (exe, accepted) => {
    const r = resolveExecutable(table, exe);
    expect(accepted, JSON.stringify(r.candidates.slice(0, 4).map((c) => c.attr))).toContain(r.attr);
  });

  it('at least 98% of the everyday list is right by default, and the misses are listed', () => {
    expect(EVERYDAY.length).toBeGreaterThanOrEqual(150);
    expect(new Set(EVERYDAY.map(([exe]) => exe)).size).toBe(EVERYDAY.length);
    const misses: string[] = [];
    for (const [exe, accepted] of EVERYDAY) {
      const r = resolveExecutable(table, exe);
      expect(r.candidates[0]!.nixery).not.toBe('unreachable');
      if (!accepted.includes(r.attr)) misses.push(`${exe} → ${r.attr} (want ${accepted.join(' | ')}; then ${r.candidates.slice(1, 4).map((c) => c.attr).join(', ')})`);
    }
    const right = EVERYDAY.length - misses.length;
    console.log(`everyday list: ${right}/${EVERYDAY.length} right (${((100 * right) / EVERYDAY.length).toFixed(1)}%)${misses.length ? `; wrong:\n  ${misses.join('\n  ')}` : ''}`);
    expect(right / EVERYDAY.length, `wrong picks:\n${misses.join('\n')}`).toBeGreaterThanOrEqual(0.98);
  });

  it('the classes of issue 15: aliases, reimplementations, forks and namesakes lose', () => {
    const pick = (exe: string) => resolveExecutable(table, exe).attr;
    expect(pick('nsenter')).toBe('util-linux'); // not libuuid (util-linux-minimal under an alias)
    expect(pick('diff')).toBe('diffutils'); // not uutils-diffutils
    expect(pick('dmesg')).toBe('util-linux'); // not uutils-util-linux
    expect(['mariadb', 'mysql84', 'mysql80']).toContain(pick('mysqldump')); // not percona-server
    expect(pick('bridge')).toBe('iproute2'); // not cni-plugins
    expect(pick('drill')).toBe('ldns'); // not the HTTP load tester called drill
  });

  it('says why, in the reasons `which -o json` shows', () => {
    const [first] = resolveExecutable(table, 'bridge').candidates;
    expect(first!.reasons.join('; ')).toMatch(/Debian ships bridge in iproute2/);
    const libuuid = resolveExecutable(table, 'nsenter').candidates.find((c) => c.attr === 'libuuid');
    expect(libuuid?.reasons.join('; ')).toMatch(/util-linux-minimal is a variant of util-linux/);
  });
});

describe('the bundled table', () => {
  const table = loadTable();
  it('is the real one: tens of thousands of executables, with its snapshot date', () => {
    expect(table.info.kind).toBe('bundled');
    expect(table.info.executables).toBeGreaterThan(40_000);
    expect(table.info.attributes).toBeGreaterThan(20_000);
    expect(table.info.snapshot).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(table.info.systems).toContain('x86_64-linux');
  });

  it('knows what a package provides, and offers close names for typos', () => {
    expect(table.executablesOf('postgresql')).toEqual(expect.arrayContaining(['psql', 'pg_dump']));
    expect(table.suggest('kubctl')).toContain('kubectl');
    expect(table.hasAttribute('bashnoninteractive')).toBe(true); // bashNonInteractive, case-folded like Nixery
    expect(table.hasAttribute('no-such-attribute-qq')).toBe(false);
  });

  it('never offers an attribute Nixery cannot serve', () => {
    for (const a of table.attributes()) expect(a.split('.').slice(1).join('.')).not.toMatch(/[A-Z]/);
  });
});
