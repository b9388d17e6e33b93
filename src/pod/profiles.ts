import type { V1Container, V1PodSpec } from '@kubernetes/client-node';

/** The UID/GID of `nobody`, which fakeNss gives a passwd entry. */
export const NOBODY = 65534;

type ProfileApplier = (spec: V1PodSpec, container: V1Container) => void;

/**
 * Profiles are small functions that adjust the pod, like kubectl debug's profiles.go. The
 * default, restricted, must be admitted by a namespace that enforces Pod Security "restricted".
 */
const PROFILES = {
  restricted(spec, container) {
    spec.securityContext = {
      ...spec.securityContext,
      runAsNonRoot: true,
      runAsUser: NOBODY,
      runAsGroup: NOBODY,
      fsGroup: NOBODY,
      seccompProfile: { type: 'RuntimeDefault' },
    };
    container.securityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true };
  },
  baseline(spec, container) {
    spec.securityContext = { ...spec.securityContext, seccompProfile: { type: 'RuntimeDefault' } };
    container.securityContext = { allowPrivilegeEscalation: false };
  },
  netadmin(spec, container) {
    spec.securityContext = { ...spec.securityContext, runAsUser: 0, seccompProfile: { type: 'RuntimeDefault' } };
    container.securityContext = { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } };
  },
  sysadmin(spec, container) {
    // Privileged only: host namespaces are a different feature (node debugging), not this one.
    spec.securityContext = { ...spec.securityContext, runAsUser: 0 };
    container.securityContext = { privileged: true };
  },
} satisfies Record<string, ProfileApplier>;

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as [ProfileName, ...ProfileName[]];

export function isProfileName(name: string): name is ProfileName {
  return Object.hasOwn(PROFILES, name);
}

/** Packages a profile needs in the image: restricted runs as nobody, who needs a passwd entry. */
export function profilePackages(profile: ProfileName): string[] {
  return profile === 'restricted' ? ['fakenss'] : [];
}

// Tools that open ICMP sockets: without root they work only through unprivileged ICMP datagram
// sockets, which the safe sysctl net.ipv4.ping_group_range allows (baseline and restricted both
// allow that sysctl).
const PING_TOOLS = new Set(['ping', 'ping6', 'fping']);
// Tools that need root with raw sockets or NET_ADMIN: no sysctl makes them work without it.
const NET_ADMIN_TOOLS = new Set(['iptables', 'ip6tables', 'nft', 'tc', 'conntrack', 'ipvsadm', 'ebtables', 'arptables', 'brctl', 'ethtool']);
const NET_RAW_TOOLS = new Set(['tcpdump', 'tshark', 'dumpcap', 'arping', 'mtr', 'mtr-packet', 'traceroute', 'hping3', 'nping', 'iftop', 'nethogs', 'bpftrace', 'arp-scan']);
const SYSADMIN_TOOLS = new Set(['nsenter', 'mount', 'umount', 'strace', 'ltrace', 'perf', 'bpftool']);

export function needsPingSysctl(executables: string[]): boolean {
  return executables.some((e) => PING_TOOLS.has(e));
}

/** Say when a tool cannot work under the chosen profile, and which profile it needs. */
export function capabilityAdvice(executables: string[], profile: ProfileName): string | undefined {
  if (profile === 'sysadmin') return undefined;
  const sys = executables.filter((e) => SYSADMIN_TOOLS.has(e));
  const net = executables.filter((e) => NET_ADMIN_TOOLS.has(e) || NET_RAW_TOOLS.has(e));
  if (net.length > 0 && profile !== 'netadmin') {
    return `${net.join(', ')} need${net.length === 1 ? 's' : ''} root with NET_ADMIN/NET_RAW, which --profile ${profile} does not give; use --profile netadmin (the namespace must allow privileged pods)`;
  }
  if (sys.length > 0) {
    return `${sys.join(', ')} usually need${sys.length === 1 ? 's' : ''} more privileges than --profile ${profile} gives (ptrace, mounts, namespaces); use --profile sysadmin if it fails`;
  }
  return undefined;
}

export function applyProfile(spec: V1PodSpec, container: V1Container, profile: ProfileName, opts: { pingSysctl: boolean }): void {
  PROFILES[profile](spec, container);
  if (opts.pingSysctl && (profile === 'restricted' || profile === 'baseline')) allowUnprivilegedPing(spec);
}

/** ping without root: ICMP datagram sockets for every group (a sysctl both baseline and restricted allow). */
function allowUnprivilegedPing(spec: V1PodSpec): void {
  spec.securityContext = {
    ...spec.securityContext,
    sysctls: [...(spec.securityContext?.sysctls ?? []), { name: 'net.ipv4.ping_group_range', value: '0 2147483647' }],
  };
}
