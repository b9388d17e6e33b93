// frcode encoder, the inverse of src/resolve/nixindex.ts's decoder: builds small nix-index databases for the tests.
const NUL = 0x00;
const LF = 0x0a;

export function encodeFrcode(packages: Array<{ record: object; entries: Array<{ path: string; meta: string }> }>): Buffer {
  const out: Buffer[] = [];
  let shared = 0;
  let last: Buffer = Buffer.alloc(0);
  const diffBytes = (d: number) => {
    if (Math.abs(d) < 127) return Buffer.from([d & 0xff]);
    const b = Buffer.alloc(3);
    b[0] = 0x80;
    b.writeInt16BE(d, 1);
    return b;
  };
  const line = (meta: string, path: Buffer, sharedNow: number) => {
    out.push(Buffer.from(meta), Buffer.from([NUL]), diffBytes(sharedNow - shared), path.subarray(sharedNow), Buffer.from([LF]));
    shared = sharedNow;
    last = path;
  };
  for (const pkg of packages) {
    // Each package starts a fresh encoder in nix-index: nothing is shared with the record before.
    last = Buffer.alloc(0);
    for (const e of pkg.entries) {
      const p = Buffer.from(e.path);
      let s = 0;
      while (s < p.length && s < last.length && p[s] === last[s]) s++;
      line(e.meta, p, s);
    }
    line('p', Buffer.from(JSON.stringify(pkg.record)), 0);
  }
  return Buffer.concat(out);
}
