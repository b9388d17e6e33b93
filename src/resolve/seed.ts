/**
 * The seed mappings from the issues, so the CLI works end to end before the table built from the
 * nix-index database lands. Replaced by data/ (issue [table]).
 */
export const SEED_TABLE: Record<string, string[]> = {
  psql: ['postgresql', 'postgresql_16', 'postgresql_15'],
  pg_dump: ['postgresql'],
  grep: ['gnugrep', 'busybox'],
  nc: ['netcat', 'netcat-openbsd', 'busybox'],
  ping: ['iputils', 'unixtools.ping', 'busybox'],
  curl: ['curl'],
  htop: ['htop'],
  dig: ['dnsutils'],
  jq: ['jq'],
  bash: ['bashInteractive', 'bash'],
  sh: ['bash'],
  cat: ['coreutils'],
  echo: ['coreutils'],
  tcpdump: ['tcpdump'],
  iptables: ['iptables'],
  tini: ['tini'],
  which: ['which'],
};

export const SEED_INFO = {
  kind: 'seed' as const,
  path: '(built in)',
  source: 'seed mappings (until the nix-index table lands)',
  snapshot: '2026-11-25',
  systems: ['x86_64-linux'],
};
