import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTable } from '../../../src/resolve/index.js';
import { parseTable } from '../../../src/resolve/table-file.js';

// executablesOf (the picker's "postgresql — psql, pg_dump, …") reads the candidate lists without
// splitting them: it must give, for every attribute, exactly the executables whose list names it.
describe('executablesOf', () => {
  it('matches the candidate lists for every attribute of the bundled table, whatever the spelling asked', () => {
    const file = join(__dirname, '../../../data/table.br');
    const all = parseTable(readFileSync(file));
    const expected = new Map<string, string[]>();
    for (const line of all.exeSection.split('\n').filter(Boolean)) {
      const [exe, idx] = line.split('\t');
      for (const i of idx!.split(',').map(Number)) {
        const attr = all.attrs[i]!.attr;
        expected.set(attr, [...(expected.get(attr) ?? []), exe!]);
      }
    }
    const table = loadTable({ file });
    const order = (xs: string[]) => [...xs].sort((a, b) => a.length - b.length || a.localeCompare(b));
    const wrong = all.attrs.filter((a) => JSON.stringify(table.executablesOf(a.attr)) !== JSON.stringify(order(expected.get(a.attr) ?? [])));
    expect(wrong.map((a) => a.attr)).toEqual([]);
    expect(table.executablesOf('PostgreSQL')).toEqual(table.executablesOf('postgresql'));
    expect(table.executablesOf('postgresql')).toEqual(expect.arrayContaining(['psql', 'pg_dump']));
    expect(table.executablesOf('no-such-attribute-xyz')).toEqual([]);
  }, 60_000);
});
