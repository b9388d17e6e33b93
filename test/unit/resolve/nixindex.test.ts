import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FrcodeDecoder, NixIndexFormatError, readNixIndex } from '../../../src/resolve/nixindex.js';
import { encodeFrcode } from './frcode-encoder.js';

const record = (attr: string, output = 'out', toplevel = true) => ({
  store_dir: '/nix/store',
  hash: 'a'.repeat(32),
  name: `${attr}-1.0`,
  origin: { attr, output, toplevel, system: 'x86_64-linux' },
});

function database(packages: Parameters<typeof encodeFrcode>[0]): string {
  const header = Buffer.alloc(12);
  header.write('NIXI', 0, 'latin1');
  header.writeBigUInt64LE(1n, 4);
  const path = join(mkdtempSync(join(tmpdir(), 'nixrun-nixi-')), 'files');
  writeFileSync(path, Buffer.concat([header, zstdCompressSync(encodeFrcode(packages))]));
  return path;
}

async function read(path: string) {
  const out = [];
  for await (const p of readNixIndex(path)) out.push(p);
  return out;
}

describe('nix-index database reader', () => {
  it('decodes packages with their bin/ and sbin/ executables, skipping wrappers and deeper files', async () => {
    const long = `/share/doc/${'x'.repeat(300)}`;
    const db = database([
      {
        record: record('postgresql'),
        entries: [
          { path: '/bin', meta: '4096d' },
          { path: '/bin/.psql-wrapped', meta: '100x' },
          { path: '/bin/pg_dump', meta: '100x' },
          { path: '/bin/psql', meta: '/nix/store/x/bin/psql-17s' },
          { path: '/bin/sub/tool', meta: '10x' },
          { path: '/lib/libpq.so', meta: '10r' },
          { path: long, meta: '1r' },
          { path: `${long}/y`, meta: '1r' },
          { path: '/sbin/pg_ctl', meta: '5x' },
          { path: '/share/man', meta: '4096d' },
        ],
      },
      { record: record('iputils'), entries: [{ path: '/bin/ping', meta: '9x' }, { path: '/bin/README', meta: '9r' }] },
      { record: record('glibc', 'out', false), entries: [{ path: '/bin/ldd', meta: '9x' }] },
    ]);
    const pkgs = await read(db);
    expect(pkgs.map((p) => p.origin.attr)).toEqual(['postgresql', 'iputils', 'glibc']);
    expect(pkgs[0]!.executables.sort()).toEqual(['pg_ctl', 'pg_dump', 'psql']);
    expect(pkgs[1]!.executables).toEqual(['ping']);
    expect(pkgs[2]!.origin.toplevel).toBe(false);
    expect(pkgs[0]!.name).toBe('postgresql-1.0');
  });

  it('handles chunk boundaries anywhere in a line', () => {
    const raw = encodeFrcode([{ record: record('htop'), entries: [{ path: '/bin/htop', meta: '1x' }] }, { record: record('jq'), entries: [{ path: '/bin/jq', meta: '1x' }] }]);
    for (let cut = 1; cut < raw.length; cut++) {
      const d = new FrcodeDecoder();
      const got = [...d.push(raw.subarray(0, cut)), ...d.push(raw.subarray(cut))];
      expect(got.map((p) => `${p.origin.attr}:${p.executables.join()}`)).toEqual(['htop:htop', 'jq:jq']);
    }
  });

  it('rejects files that are not nix-index databases, and corrupt streams', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'nixrun-nixi-')), 'bad');
    writeFileSync(path, 'SQLite format 3\0');
    await expect(read(path)).rejects.toThrow(/not a nix-index database/);
    const d = new FrcodeDecoder();
    // A shared prefix longer than the previous path.
    expect(() => [...d.push(Buffer.from('1x\u0000\u0005abc\n'))]).toThrow(NixIndexFormatError);
  });
});

describe('the aarch64-linux database marks what that system does not build', () => {
  it('attributes missing from the second database get missingOn, survive serialization, and reach the Table', async () => {
    const { buildFromNixIndex, attributesWithExecutables, markMissing } = await import('../../../src/resolve/table-build.js');
    const { serializeTable, parseTable } = await import('../../../src/resolve/table-file.js');
    const x86 = database([
      { record: record('cpuid'), entries: [{ path: '/bin/cpuid', meta: '1x' }] },
      { record: record('htop'), entries: [{ path: '/bin/htop', meta: '1x' }] },
      { record: record('curl-override-target'), entries: [{ path: '/bin/curlish', meta: '1x' }] },
    ]);
    const arm = database([
      { record: { ...record('htop'), origin: { attr: 'htop', output: 'out', toplevel: true, system: 'aarch64-linux' } }, entries: [{ path: '/bin/htop', meta: '1x' }] },
      // No executables: as good as absent.
      { record: { ...record('cpuid'), origin: { attr: 'cpuid', output: 'out', toplevel: true, system: 'aarch64-linux' } }, entries: [{ path: '/share/doc', meta: '4096d' }] },
    ]);
    const overrides = { curlish: { attr: 'curl-override-target', reason: 'test' } };
    const { table } = await buildFromNixIndex(x86, overrides, { source: 'test', snapshot: '2026-01-01' });
    const { attrs, systems } = await attributesWithExecutables(arm);
    expect([...attrs]).toEqual(['htop']);
    expect([...systems]).toEqual(['aarch64-linux']);
    expect(markMissing(table, 'aarch64-linux', attrs, overrides)).toBe(1); // cpuid; the override target is not judged
    const parsed = parseTable(serializeTable(table));
    expect(parsed.header.systems).toEqual(['aarch64-linux', 'x86_64-linux']);
    expect(parsed.attrs.find((a) => a.attr === 'cpuid')!.missingOn).toEqual(['aarch64-linux']);
    expect(parsed.attrs.find((a) => a.attr === 'htop')!.missingOn).toBeUndefined();
  });

  it('the bundled table: x86-only tools are marked, everyday ones are not', async () => {
    const { loadTable } = await import('../../../src/resolve/index.js');
    const t = loadTable({ file: join(__dirname, '../../../data/table.br') });
    expect(t.info.systems).toContain('aarch64-linux');
    for (const a of ['cpuid', 'i7z', 'msr', 'intel-gpu-tools']) expect(t.missingOn(a), a).toEqual(['aarch64-linux']);
    for (const a of ['postgresql', 'curl', 'netcat', 'htop', 'iputils', 'tcpdump', 'jq']) expect(t.missingOn(a), a).toEqual([]);
  });
});
