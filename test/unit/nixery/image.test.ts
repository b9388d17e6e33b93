import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readElf } from '../../../testenv/nixery/index.mjs';
import { prebuild, startNixery, type Nixery } from '../../support/nixery.js';

// Images of the local Nixery, shaped like Nixery's (nixery.md §4.4, §5): the manifest and config,
// determinism, layer sharing, and the root filesystem the layers unpack to, run for real with
// chroot as UID 65534 (needs root, as CI is).
const SHELL_IMAGE = 'shell/curl/fakenss/jq';
const NODE_IMAGE = 'bash/fakenss/iptables/iputils/postgresql/tini';
const BARE_IMAGE = 'curl';
const NO_NSS_IMAGE = 'coreutils';

interface Manifest {
  schemaVersion: number;
  mediaType: string;
  config: { mediaType: string; size: number; digest: string };
  layers: Array<{ mediaType: string; size: number; digest: string }>;
}

let r: Nixery;
const roots: string[] = [];
beforeAll(async () => {
  await prebuild([SHELL_IMAGE, NODE_IMAGE, BARE_IMAGE, NO_NSS_IMAGE, 'arm64/shell/jq']);
  r = await startNixery();
}, 300_000);
afterAll(async () => {
  await r?.close();
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

async function manifest(name: string, registry = r): Promise<{ body: Buffer; m: Manifest }> {
  const res = await fetch(`${registry.url}/v2/${name}/manifests/latest`);
  expect(res.status, name).toBe(200);
  const body = Buffer.from(await res.arrayBuffer());
  return { body, m: JSON.parse(body.toString()) as Manifest };
}
async function blob(digest: string, registry = r): Promise<Buffer> {
  return Buffer.from(await (await fetch(`${registry.url}/v2/x/blobs/${digest}`)).arrayBuffer());
}
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Unpack the layers in order, as containerd does, into a new directory. */
async function unpack(name: string, registry = r): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'nixery-rootfs-'));
  roots.push(root);
  const { m } = await manifest(name, registry);
  for (const l of m.layers) execFileSync('tar', ['-xzf', '-', '-C', root], { input: await blob(l.digest, registry) });
  return root;
}

const unpackedOnce = new Map<string, Promise<string>>();
/** One unpacked copy per image for the read-only checks. */
function unpacked(name: string): Promise<string> {
  if (!unpackedOnce.has(name)) unpackedOnce.set(name, unpack(name));
  return unpackedOnce.get(name)!;
}

/** Every tar header of a layer. */
async function headers(gz: Buffer): Promise<Array<tar.Header>> {
  const out: tar.Header[] = [];
  const ex = tar.extract();
  ex.on('entry', (h, stream, next) => {
    out.push(h);
    stream.on('end', next);
    stream.resume();
  });
  const done = new Promise((resolve, reject) => {
    ex.on('finish', () => resolve(undefined));
    ex.on('error', reject);
  });
  ex.end(gunzipSync(gz));
  await done;
  return out;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    out.push(p);
    if (lstatSync(p).isDirectory()) walk(p, out);
  }
  return out;
}

describe('manifest and config', () => {
  it('Docker schema 2, gzip layers, a config with only architecture, os, rootfs and config {Env, Cmd with shell}', async () => {
    const { m } = await manifest(SHELL_IMAGE);
    expect(m.schemaVersion).toBe(2);
    expect(m.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(m.config.mediaType).toBe('application/vnd.docker.container.image.v1+json');
    expect(new Set(m.layers.map((l) => l.mediaType))).toEqual(new Set(['application/vnd.docker.image.rootfs.diff.tar.gzip']));
    const cfgBuf = await blob(m.config.digest);
    expect(sha(cfgBuf)).toBe(m.config.digest);
    expect(cfgBuf.length).toBe(m.config.size);
    const cfg = JSON.parse(cfgBuf.toString()) as { rootfs: { diff_ids: string[] } };
    expect(Object.keys(cfg)).toEqual(['architecture', 'os', 'rootfs', 'config']);
    expect(cfg).toMatchObject({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' }, config: { Cmd: ['bash'], Env: ['SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt'] } });
    expect(cfg.rootfs.diff_ids).toHaveLength(m.layers.length);
    // each diff_id is the sha256 of the uncompressed layer
    const first = await blob(m.layers[0]!.digest);
    expect(sha(gunzipSync(first))).toBe(cfg.rootfs.diff_ids[0]);
    const bare = JSON.parse((await blob((await manifest(BARE_IMAGE)).m.config.digest)).toString()) as { config: unknown };
    expect(bare.config).toEqual({ Env: ['SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt'] });
  });

  it('arm64/…: architecture arm64, the same (x86-64) layers as the amd64 image', async () => {
    const arm = await manifest('arm64/shell/jq');
    const amd = await manifest('shell/jq');
    const cfg = JSON.parse((await blob(arm.m.config.digest)).toString()) as { architecture: string };
    expect(cfg.architecture).toBe('arm64');
    expect(arm.m.layers).toEqual(amd.m.layers);
    expect(arm.m.config.digest).not.toBe(amd.m.config.digest);
  });

  it('layers: one per store path, most shared first (glibc), shared across images, at most 95', async () => {
    const a = (await manifest(SHELL_IMAGE)).m.layers.map((l) => l.digest);
    const b = (await manifest(NODE_IMAGE)).m.layers.map((l) => l.digest);
    expect(a[0]).toBe(b[0]);
    const glibc = await headers(await blob(a[0]!));
    expect(glibc.some((h) => /^nix\/store\/[0-9a-z]{32}-glibc-[\d.]+-lib\/lib\/libc\.so\.6$/.test(h.name))).toBe(true);
    expect(a.filter((d) => b.includes(d)).length).toBeGreaterThan(5);
    expect(Math.max(a.length, b.length)).toBeLessThanOrEqual(95);
  });

  it('past the layer budget the least shared store paths share one layer, and the image still unpacks', async () => {
    const small = await startNixery({ layerBudget: 3 });
    try {
      const { m } = await manifest('jq', small);
      expect(m.layers).toHaveLength(4); // 2 single, 1 merged, the symlink layer
      const root = await unpack('jq', small);
      expect(readdirSync(join(root, 'nix/store')).length).toBeGreaterThan(4);
      expect(existsSync(join(root, readlinkSync(join(root, 'bin/jq'))))).toBe(true);
    } finally {
      await small.close();
    }
  });
});

describe('determinism', () => {
  it('the same request gives the same bytes, also from a cold cache built again', async () => {
    const once = await manifest('jq');
    const again = await manifest('jq');
    expect(again.body.equals(once.body)).toBe(true);
    const cache = mkdtempSync(join(tmpdir(), 'nixery-cache-'));
    roots.push(cache);
    const cold = await startNixery({ cacheDir: cache });
    try {
      const fresh = await manifest('jq', cold);
      expect(fresh.body.toString()).toBe(once.body.toString());
    } finally {
      await cold.close();
    }
  }, 120_000);

  it('tar entries: sorted, root-owned, mtime 1, no setuid/setgid/sticky bits, no xattrs (no file capabilities)', async () => {
    const { m } = await manifest(NODE_IMAGE);
    let files = 0;
    for (const l of m.layers) {
      const hs = await headers(await blob(l.digest));
      const names = hs.map((h) => h.name);
      expect(names).toEqual([...names].sort());
      for (const h of hs) {
        files++;
        expect([h.uid, h.gid, h.mtime?.getTime()], h.name).toEqual([0, 0, 1000]);
        expect((h.mode ?? 0) & 0o7000, h.name).toBe(0);
        if (h.type === 'directory') expect(h.mode, h.name).toBe(0o555);
        expect(Object.keys(h.pax ?? {}).filter((k) => k !== 'path' && k !== 'linkpath'), h.name).toEqual([]);
      }
    }
    expect(files).toBeGreaterThan(500);
  });
});

describe('the root filesystem', () => {
  it('no /lib, /lib64, /sbin, /usr except /usr/bin/env; /tmp 0555; /bin only for the requested packages', async () => {
    const root = await unpacked(SHELL_IMAGE);
    expect(readdirSync(root).sort()).toEqual(['bin', 'etc', 'nix', 'tmp', 'usr', 'var']);
    expect(walk(join(root, 'usr')).map((p) => p.slice(root.length))).toEqual(['/usr/bin', '/usr/bin/env']);
    expect(readlinkSync(join(root, 'usr/bin/env'))).toMatch(/^\/nix\/store\/[0-9a-z]{32}-coreutils-[\d.]+\/bin\/env$/);
    expect(lstatSync(join(root, 'tmp')).mode & 0o7777).toBe(0o555);
    const bin = readdirSync(join(root, 'bin'));
    for (const n of ['bash', 'sh', 'ls', 'sponge', 'nano', 'curl', 'jq']) expect(bin).toContain(n);
    for (const n of ['psql', 'ping', 'grep', 'tini']) expect(bin).not.toContain(n);
    for (const n of bin) expect(readlinkSync(join(root, 'bin', n))).toMatch(/^\/nix\/store\/[0-9a-z]{32}-[^/]+\/bin\//);
    expect(readdirSync(join(root, 'etc')).sort()).toEqual(['group', 'nsswitch.conf', 'passwd', 'protocols', 'services', 'ssl']);
    expect(readdirSync(join(root, 'etc/ssl/certs')).sort()).toEqual(['ca-bundle.crt', 'ca-no-trust-rules-bundle.crt']);
    expect(existsSync(join(root, 'var/empty'))).toBe(true);
  });

  it('without fakenss: no /etc/passwd; without a shell: no /bin/sh; without coreutils /usr/bin/env dangles', async () => {
    const root = await unpacked(BARE_IMAGE);
    expect(readdirSync(join(root, 'bin'))).toEqual(['curl']);
    expect(readdirSync(join(root, 'etc')).sort()).toEqual(['protocols', 'services', 'ssl']);
    expect(existsSync(join(root, 'var'))).toBe(false);
    expect(lstatSync(join(root, 'usr/bin/env')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(root, readlinkSync(join(root, 'usr/bin/env'))))).toBe(false);
  });

  it('every ELF: interpreter and needed libraries resolve inside the image\'s /nix/store (RUNPATH), nothing outside', async () => {
    for (const name of [SHELL_IMAGE, NODE_IMAGE]) {
      const root = await unpacked(name);
      let elves = 0;
      for (const p of walk(join(root, 'nix/store'))) {
        if (!lstatSync(p).isFile()) continue;
        const info = readElf(p);
        if (!info) continue;
        elves++;
        const rel = p.slice(root.length);
        if (info.interp) {
          expect(info.interp, rel).toMatch(/^\/nix\/store\/[0-9a-z]{32}-glibc-[^/]+\/lib\/ld-linux-x86-64\.so\.2$/);
          expect(existsSync(join(root, info.interp)), rel).toBe(true);
        }
        const dirs = (info.runpath ?? '').split(':').filter(Boolean);
        for (const d of dirs) expect(d, rel).toMatch(/^\/nix\/store\/[0-9a-z]{32}-[^/]+\/lib$/);
        // glibc's own objects have no RUNPATH: they find each other by soname in their own dir.
        if (dirs.length === 0) dirs.push(posix.dirname(rel));
        for (const n of info.needed) {
          if (n === 'ld-linux-x86-64.so.2' && info.interp) continue;
          expect(
            dirs.some((d) => existsSync(join(root, d, n))),
            `${rel} needs ${n} (RUNPATH ${dirs.join(':')})`,
          ).toBe(true);
        }
      }
      expect(elves).toBeGreaterThan(name === NODE_IMAGE ? 100 : 50);
    }
  }, 60_000);
});

const isRoot = process.getuid?.() === 0 && existsSync('/usr/sbin/chroot');
if (!isRoot) console.log('chroot runs skipped: they need root (CI runs as root)');

describe.skipIf(!isRoot)('running the image (chroot as UID 65534, no host files)', () => {
  let shellRoot: string;
  let nodeRoot: string;
  let noNssRoot: string;
  beforeAll(async () => {
    shellRoot = await unpack(SHELL_IMAGE);
    nodeRoot = await unpack(NODE_IMAGE);
    noNssRoot = await unpack(NO_NSS_IMAGE);
    // What the pod adds: an emptyDir on /tmp and the runtime's /dev/null.
    for (const root of [shellRoot, nodeRoot, noNssRoot]) {
      chmodSync(join(root, 'tmp'), 0o1777);
      chmodSync(root, 0o755);
      mkdirSync(join(root, 'dev'));
      execFileSync('mknod', ['-m', '666', join(root, 'dev/null'), 'c', '1', '3']);
    }
  }, 120_000);

  /** Run in the image with an empty environment (as a container starts), as nobody unless `asRoot`. */
  const run = (root: string, argv: string[], opts: { asRoot?: boolean; netns?: string } = {}) => {
    // The host part (unshare, ip, sysctl) runs with the host's PATH; inside the image only /bin exists.
    const chroot = ['/usr/sbin/chroot', ...(opts.asRoot ? [] : ['--userspec=65534:65534']), root, ...argv];
    const cmd = opts.netns !== undefined ? ['unshare', '-n', 'sh', '-c', `${opts.netns} && exec "$@"`, 'sh', ...chroot] : chroot;
    const res = spawnSync('env', ['-i', 'PATH=/bin:/usr/sbin:/sbin', ...cmd], { encoding: 'utf8', timeout: 60_000 });
    return { code: res.status, out: res.stdout, err: res.stderr };
  };

  it('curl, jq, nano, bash and id -un (fakenss → nobody); /usr/bin/env works with coreutils', () => {
    expect(run(shellRoot, ['/bin/curl', '--version']).out).toMatch(/^curl \d/);
    expect(run(shellRoot, ['/bin/jq', '--version']).out).toMatch(/^jq-/);
    expect(run(shellRoot, ['/bin/nano', '--version']).out).toMatch(/GNU nano/);
    expect(run(shellRoot, ['/bin/id', '-un'])).toMatchObject({ code: 0, out: 'nobody\n' });
    expect(run(shellRoot, ['/bin/sh', '-c', 'echo $((6*7)) | /usr/bin/env cat'])).toMatchObject({ code: 0, out: '42\n' });
    // curl finds the CA bundle through SSL_CERT_FILE, which the image config sets
    expect(run(shellRoot, ['/bin/sh', '-c', 'test -s /etc/ssl/certs/ca-bundle.crt && echo ok']).out).toBe('ok\n');
  });

  it('without fakenss id has no name for 65534', () => {
    const res = run(noNssRoot, ['/bin/id', '-un']);
    expect(res.code).not.toBe(0);
    expect(res.err).toMatch(/cannot find name for user ID 65534/);
    expect(run(noNssRoot, ['/bin/id', '-u']).out).toBe('65534\n');
  });

  it('psql and postgres; initdb, a server on a socket in /tmp and a query, all as nobody', () => {
    expect(run(nodeRoot, ['/bin/psql', '--version']).out).toMatch(/^psql \(PostgreSQL\) 15\./);
    expect(run(nodeRoot, ['/bin/postgres', '--version']).out).toMatch(/^postgres \(PostgreSQL\) 15\./);
    const init = run(nodeRoot, ['/bin/initdb', '-D', '/tmp/pgdata', '-U', 'app']);
    expect(init.code, init.err).toBe(0);
    const start = run(nodeRoot, ['/bin/pg_ctl', '-D', '/tmp/pgdata', '-o', "-k /tmp -c listen_addresses=''", '-l', '/tmp/pg.log', '-w', 'start']);
    expect(start.code, start.err + start.out).toBe(0);
    try {
      const q = run(nodeRoot, ['/bin/psql', '-h', '/tmp', '-U', 'app', '-d', 'postgres', '-tAc', 'select 1 + 1, current_user']);
      expect(q).toMatchObject({ code: 0, out: '2|app\n' });
    } finally {
      run(nodeRoot, ['/bin/pg_ctl', '-D', '/tmp/pgdata', '-m', 'immediate', '-w', 'stop']);
    }
  }, 60_000);

  it('ping as nobody without capabilities: works with net.ipv4.ping_group_range, fails without (own netns)', () => {
    const up = 'ip link set lo up';
    const ok = run(nodeRoot, ['/bin/ping', '-c1', '-W2', '127.0.0.1'], { netns: `${up} && sysctl -qw net.ipv4.ping_group_range="0 2147483647"` });
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/1 received/);
    const denied = run(nodeRoot, ['/bin/ping', '-c1', '-W2', '127.0.0.1'], { netns: `${up} && sysctl -qw net.ipv4.ping_group_range="1 0"` });
    expect(denied.code).not.toBe(0);
    expect(denied.err).toMatch(/Operation not permitted|permission/i);
  });

  it('iptables (nf_tables): -L and an extension work as root in a netns, fail cleanly as nobody', () => {
    const list = run(nodeRoot, ['/bin/iptables', '-L'], { asRoot: true, netns: 'true' });
    expect(list.code, list.err).toBe(0);
    expect(list.out).toMatch(/^Chain INPUT \(policy ACCEPT\)/);
    const ext = run(nodeRoot, ['/bin/sh', '-c', 'iptables -A INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT && iptables-save'], { asRoot: true, netns: 'true' });
    expect(ext.code, ext.err).toBe(0);
    expect(ext.out).toMatch(/-m conntrack --ctstate NEW -j ACCEPT/);
    const denied = run(nodeRoot, ['/bin/iptables', '-L'], { netns: 'true' });
    expect(denied.code).toBe(4);
    expect(denied.err).toMatch(/Permission denied \(you must be root\)/);
  });

  it('no host library can be used: the image has no /lib, /lib64 or /usr/lib to fall back to', () => {
    for (const d of ['lib', 'lib64', 'usr/lib', 'etc/ld.so.cache']) expect(existsSync(join(nodeRoot, d)), d).toBe(false);
    expect(dirname(readlinkSync(join(nodeRoot, 'bin/tini')))).toMatch(/-tini-0\.19\.0\/bin$/);
    expect(run(nodeRoot, ['/bin/tini', '--version']).out).toMatch(/tini version 0\.19/);
  });
});
