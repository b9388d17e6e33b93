import { UsageError } from '../errors.js';
import { isDnsSubdomain } from '../pod/parse.js';

/** kubectl's global flags as yargs hands them over (camel-cased), unchecked. */
export interface AccessFlags {
  as?: string;
  asGroup?: string[];
  asUid?: string;
  requestTimeout?: string;
  server?: string;
  token?: string;
  user?: string;
  cluster?: string;
  insecureSkipTlsVerify?: boolean;
  certificateAuthority?: string;
  tlsServerName?: string;
}

/** How to reach the cluster beyond the kubeconfig and context: kubectl's overrides, checked. */
export interface KubeAccess {
  /** Impersonate-User (a user name, or system:serviceaccount:NS:NAME). */
  as?: string;
  /** Impersonate-Group, one header each. */
  asGroups: string[];
  asUid?: string;
  /** Per request; 0 = no timeout (kubectl's default). Also bounds an exec credential plugin. */
  requestTimeoutMs: number;
  /** The API server URL, always with its scheme. */
  server?: string;
  token?: string;
  user?: string;
  cluster?: string;
  insecureSkipTlsVerify: boolean;
  certificateAuthority?: string;
  tlsServerName?: string;
}

export const NO_ACCESS_OVERRIDES: KubeAccess = { asGroups: [], requestTimeoutMs: 0, insecureSkipTlsVerify: false };

/**
 * kubectl's --request-timeout: "0" (no timeout), a bare integer (seconds), or Go durations such
 * as 500ms, 30s, 1m, 1h30m.
 */
export function parseRequestTimeout(value: string): number {
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * unitMs[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (text.length === 0 || consumed !== text.length) {
    throw new UsageError(`invalid --request-timeout ${JSON.stringify(value)}: expected 0 (none), seconds, or a duration such as 30s or 1m`);
  }
  return Math.round(total);
}

/**
 * kubectl accepts a server as a URL or as host[:port] (then https://). Anything with a path
 * beyond a prefix, a query, spaces or another scheme is a mistake.
 */
export function normalizeServer(value: string): string {
  const text = value.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`invalid --server ${JSON.stringify(value)}: expected https://HOST[:PORT]`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`invalid --server ${JSON.stringify(value)}: the scheme must be https (or http)`);
  if (/\s/.test(text) || url.search || url.hash || url.username || url.password || url.hostname === '') {
    throw new UsageError(`invalid --server ${JSON.stringify(value)}: expected https://HOST[:PORT] without credentials, query or spaces`);
  }
  return withScheme.replace(/\/+$/, '');
}

// Kubernetes user names are free-form but never contain control characters or newlines (they go
// into an HTTP header); groups likewise. A comma is refused too: a header line carries one group.
const HEADER_SAFE = /^[^\x00-\x1f\x7f,]+$/;

function checkHeaderValue(flag: string, value: string): string {
  if (value.length === 0) throw new UsageError(`${flag} needs a non-empty value`);
  if (!HEADER_SAFE.test(value) || value !== value.trim()) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: no control characters, commas or surrounding spaces`);
  }
  return value;
}

function checkName(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length === 0 || /[\x00-\x1f\x7f]/.test(value)) throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: expected the name of a kubeconfig entry`);
  return value;
}

/** Validate kubectl's global flags: one line and exit 2 for a bad value, before any I/O. */
export function validateAccess(flags: AccessFlags): KubeAccess {
  const as = flags.as === undefined ? undefined : checkHeaderValue('--as', flags.as);
  const asGroups = (flags.asGroup ?? []).map((g) => checkHeaderValue('--as-group', String(g)));
  const asUid = flags.asUid === undefined ? undefined : checkHeaderValue('--as-uid', flags.asUid);
  if (as === undefined && (asGroups.length > 0 || asUid !== undefined)) {
    // kubectl: "requesting uid, groups or user-extra for  without impersonating a user".
    throw new UsageError(`${asGroups.length > 0 ? '--as-group' : '--as-uid'} needs --as`, 'impersonating groups or a UID without a user is not allowed; add --as USER');
  }
  const requestTimeoutMs = flags.requestTimeout === undefined ? 0 : parseRequestTimeout(flags.requestTimeout);
  const server = flags.server === undefined ? undefined : normalizeServer(flags.server);
  let token: string | undefined;
  if (flags.token !== undefined) {
    if (flags.token.length === 0 || /[\s\x00-\x1f\x7f]/.test(flags.token)) throw new UsageError('invalid --token: empty, or contains spaces or control characters');
    token = flags.token;
  }
  const tlsServerName = flags.tlsServerName;
  if (tlsServerName !== undefined && !isDnsSubdomain(tlsServerName.toLowerCase())) {
    throw new UsageError(`invalid --tls-server-name ${JSON.stringify(tlsServerName)}: expected a DNS name`);
  }
  const insecureSkipTlsVerify = flags.insecureSkipTlsVerify ?? false;
  const certificateAuthority = flags.certificateAuthority;
  if (certificateAuthority !== undefined && certificateAuthority.length === 0) throw new UsageError('--certificate-authority needs a file path');
  if (insecureSkipTlsVerify && certificateAuthority !== undefined) {
    // kubectl refuses the same: a CA with verification switched off means nothing.
    throw new UsageError('--insecure-skip-tls-verify and --certificate-authority exclude each other', 'drop one of them');
  }
  return {
    as,
    asGroups,
    asUid,
    requestTimeoutMs,
    server,
    token,
    user: checkName('--user', flags.user),
    cluster: checkName('--cluster', flags.cluster),
    insecureSkipTlsVerify,
    certificateAuthority,
    tlsServerName,
  };
}
