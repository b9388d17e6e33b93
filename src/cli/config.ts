import { existsSync, readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { UsageError } from '../errors.js';
import { PROFILE_NAMES } from './args.js';
import { xdgPath } from '../xdg.js';

/** What the config file may set; every key is optional. */
export interface FileConfig {
  registry?: string;
  profile?: string;
  podRunningTimeout?: string;
  deadline?: string;
  extraPackages?: string[];
  labels?: Record<string, string>;
  aliases?: Record<string, string[]>;
}

export type Source = 'flag' | 'env' | 'file' | 'default';

export interface Setting<T> {
  value: T;
  source: Source;
}

export interface Settings {
  registry: Setting<string>;
  profile: Setting<string>;
  podRunningTimeout: Setting<string>;
  deadline: Setting<string>;
  extraPackages: Setting<string[]>;
  labels: Setting<Record<string, string>>;
  aliases: Setting<Record<string, string[]>>;
  configPath: string;
  configFound: boolean;
}

export const DEFAULTS = {
  registry: 'nixery.dev',
  profile: 'restricted',
  podRunningTimeout: '5m',
  deadline: '4h',
} as const;

const KEYS: Record<keyof FileConfig, 'string' | 'string[]' | 'map' | 'aliases'> = {
  registry: 'string',
  profile: 'string',
  podRunningTimeout: 'string',
  deadline: 'string',
  extraPackages: 'string[]',
  labels: 'map',
  aliases: 'aliases',
};

/** ${NIXRUN_CONFIG} or ${XDG_CONFIG_HOME:-~/.config}/kubectl-nixrun/config.yaml */
export function configPath(env: NodeJS.ProcessEnv): string {
  if (env.NIXRUN_CONFIG) return env.NIXRUN_CONFIG;
  return xdgPath('config', 'config.yaml', env);
}

/**
 * Read and validate the config file. A bad key or value is an error that names the file, the line
 * and the key.
 */
export async function loadConfigFile(path: string): Promise<FileConfig | undefined> {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number | undefined) => (offset === undefined ? '' : `:${lines.linePos(offset).line}`);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new UsageError(`${path}${at(e.pos[0])}: invalid YAML: ${e.message.split('\n')[0]}`, 'fix the file or remove it');
  }
  const root = doc.contents;
  if (root === null || root === undefined) return {};
  const data = doc.toJS() as unknown;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new UsageError(`${path}: the config must be a mapping of keys to values`);
  const out: FileConfig = {};
  const rangeOf = (key: string): number | undefined => {
    const node = (root as { items?: Array<{ key?: { value?: unknown; range?: [number, number, number] } }> }).items?.find((i) => i.key?.value === key);
    return node?.key?.range?.[0];
  };
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const where = `${path}${at(rangeOf(key))}`;
    const kind = KEYS[key as keyof FileConfig];
    if (!kind) throw new UsageError(`${where}: unknown key "${key}"`, `known keys: ${Object.keys(KEYS).join(', ')}`);
    const bad = (what: string) => new UsageError(`${where}: "${key}" must be ${what}`);
    switch (kind) {
      case 'string':
        if (typeof value !== 'string' || value.length === 0) throw bad('a non-empty string');
        if (key === 'profile' && !(PROFILE_NAMES as readonly string[]).includes(value)) throw bad(`one of ${PROFILE_NAMES.join(', ')}`);
        (out as Record<string, unknown>)[key] = value;
        break;
      case 'string[]':
        if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw bad('a list of package names');
        out.extraPackages = value as string[];
        break;
      case 'map':
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('a mapping of label keys to values');
        out.labels = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
        break;
      case 'aliases': {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('a mapping of names to package lists ("db: postgresql,pgcli")');
        const aliases: Record<string, string[]> = {};
        for (const [name, pkgs] of Object.entries(value as Record<string, unknown>)) {
          const list = Array.isArray(pkgs) ? pkgs.map(String) : typeof pkgs === 'string' ? pkgs.split(',') : undefined;
          if (!list || list.length === 0) throw new UsageError(`${where}: alias "${name}" must be a comma-separated string or a list of packages`);
          aliases[name] = list.map((s) => s.trim()).filter((s) => s.length > 0);
        }
        out.aliases = aliases;
        break;
      }
    }
  }
  return out;
}

/** flag > environment > config file > built-in default, remembering where each value came from. */
export function resolveSettings(
  flags: { registry?: string | undefined; profile?: string | undefined; podRunningTimeout?: string | undefined; deadline?: string | undefined },
  env: NodeJS.ProcessEnv,
  file: FileConfig | undefined,
  path: string,
): Settings {
  const pick = <T>(flag: T | undefined, envValue: T | undefined, fileValue: T | undefined, def: T): Setting<T> =>
    flag !== undefined ? { value: flag, source: 'flag' } : envValue !== undefined ? { value: envValue, source: 'env' } : fileValue !== undefined ? { value: fileValue, source: 'file' } : { value: def, source: 'default' };
  const e = (k: string) => (env[k] === undefined || env[k] === '' ? undefined : env[k]);
  return {
    registry: pick(flags.registry, e('NIXRUN_REGISTRY'), file?.registry, DEFAULTS.registry),
    profile: pick(flags.profile, e('NIXRUN_PROFILE'), file?.profile, DEFAULTS.profile),
    podRunningTimeout: pick(flags.podRunningTimeout, e('NIXRUN_POD_RUNNING_TIMEOUT'), file?.podRunningTimeout, DEFAULTS.podRunningTimeout),
    deadline: pick(flags.deadline, e('NIXRUN_DEADLINE'), file?.deadline, DEFAULTS.deadline),
    extraPackages: pick(undefined, e('NIXRUN_EXTRA_PACKAGES')?.split(',').filter(Boolean), file?.extraPackages, []),
    labels: pick(undefined, undefined, file?.labels, {}),
    aliases: pick(undefined, undefined, file?.aliases, {}),
    configPath: path,
    configFound: file !== undefined,
  };
}
