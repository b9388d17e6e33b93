import { toYaml } from './yaml-out.js';
import type { Io } from '../ui/output.js';
import { loadConfigFile, resolveSettings, type Setting } from './config.js';
import { configPath } from './env.js';

/** `config view`: the effective configuration, each value with where it came from. */
export async function configView(io: Io): Promise<number> {
  const path = configPath(io.env);
  const s = resolveSettings({}, io.env, await loadConfigFile(path), path);
  const rows: Array<[string, Setting<unknown>]> = [
    ['registry', s.registry],
    ['profile', s.profile],
    ['podRunningTimeout', s.podRunningTimeout],
    ['deadline', s.deadline],
    ['extraPackages', s.extraPackages],
    ['labels', s.labels],
    ['aliases', s.aliases],
    ['imagePullSecrets', s.imagePullSecrets],
  ];
  io.stdout.write(`# config file: ${path}${s.configFound ? '' : ' (not found)'}\n`);
  for (const [key, setting] of rows) {
    const value = toYaml({ [key]: setting.value }).trimEnd();
    const lines = value.split('\n');
    lines[0] = `${lines[0]}  # ${setting.source}`;
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  return 0;
}
