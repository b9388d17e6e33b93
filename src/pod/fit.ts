import type { V1Container, V1Pod, V1SecurityContext } from '@kubernetes/client-node';
import { ExitCode, NixrunError } from '../errors.js';
import { NOBODY, type ProfileName } from './profiles.js';

// Profiles for a container added to somebody else's pod (an ephemeral container, a container in a
// copy). Unlike a fresh pod's, they act on the container only: the pod-level securityContext
// belongs to the pod's own containers. Which one fits is a pure decision from what the target runs
// as and what the namespace's Pod Security level allows.

export type PsaLevel = 'privileged' | 'baseline' | 'restricted';
export const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

/** The names of the fitted profiles: ours, plus kubectl debug's `general` (root + SYS_PTRACE). */
export type FitProfile = ProfileName | 'general';

const RANK: Record<PsaLevel, number> = { privileged: 0, baseline: 1, restricted: 2 };
/** The laxest Pod Security level that admits each profile. */
const NEEDS: Record<FitProfile, PsaLevel> = { general: 'privileged', netadmin: 'privileged', sysadmin: 'privileged', baseline: 'baseline', restricted: 'restricted' };

/** A namespace's enforce level; no label means privileged, the admission plugin's default. */
export function enforceLevel(labels: Record<string, string> | undefined): PsaLevel {
  const v = labels?.[ENFORCE_LABEL];
  return v === 'baseline' || v === 'restricted' ? v : 'privileged';
}

export function levelAllows(level: PsaLevel, profile: FitProfile): boolean {
  return RANK[level] <= RANK[NEEDS[profile]];
}

/** Who the target container runs as: its own securityContext, else the pod's. */
export interface Identity {
  uid?: number;
  gid?: number;
  runAsNonRoot?: boolean;
}

export function identityOf(pod: V1Pod, container: V1Container | undefined): Identity {
  const c = container?.securityContext;
  const p = pod.spec?.securityContext;
  return { uid: c?.runAsUser ?? p?.runAsUser, gid: c?.runAsGroup ?? p?.runAsGroup, runAsNonRoot: c?.runAsNonRoot ?? p?.runAsNonRoot };
}

export interface Fit {
  profile: FitProfile;
  securityContext: V1SecurityContext;
  /** The UID the container runs as (0: root). */
  uid: number;
  /** Why this profile, for the user: one line. */
  why: string;
}

/**
 * The profiles to try, best first. An explicit --profile is the only candidate (refused up front
 * when the namespace's level is known not to allow it). Otherwise the target's own non-root user
 * when it has one (so /proc/1/root and its files are reachable), else root with the most the
 * namespace allows. With the level unknown (no permission to read the namespace) the caller tries
 * them in order with server-side dry runs.
 */
export function fitCandidates(input: { explicit?: ProfileName; level?: PsaLevel; target: Identity; namespace: string; what: string }): Fit[] {
  const { explicit, level, target } = input;
  const nonRootTarget = target.uid !== undefined && target.uid !== 0;
  if (explicit) {
    if (level && !levelAllows(level, explicit)) throw psaRefusal({ namespace: input.namespace, level, profile: explicit, what: input.what });
    return [fitOf(explicit, target, `--profile ${explicit}`)];
  }
  if (nonRootTarget) return [fitOf('restricted', target, `as the target's user ${target.uid}`)];
  if (target.runAsNonRoot) {
    return [fitOf('restricted', target, `as nobody (${NOBODY}): the target must run as non-root but its UID is not in the spec, so its files may not be reachable`)];
  }
  const ladder: FitProfile[] = ['general', 'baseline', 'restricted'];
  const allowed = level ? ladder.filter((p) => levelAllows(level, p)) : ladder;
  return allowed.map((p) =>
    fitOf(p, target, p === 'restricted' ? `as nobody (${NOBODY}): Pod Security "restricted" forbids root, so a root target's files are not reachable` : p === 'general' ? 'as root with SYS_PTRACE' : 'as root'),
  );
}

function fitOf(profile: FitProfile, target: Identity, why: string): Fit {
  if (profile === 'restricted') {
    const uid = target.uid !== undefined && target.uid !== 0 ? target.uid : NOBODY;
    const gid = target.uid !== undefined && target.uid !== 0 ? (target.gid ?? uid) : NOBODY;
    return {
      profile,
      uid,
      why,
      securityContext: {
        runAsUser: uid,
        runAsGroup: gid,
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
    };
  }
  // Root is set explicitly: a pod-level runAsUser or runAsNonRoot would otherwise win, and a
  // runAsNonRoot pod would refuse the container for good (CreateContainerConfigError).
  const root: V1SecurityContext = { runAsUser: 0, runAsGroup: 0, runAsNonRoot: false };
  const sc: Record<FitProfile, V1SecurityContext> = {
    general: { ...root, capabilities: { add: ['SYS_PTRACE'] } },
    baseline: { ...root, allowPrivilegeEscalation: false },
    netadmin: { ...root, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
    sysadmin: { ...root, privileged: true },
    restricted: {},
  };
  return { profile, uid: 0, why, securityContext: sc[profile] };
}

/** The Pod Security level's refusal in plain words, with the label that would allow it. */
export function psaRefusal(input: { namespace: string; level: PsaLevel; profile: FitProfile | 'node'; what: string }): NixrunError {
  const { namespace, level } = input;
  const needs = input.profile === 'node' ? 'privileged' : NEEDS[input.profile];
  const reason =
    input.profile === 'node'
      ? 'host namespaces (hostPID, hostNetwork, hostIPC), the host’s / and privileged mode'
      : input.profile === 'general'
        ? 'root with SYS_PTRACE'
        : input.profile === 'netadmin'
          ? 'root with NET_ADMIN and NET_RAW'
          : input.profile === 'sysadmin'
            ? 'a privileged container'
            : input.profile === 'baseline'
              ? 'root'
              : 'this';
  const others = (['baseline', 'restricted'] as const).filter((p) => levelAllows(level, p) && p !== input.profile);
  const instead = input.profile === 'node' ? '' : others.length > 0 ? `; or --profile ${others[0]}, which it allows` : '';
  return new NixrunError(`namespace ${namespace} enforces Pod Security "${level}", which does not allow ${reason} for ${input.what} (it needs "${needs}")`, {
    exitCode: ExitCode.cannotRun,
    hint: `allow it: kubectl label namespace ${namespace} ${ENFORCE_LABEL}=${needs} --overwrite, or use -n a namespace at "${needs}"${instead}`,
  });
}
