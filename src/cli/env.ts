import { errnoCode, UsageError } from '../errors.js';
import { loadTable, TABLE_FILE, type Table, type TableFiles } from '../resolve/index.js';
import { xdgPath } from '../xdg.js';

// The one place that reads the NIXRUN_* variables and decides the defaults: everything outside
// cli/ gets these values as arguments. (XDG_*, HOME, KUBECONFIG and NO_COLOR keep their standard
// meanings where they are implemented: xdg.ts, kube/client.ts, ui/output.ts.)

/** The built-in defaults of the settings (config view shows them with source "default"). */
export const DEFAULTS = {
  registry: 'nixery.dev',
  profile: 'restricted',
  podRunningTimeout: '5m',
  deadline: '4h',
} as const;

/** The NIXRUN_* variables; an empty one counts as unset. */
export interface NixrunEnv {
  config?: string;
  registry?: string;
  profile?: string;
  podRunningTimeout?: string;
  deadline?: string;
  extraPackages?: string[];
  table?: string;
  /** NIXRUN_PING_INTERVAL: a duration such as 5s or 500ms, at least 50ms (anything else is ignored). */
  pingIntervalMs?: number;
}

export function nixrunEnv(env: NodeJS.ProcessEnv): NixrunEnv {
  const get = (k: string) => (env[k] === undefined || env[k] === '' ? undefined : env[k]);
  return {
    config: get('NIXRUN_CONFIG'),
    registry: get('NIXRUN_REGISTRY'),
    profile: get('NIXRUN_PROFILE'),
    podRunningTimeout: get('NIXRUN_POD_RUNNING_TIMEOUT'),
    deadline: get('NIXRUN_DEADLINE'),
    extraPackages: get('NIXRUN_EXTRA_PACKAGES')?.split(',').filter(Boolean),
    table: get('NIXRUN_TABLE'),
    pingIntervalMs: pingInterval(get('NIXRUN_PING_INTERVAL')),
  };
}

function pingInterval(value: string | undefined): number | undefined {
  const m = /^(\d+)(ms|s)$/.exec((value ?? '').trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  return ms >= 50 ? ms : undefined;
}

/** ${NIXRUN_CONFIG} or ${XDG_CONFIG_HOME:-~/.config}/kubectl-nixrun/config.yaml */
export function configPath(env: NodeJS.ProcessEnv): string {
  return nixrunEnv(env).config ?? xdgPath('config', 'config.yaml', env);
}

/** NIXRUN_TABLE (a table to use instead of any other), else the user's own, else the bundled one. */
export function tableFiles(env: NodeJS.ProcessEnv): TableFiles {
  return { file: nixrunEnv(env).table, userFile: xdgPath('data', TABLE_FILE, env) };
}

/** The package table this environment chooses. A NIXRUN_TABLE that cannot be read is a usage error. */
export function tableFor(env: NodeJS.ProcessEnv): Table {
  const files = tableFiles(env);
  try {
    return loadTable(files);
  } catch (err) {
    if (files.file === undefined) throw err;
    throw new UsageError(`NIXRUN_TABLE=${JSON.stringify(files.file)} is not a readable package table (${errnoCode(err) ?? (err instanceof Error ? err.message : String(err))})`, 'point it at a table.br (kubectl nixrun table update writes one), or unset it');
  }
}
