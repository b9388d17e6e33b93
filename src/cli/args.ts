/** The run command's flags as yargs hands them over (camel-cased), before validation. */
export interface RawRunArgs {
  executable?: string;
  '--'?: Array<string | number>;
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
  registry?: string;
  tag?: string;
  arch: 'auto' | 'amd64' | 'arm64';
  profile?: string;
  serviceAccount?: string;
  node?: string;
  toleration?: string[];
  requests?: string;
  limits?: string;
  labels?: string[];
  annotations?: string[];
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  overrides?: string;
  podRunningTimeout?: string;
  deadline?: string;
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

export const PROFILE_NAMES = ['restricted', 'baseline', 'netadmin', 'sysadmin'] as const;
