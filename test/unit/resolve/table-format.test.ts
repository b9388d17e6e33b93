import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attrKey, parseHints, parseTable, parseTableLazy, serializeTable, type TableData } from '../../../src/resolve/table-file.js';

const BUNDLED = readFileSync(join(__dirname, '../../../data/table.br'));

// Format 2 is searched in place: every lookup by search must answer what a map built from the
// whole table answers (that is what format 1 did).
describe('table format 2 (blocks with a sorted index)', () => {
  const t = parseTableLazy(BUNDLED);
  const all = parseTable(BUNDLED);

  it('the bundled table is format 2, with its counts in the index', () => {
    expect(BUNDLED.subarray(0, 16).toString()).toBe('#nixrun-table 2\n');
    expect(t.exeCount).toBe(all.exeSection.split('\n').filter(Boolean).length);
    expect(t.attrs.length).toBe(all.attrs.length);
  });

  it('finds every executable by search, and nothing else', () => {
    const wrong = all.exeSection
      .split('\n')
      .filter(Boolean)
      .filter((line) => t.findExe!(line.slice(0, line.indexOf('\t'))) !== line.slice(line.indexOf('\t') + 1));
    expect(wrong).toEqual([]);
    for (const missing of ['', '0', 'zzzzzzzzzz', 'psq', 'psqlx', '~', '__proto__', 'constructor']) expect(t.findExe!(missing)).toBeUndefined();
  }, 60_000);

  it('finds every attribute by its key, the same one a map of the whole table holds (case-folded first segment)', () => {
    const map = new Map(all.attrs.map((a, i) => [attrKey(a.attr), i]));
    const probes = [...all.attrs.flatMap((a) => [a.attr, a.attr.toUpperCase(), a.attr.toLowerCase(), `${a.attr}x`]), '__proto__', 'constructor', 'toString'];
    const wrong = probes.filter((p) => t.findAttr!(attrKey(p)) !== map.get(attrKey(p)));
    expect(wrong).toEqual([]);
  }, 60_000);

  it('round-trips a table with shared case-folded keys, hints and an unsorted @attrs', () => {
    const data: TableData = {
      header: { source: 'test', snapshot: '2026-01-01', systems: ['x86_64-linux'] },
      attrs: [{ attr: 'zz', exeCount: 1 }, { attr: 'SDL2', exeCount: 1 }, { attr: 'sdl2', exeCount: 2, missingOn: ['aarch64-linux'] }],
      exes: new Map([['b', [2, 1]], ['a', [0]]]),
      distro: new Map([['b', parseHints('libsdl2!,x:y')]]),
    };
    const t2 = parseTableLazy(serializeTable(data));
    expect(t2.findExe!('a')).toBe('0');
    expect(t2.findExe!('b')).toBe('2,1\tlibsdl2!,x:y');
    expect(t2.findAttr).toBeUndefined(); // unsorted: the reader builds the map instead
    expect(t2.attrs.at(2)).toEqual({ attr: 'sdl2', exeCount: 2, missingOn: ['aarch64-linux'] });
    expect(t2.exeSection()).toBe('a\t0\nb\t2,1\tlibsdl2!,x:y\n');
  });

  it('reads brotli blocks (tables written before the plain ones) as the same lines, a third of the size', () => {
    const exes = new Map<string, number[]>();
    const distro = new Map<string, ReturnType<typeof parseHints>>();
    for (const line of all.exeSection.split('\n').filter(Boolean)) {
      const [exe, idx, hints] = line.split('\t');
      exes.set(exe!, idx!.split(',').map(Number));
      if (hints) distro.set(exe!, parseHints(hints));
    }
    const data: TableData = { header: all.header, attrs: all.attrs, exes, distro };
    const plain = serializeTable(data);
    const br = serializeTable(data, { codec: 'br' });
    expect(plain.equals(BUNDLED), 'the bundled table is plain').toBe(true);
    expect(br.length).toBeLessThan(plain.length / 2);
    expect(JSON.stringify(parseTable(br))).toBe(JSON.stringify(all));
    const lazy = parseTableLazy(br);
    for (const exe of ['psql', 'grep', 'nc', 'zstd']) expect(lazy.findExe!(exe)).toBe(t.findExe!(exe));
    expect(lazy.findAttr!('postgresql')).toBe(t.findAttr!('postgresql'));
  }, 60_000);
});
