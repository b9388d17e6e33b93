// The attribute map: which nixpkgs attributes this local Nixery serves, and which of this machine's
// Debian files make up each one. Every attribute becomes one store path
// /nix/store/<hash>-<pname>-<version>/ (version from the first Debian package); the shared
// libraries its ELF files need are found by the builder and become separate store paths, one per
// Debian source package (`glibc-2.36-lib`, `openssl-3.0.19-lib`, …), with the interpreter and
// RUNPATH of every ELF patched into the store. See README.md beside this file.
//
// Spec fields (all optional except pname and deb):
//   pname    store path name (nixpkgs' pname)
//   deb      Debian packages the files come from; the first gives the version
//   bin      'all': every ELF executable that the `deb` packages list in /bin, /sbin, /usr/bin or
//            /usr/sbin (scripts are skipped: the images have no interpreter for them), and the
//            package's own symlinks to those; or a list of host paths. Each goes to bin/<name>.
//   rename   { hostBasename: nameInBin }
//   links    { nameInBin: target }: extra symlinks in bin/ (relative, or @placeholders@)
//   files    [[hostPath, dest]]: a file or a whole directory tree copied into the store path
//   exclude  regular expressions on host paths not to copy from `files`
//   text     { dest: content }: generated files
//   dirs     [dest]: empty directories
//   wrap     { nameInBin: { set?: {VAR: value}, setDefault?: {VAR: value} } }: a compiled C wrapper
//            (as nixpkgs' makeBinaryWrapper) execs bin/.<name>-wrapped with the variables set
//   deps     other map entries (INTERNAL ones too) this store path refers to
//   libData  { debianSource: [[hostPath, dest]] }: data added to that source's library store path
// Values may use @out@ (this store path), @<entry>@ (a deps entry) and @lib:<debianSource>@ (a
// library store path of the closure).
//
// The names the plugin's table resolves for executables (`kubectl nixrun which …`) are served too:
// gnugrep, netcat, iputils, unixtools.ping, libuuid (nsenter, lsblk), dig, host, ….

const PG = '/usr/lib/postgresql/15';

/** @typedef {{ set?: Record<string, string>, setDefault?: Record<string, string> }} WrapSpec */
/**
 * @typedef {object} PackageSpec
 * @property {string} pname
 * @property {string[]} deb
 * @property {'all' | string[]} [bin]
 * @property {Record<string, string>} [rename]
 * @property {Record<string, string>} [links]
 * @property {Array<[string, string]>} [files]
 * @property {string[]} [exclude]
 * @property {Record<string, string>} [text]
 * @property {string[]} [dirs]
 * @property {Record<string, WrapSpec>} [wrap]
 * @property {string[]} [deps]
 * @property {string} [version] fixed version instead of the first Debian package's
 */

const bash = { pname: 'bash', deb: ['bash'], bin: ['/bin/bash'], links: { sh: 'bash' } };
const utilLinux = { pname: 'util-linux', deb: ['util-linux', 'mount', 'bsdutils'], bin: /** @type {'all'} */ ('all') };
const iputils = { pname: 'iputils', deb: ['iputils-ping'], bin: ['/bin/ping'], links: { ping4: 'ping', ping6: 'ping' } };
const dnsutils = { pname: 'bind-dnsutils', deb: ['bind9-dnsutils', 'bind9-host'], bin: ['/usr/bin/dig', '/usr/bin/nslookup', '/usr/bin/host', '/usr/bin/nsupdate', '/usr/bin/delv'] };

/** Requestable attributes (top-level names as nixpkgs spells them; nested ones with dots). */
/** @type {Record<string, PackageSpec>} */
export const PACKAGES = {
  bash,
  bashInteractive: { ...bash, pname: 'bash-interactive' },
  coreutils: { pname: 'coreutils', deb: ['coreutils'], bin: 'all' },
  moreutils: { pname: 'moreutils', deb: ['moreutils'], bin: 'all' },
  nano: { pname: 'nano', deb: ['nano'], bin: ['/bin/nano'], links: { rnano: 'nano' } },
  tini: { pname: 'tini', deb: ['tini'], bin: ['/usr/bin/tini', '/usr/bin/tini-static'] },
  // pkgs/by-name/fa/fakeNss: exactly these lines.
  fakeNss: {
    pname: 'fake-nss',
    deb: [],
    version: '',
    text: {
      'etc/passwd': 'root:x:0:0:root user:/var/empty:/bin/sh\nnobody:x:65534:65534:nobody:/var/empty:/bin/sh\n',
      'etc/group': 'root:x:0:\nnobody:x:65534:\n',
      'etc/nsswitch.conf': 'hosts: files dns\n',
    },
    dirs: ['var/empty'],
  },
  // nixpkgs' cacert (nss-cacert) ships these two bundles; Debian's generated bundle is their content.
  cacert: {
    pname: 'nss-cacert',
    deb: ['ca-certificates'],
    files: [
      ['/etc/ssl/certs/ca-certificates.crt', 'etc/ssl/certs/ca-bundle.crt'],
      ['/etc/ssl/certs/ca-certificates.crt', 'etc/ssl/certs/ca-no-trust-rules-bundle.crt'],
    ],
  },
  'iana-etc': { pname: 'iana-etc', deb: ['netbase'], files: [['/etc/protocols', 'etc/protocols'], ['/etc/services', 'etc/services']] },
  curl: { pname: 'curl', deb: ['curl'], bin: ['/usr/bin/curl'] },
  jq: { pname: 'jq', deb: ['jq'], bin: ['/usr/bin/jq'] },
  gnugrep: { pname: 'gnugrep', deb: ['grep'], bin: ['/bin/grep'] },
  // nixpkgs' netcat is libressl's nc: bin/nc. Debian's OpenBSD nc is the same program.
  netcat: { pname: 'netcat-openbsd', deb: ['netcat-openbsd'], bin: ['/bin/nc.openbsd'], rename: { 'nc.openbsd': 'nc' } },
  'netcat-openbsd': { pname: 'netcat-openbsd', deb: ['netcat-openbsd'], bin: ['/bin/nc.openbsd'], rename: { 'nc.openbsd': 'nc' } },
  // Copied without Debian's cap_net_raw file capability: it works as non-root through ICMP
  // datagram sockets when net.ipv4.ping_group_range allows the group, as nixpkgs' iputils does.
  iputils,
  'unixtools.ping': iputils,
  // psql and the server. Postgres finds share/ and its modules relative to its real executable
  // (bin ../../../../share/postgresql/15), so the Debian tree keeps its shape in its own store
  // path, postgresql-15.18-tree, and bin/ here links into it (not at the image root: no /lib).
  postgresql: { pname: 'postgresql', deb: ['postgresql-15', 'postgresql-client-15'], deps: ['postgresql-tree'], links: pgLinks() },
  postgresql_15: { pname: 'postgresql', deb: ['postgresql-15', 'postgresql-client-15'], deps: ['postgresql-tree'], links: pgLinks() },
  // The nf_tables variant (nixpkgs' iptables-nftables-compat links the same names).
  iptables: {
    pname: 'iptables',
    deb: ['iptables'],
    bin: ['/usr/sbin/xtables-nft-multi'],
    links: Object.fromEntries(
      ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore', 'iptables-nft', 'ip6tables-nft', 'iptables-translate', 'ip6tables-translate', 'ebtables', 'arptables'].map((n) => [n, 'xtables-nft-multi']),
    ),
    wrap: { 'xtables-nft-multi': { set: { XTABLES_LIBDIR: '@lib:iptables@/lib/xtables' } } },
  },
  iproute2: { pname: 'iproute2', deb: ['iproute2'], bin: 'all' },
  procps: { pname: 'procps', deb: ['procps'], bin: 'all' },
  'util-linux': utilLinux,
  'util-linuxMinimal': utilLinux,
  libuuid: utilLinux,
  tcpdump: { pname: 'tcpdump', deb: ['tcpdump'], bin: ['/usr/bin/tcpdump'] },
  dig: dnsutils,
  dnsutils,
  bind: dnsutils,
  host: { pname: 'bind-host', deb: ['bind9-host'], bin: ['/usr/bin/host'] },
  openssl: { pname: 'openssl', deb: ['openssl'], bin: ['/usr/bin/openssl'] },
};

/** Store paths that are only dependencies (never requested, never linked at the image root). */
/** @type {Record<string, PackageSpec>} */
export const INTERNAL = {
  'postgresql-tree': {
    pname: 'postgresql-tree',
    deb: ['postgresql-15', 'postgresql-client-15'],
    files: [
      [PG, 'lib/postgresql/15'],
      ['/usr/share/postgresql/15', 'share/postgresql/15'],
    ],
    // JIT (llvmjit.so pulls in the 100 MB libLLVM) and build files are left out: postgres runs
    // without JIT when llvmjit.so is absent, as nixpkgs' postgresql does by default.
    exclude: ['/bitcode(/|$)', '/llvmjit', '/pgxs(/|$)', '^/usr/share/postgresql/15/man(/|$)', '/pg_config$'],
  },
};

/** Library data that dlopen'ed code or a compiled-in search needs next to the libraries. */
/** @type {Record<string, Array<[string, string]>>} */
export const LIB_DATA = {
  // iptables' match and target extensions (dlopen'ed from XTABLES_LIBDIR).
  iptables: [['/usr/lib/x86_64-linux-gnu/xtables', 'lib/xtables']],
  // ncurses' terminal descriptions; every program linking libtinfo gets TERMINFO_DIRS (set-default)
  // pointing here, because Debian's libtinfo only looks in /etc, /lib and /usr/share.
  ncurses: [['/lib/terminfo', 'share/terminfo'], ['/usr/share/terminfo', 'share/terminfo']],
};

/** Debian packages that provide the files above (checked by build.mjs, listed in debian-packages.txt). */
export function debianPackages() {
  const all = new Set();
  for (const s of [...Object.values(PACKAGES), ...Object.values(INTERNAL)]) for (const d of s.deb) all.add(d);
  return [...all].sort();
}

function pgLinks() {
  const names = ['psql', 'postgres', 'initdb', 'pg_ctl', 'pg_dump', 'pg_dumpall', 'pg_restore', 'pg_isready', 'createdb', 'createuser', 'dropdb', 'dropuser', 'pg_basebackup', 'pg_controldata', 'pg_resetwal', 'pg_upgrade', 'vacuumdb', 'reindexdb', 'clusterdb'];
  return Object.fromEntries(names.map((n) => [n, `@postgresql-tree@/lib/postgresql/15/bin/${n}`]));
}
