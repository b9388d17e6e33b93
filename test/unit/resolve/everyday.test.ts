import { describe, expect, it } from 'vitest';
import { loadTable, resolveExecutable } from '../../../src/resolve/index.js';

// Everyday debugging commands and the packages a person would accept for them (the first one
// the table picks must be among these). Resolved against the bundled table built from nixpkgs.
const EVERYDAY: Array<[string, string[]]> = [
  // the seeds
  ['psql', ['postgresql']],
  ['grep', ['gnugrep']],
  ['nc', ['netcat', 'netcat-openbsd', 'netcat-gnu']],
  ['ping', ['iputils', 'unixtools.ping']],
  // networking
  ['curl', ['curl']],
  ['wget', ['wget', 'wget2']],
  ['dig', ['dig', 'dnsutils', 'bind']],
  ['nslookup', ['dig', 'dnsutils', 'bind']],
  ['host', ['host', 'dig', 'dnsutils', 'bind']],
  ['ncat', ['nmap']],
  ['nmap', ['nmap']],
  ['socat', ['socat']],
  ['tcpdump', ['tcpdump']],
  ['ip', ['iproute2']],
  ['ss', ['iproute2']],
  ['traceroute', ['traceroute', 'inetutils']],
  ['mtr', ['mtr']],
  ['iperf3', ['iperf', 'iperf3']],
  ['telnet', ['inetutils', 'telnet']],
  ['whois', ['whois']],
  ['ethtool', ['ethtool']],
  ['iftop', ['iftop']],
  ['grpcurl', ['grpcurl']],
  ['http', ['httpie']],
  // TLS
  ['openssl', ['openssl']],
  // databases
  ['mysql', ['mariadb', 'mysql80', 'mysql84']],
  ['redis-cli', ['redis', 'valkey']],
  ['mongosh', ['mongosh']],
  ['sqlite3', ['sqlite', 'sqlite-interactive']],
  ['pg_dump', ['postgresql']],
  // data and text
  ['jq', ['jq']],
  ['yq', ['yq', 'yq-go']],
  ['less', ['less']],
  ['file', ['file']],
  ['tree', ['tree']],
  // editors
  ['vim', ['vim']],
  ['nano', ['nano']],
  // processes and debugging
  ['htop', ['htop']],
  ['ps', ['procps', 'ps']],
  ['top', ['procps']],
  ['strace', ['strace']],
  ['lsof', ['lsof']],
  ['gdb', ['gdb']],
  ['ncdu', ['ncdu']],
  // cloud and cluster tools
  ['kubectl', ['kubectl']],
  ['helm', ['helm', 'kubernetes-helm']],
  ['aws', ['awscli2', 'awscli']],
  ['gcloud', ['google-cloud-sdk']],
  // languages and version control
  ['git', ['git']],
  ['ssh', ['openssh']],
  ['rsync', ['rsync']],
  ['python3', ['python3']],
  ['node', ['nodejs']],
];

describe('everyday debugging commands resolve to the package a person means', () => {
  const table = loadTable();
  it.each(EVERYDAY)('%s → one of %j', (exe, accepted) => {
    const r = resolveExecutable(table, exe);
    expect(accepted, JSON.stringify(r.candidates.slice(0, 4).map((c) => c.attr))).toContain(r.attr);
    expect(r.candidates[0]!.nixery).not.toBe('unreachable');
  });

  it('covers about fifty commands', () => {
    expect(EVERYDAY.length).toBeGreaterThanOrEqual(50);
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
