import type { V1EnvFromSource, V1Toleration } from '@kubernetes/client-node';
import type { Arch } from '../image/ref.js';
import type { ProfileName } from '../pod/profiles.js';
import type { Resolution } from '../resolve/index.js';
import type { PodScript } from '../script/pod.js';
import type { Mode, ModeFlags } from './mode.js';
import type { AccessFlags, KubeAccess } from './access.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/**
 * The run command's input as the CLI hands it over: the flags (camel-cased, as yargs gives them),
 * with the settings (environment, config file, defaults) already applied. Nothing is checked yet.
 */
export interface RunFlags extends ModeFlags, AccessFlags {
  executable?: string;
  /** The profile came from a flag, the environment or the config file (not the default): modes fit one otherwise. */
  profileExplicit?: boolean;
  /** The command after "--". */
  '--'?: Array<string | number>;
  /** Stray positionals (a command without "--"). */
  _?: Array<string | number>;
  pkgs?: string[];
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  stdin?: boolean;
  tty?: boolean;
  env?: string[];
  envFrom?: string[];
  hostNetwork?: boolean;
  registry: string;
  tag?: string;
  arch: 'auto' | Arch;
  profile: string;
  serviceAccount?: string;
  node?: string;
  toleration?: string[];
  requests?: string;
  limits?: string;
  labels?: string[];
  annotations?: string[];
  imagePullPolicy?: PullPolicy;
  /** --image-pull-secret (or the config file's imagePullSecrets). */
  imagePullSecret?: string[];
  overrides?: string;
  podRunningTimeout: string;
  deadline: string;
  /** The extraPackages setting (config file, NIXRUN_EXTRA_PACKAGES): added to every image. */
  configPackages: string[];
  init: boolean;
  preflight: boolean;
  sweep: boolean;
  keep: boolean;
  dryRun: boolean;
  output?: 'yaml' | 'json';
  quiet: boolean;
  pick?: boolean;
  verbose?: number;
}

/** Whether the ends of the session are terminals: decides the TTY. */
export interface Terminal {
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
}

/** Every flag parsed and checked; what to run is not decided yet (a prompt may still add to it). */
export interface ValidFlags {
  /** The executable named as the positional, or "shell". */
  executable?: string;
  /** The command after "--" ([] when none). */
  command: string[];
  /** --pkgs items, without the meta-packages shell and arm64. */
  requested: string[];
  /** --pkgs named the shell meta-package. */
  shellRequested: boolean;
  configPackages: string[];
  registry: string;
  tag?: string;
  arch: 'auto' | Arch;
  profile: ProfileName;
  stdin: boolean;
  tty: boolean;
  init: boolean;
  env: Array<{ name: string; value: string }>;
  envFrom: V1EnvFromSource[];
  hostNetwork: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  tolerations: V1Toleration[];
  requests?: Record<string, string>;
  limits?: Record<string, string>;
  imagePullPolicy?: PullPolicy;
  imagePullSecrets: string[];
  overrides?: unknown;
  serviceAccount?: string;
  node?: string;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  /** kubectl's global flags: impersonation, server, credentials, TLS, request timeout. */
  access: KubeAccess;
  podRunningTimeoutSeconds: number;
  deadlineSeconds: number;
  keep: boolean;
  preflight: boolean;
  sweep: boolean;
  dryRun: boolean;
  output?: 'yaml' | 'json';
  quiet: boolean;
  /** Things the user should know (a TTY that could not be used). */
  warnings: string[];
  /** A fresh pod, an ephemeral container (--target), a copy (--copy) or the node (node/NAME). */
  mode: Mode;
  profileExplicit: boolean;
}

/** Everything a run needs, validated and resolved, before any network or API call: the engine's input. */
export interface RunPlan extends Omit<ValidFlags, 'executable' | 'requested' | 'shellRequested' | 'configPackages'> {
  /** What the pod is named after: the executable, or "shell". */
  exe: string;
  /** The user's command (argv), before the init and gate wrappers. */
  command: string[];
  resolutions: Resolution[];
  /** Attributes the user asked for (resolved). */
  packages: string[];
  /** Added to the image besides those: the extraPackages setting's, the profile's (fakenss), the init (tini), the gate's (bash). */
  addedPackages: string[];
  /** The image needs Nixery's shell meta-package (bash, coreutils). */
  shell: boolean;
  /** Things the user should know (a TTY that could not be used, missing capabilities). */
  warnings: string[];
  /** Packages that nixpkgs does not build for aarch64-linux (per the table): warned about for arm64. */
  notOnArm64: string[];
  /** A script run (`./check.sh`, `-f`, `--configmap`): the file mounted into the pod; `command` runs it. */
  script?: PodScript;
}
