import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const BASES = {
  config: ['XDG_CONFIG_HOME', '.config'],
  data: ['XDG_DATA_HOME', join('.local', 'share')],
  state: ['XDG_STATE_HOME', join('.local', 'state')],
  cache: ['XDG_CACHE_HOME', '.cache'],
} as const;

/** `${XDG_<KIND>_HOME:-~/<default>}/kubectl-nixrun/<name>`, as the XDG base directory spec says. */
export function xdgPath(kind: keyof typeof BASES, name: string, env: NodeJS.ProcessEnv = process.env): string {
  const [variable, fallback] = BASES[kind];
  return join(env[variable] || join(env.HOME || homedir(), fallback), 'kubectl-nixrun', name);
}

/** A small JSON state file; missing or unreadable means `fallback`. */
export function readJsonFile<T>(path: string, fallback: T): T {
  try {
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : fallback;
  } catch {
    return fallback;
  }
}

export function writeJsonFile(path: string, data: unknown, indent?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, null, indent)}\n`);
}
