import { existsSync, readFileSync } from 'node:fs';
import { errnoCode, firstLine, UsageError } from '../errors.js';
import type { RunFlags } from '../plan/types.js';
import { isProfileName, PROFILE_NAMES } from '../pod/profiles.js';
import { splitCommaList } from '../plan/names.js';
import { DEFAULTS, nixrunEnv } from './env.js';
import type { RawRunArgs } from './run.js';


/** What the config file may set; every key is optional. */
export interface FileConfig {
  registry?: string;
  profile?: string;
  podRunningTimeout?: string;
  deadline?: string;
  extraPackages?: string[];
  labels?: Record<string, string>;
  aliases?: Record<string, string[]>;
  /** Image pull secrets put on every pod (--image-pull-secret replaces them). */
  imagePullSecrets?: string[];
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
  imagePullSecrets: Setting<string[]>;
  configPath: string;
  configFound: boolean;
}

const KEYS: Record<keyof FileConfig, 'string' | 'string[]' | 'map' | 'aliases'> = {
  registry: 'string',
  profile: 'string',
  podRunningTimeout: 'string',
  deadline: 'string',
  extraPackages: 'string[]',
  labels: 'map',
  aliases: 'aliases',
  imagePullSecrets: 'string[]',
};

/**
 * Read and validate the config file. A bad key or value is an error that names the file, the line
 * and the key.
 */
export async function loadConfigFile(path: string): Promise<FileConfig | undefined> {
  if (!existsSync(path)) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the config file ${path} (${errnoCode(err) ?? String(err)})`, 'fix the file, or point NIXRUN_CONFIG at another one');
  }
  // Loaded only when there is a file: the YAML library is the largest part of a run's start.
  const { LineCounter, parseDocument } = await import('./yaml.js');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number | undefined) => (offset === undefined ? '' : `:${lines.linePos(offset).line}`);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new UsageError(`${path}${at(e.pos[0])}: invalid YAML: ${e.message.split('\n')[0]}`, 'fix the file or remove it');
  }
  const root = doc.contents;
  if (root === null || root === undefined) return {};
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // Well-formed YAML that still cannot become data (an alias bomb: yaml refuses "excessive alias count").
    throw new UsageError(`${path}: invalid YAML: ${firstLine(err instanceof Error ? err.message : String(err))}`, 'fix the file or remove it');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new UsageError(`${path}: the config must be a mapping of keys to values`);
  const out: FileConfig = {};
  const rangeOf = (key: string): number | undefined => {
    const node = (root as { items?: Array<{ key?: { value?: unknown; range?: [number, number, number] } }> }).items?.find((i) => i.key?.value === key);
    return node?.key?.range?.[0];
  };
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const where = `${path}${at(rangeOf(key))}`;
    const kind = Object.hasOwn(KEYS, key) ? KEYS[key as keyof FileConfig] : undefined;
    if (!kind) throw new UsageError(`${where}: unknown key "${key}"`, `known keys: ${Object.keys(KEYS).join(', ')}`);
    const bad = (what: string) => new UsageError(`${where}: "${key}" must be ${what}`);
    switch (kind) {
      case 'string':
        if (typeof value !== 'string' || value.length === 0) throw bad('a non-empty string');
        if (key === 'profile' && !isProfileName(value)) throw bad(`one of ${PROFILE_NAMES.join(', ')}`);
        (out as Record<string, unknown>)[key] = value;
        break;
      case 'string[]':
        if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw bad(key === 'imagePullSecrets' ? 'a list of Secret names' : 'a list of package names');
        (out as Record<string, unknown>)[key] = value as string[];
        break;
      case 'map':
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('a mapping of label keys to values');
        out.labels = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
        break;
      case 'aliases': {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('a mapping of names to package lists ("db: postgresql,pgcli")');
        const aliases = Object.fromEntries(
          Object.entries(value as Record<string, unknown>).map(([name, pkgs]) => {
            const list = Array.isArray(pkgs) ? pkgs.map(String) : typeof pkgs === 'string' ? pkgs.split(',') : undefined;
            if (!list || list.length === 0) throw new UsageError(`${where}: alias "${name}" must be a comma-separated string or a list of packages`);
            return [name, list.map((s) => s.trim()).filter((s) => s.length > 0)];
          }),
        );
        out.aliases = aliases;
        break;
      }
    }
  }
  return out;
}

/** flag > environment > config file > built-in default, remembering where each value came from. */
export function resolveSettings(
  flags: { registry?: string | undefined; profile?: string | undefined; podRunningTimeout?: string | undefined; deadline?: string | undefined; imagePullSecret?: string[] | undefined },
  env: NodeJS.ProcessEnv,
  file: FileConfig | undefined,
  path: string,
): Settings {
  const pick = <T>(flag: T | undefined, envValue: T | undefined, fileValue: T | undefined, def: T): Setting<T> =>
    flag !== undefined ? { value: flag, source: 'flag' } : envValue !== undefined ? { value: envValue, source: 'env' } : fileValue !== undefined ? { value: fileValue, source: 'file' } : { value: def, source: 'default' };
  const e = nixrunEnv(env);
  return {
    registry: pick(flags.registry, e.registry, file?.registry, DEFAULTS.registry),
    profile: pick(flags.profile, e.profile, file?.profile, DEFAULTS.profile),
    podRunningTimeout: pick(flags.podRunningTimeout, e.podRunningTimeout, file?.podRunningTimeout, DEFAULTS.podRunningTimeout),
    deadline: pick(flags.deadline, e.deadline, file?.deadline, DEFAULTS.deadline),
    extraPackages: pick(undefined, e.extraPackages, file?.extraPackages, []),
    labels: pick(undefined, undefined, file?.labels, {}),
    aliases: pick(undefined, undefined, file?.aliases, {}),
    imagePullSecrets: pick(flags.imagePullSecret && flags.imagePullSecret.length > 0 ? flags.imagePullSecret : undefined, undefined, file?.imagePullSecrets, []),
    configPath: path,
    configFound: file !== undefined,
  };
}

/**
 * Flags win over NIXRUN_* variables, which win over the config file. A config alias used as the
 * executable ("db: postgresql,pgcli") becomes those packages and a shell (or the command).
 */
export function applySettings(raw: RawRunArgs, s: Settings): RunFlags {
  const out: RunFlags = {
    ...raw,
    registry: s.registry.value,
    profile: s.profile.value,
    podRunningTimeout: s.podRunningTimeout.value,
    deadline: s.deadline.value,
    configPackages: s.extraPackages.value,
    imagePullSecret: s.imagePullSecrets.value,
  };
  const fileLabels = Object.entries(s.labels.value).map(([k, v]) => `${k}=${v}`);
  if (fileLabels.length > 0) out.labels = [...fileLabels, ...(raw.labels ?? [])];
  // An alias works in --pkgs too (`--pkgs db,jq shell`).
  const aliases = s.aliases.value;
  const aliasOf = (name: string) => (Object.hasOwn(aliases, name) ? aliases[name] : undefined);
  if (raw.pkgs && Object.keys(aliases).length > 0) out.pkgs = splitCommaList(raw.pkgs).flatMap((p) => aliasOf(p) ?? [p]);
  const alias = raw.executable === undefined ? undefined : aliasOf(raw.executable);
  if (alias) {
    out.pkgs = [...(out.pkgs ?? []), ...alias];
    delete out.executable;
  }
  return out;
}
