import { UsageError } from '../errors.js';
import type { Kube } from '../kube/client.js';
import { isDnsSubdomain } from '../pod/parse.js';
import type { LoadedScript } from '../script/plan.js';
import { parseShebang } from '../script/shebang.js';
import { decodeScript, readScriptFile } from '../script/source.js';

/** What the command line asks to run as a script, decided before anything is read. */
export type ScriptRequest = { kind: 'file'; path: string } | { kind: 'configMap'; name: string; key?: string };

const CONFIGMAP_KEY_RE = /^[-._a-zA-Z0-9]{1,253}$/;

/**
 * `kubectl nixrun ./check.sh`: a positional with a slash is a script (executable names never
 * have one); `-f FILE` says so outright; `--configmap NAME[/KEY]` names one in the cluster.
 */
export function scriptRequest(flags: { executable?: string; pick?: boolean; script?: string; configmap?: string }): ScriptRequest | undefined {
  const given = [flags.script !== undefined && '-f/--script', flags.configmap !== undefined && '--configmap'].filter(Boolean);
  if (given.length > 1) throw new UsageError('-f/--script and --configmap both name a script: give one');
  if (given.length > 0 && flags.executable !== undefined) {
    throw new UsageError(`unexpected argument "${flags.executable}" with ${given[0]}`, `the script's arguments go after "--": kubectl nixrun ${given[0] === '--configmap' ? '--configmap NAME' : '-f FILE'} -- ${flags.executable}`);
  }
  if (given.length > 0 && flags.pick) throw new UsageError(`--pick and ${given[0]} do not go together`, 'a script names its own packages');
  if (flags.configmap !== undefined) {
    const [name, key, ...rest] = flags.configmap.split('/');
    if (rest.length > 0 || name === undefined || !isDnsSubdomain(name)) {
      throw new UsageError(`invalid --configmap ${JSON.stringify(flags.configmap)}: expected NAME or NAME/KEY`, 'e.g. --configmap cluster-check/check.sh');
    }
    if (key !== undefined && !CONFIGMAP_KEY_RE.test(key)) throw new UsageError(`invalid key ${JSON.stringify(key)} in --configmap: ConfigMap keys are letters, digits, '-', '_' and '.'`);
    return { kind: 'configMap', name, key };
  }
  if (flags.script !== undefined) return { kind: 'file', path: flags.script };
  if (flags.executable?.includes('/')) return { kind: 'file', path: flags.executable };
  return undefined;
}

/** A local script: read and parsed here, before any request anywhere. */
export function loadScriptFile(path: string): LoadedScript {
  const file = readScriptFile(path);
  const spec = parseShebang(file.text, path);
  return { label: path, spec, pod: { fileName: file.fileName, source: { kind: 'annotation', text: file.text } } };
}

/** A ConfigMap's script: its shebang read through the API, the file mounted from the ConfigMap. */
export async function loadScriptConfigMap(kube: Kube, req: { name: string; key?: string }): Promise<LoadedScript> {
  const { readConfigMapKey } = await import('../kube/configmaps.js');
  const { key, text } = await readConfigMapKey(kube, req.name, req.key);
  const label = `configmap/${req.name}/${key}`;
  if (text === undefined) throw new UsageError(`${label} is binaryData, not a script`);
  const checked = decodeScript(Buffer.from(text, 'utf8'), label);
  const spec = parseShebang(checked, label);
  return { label, spec, pod: { fileName: key, source: { kind: 'configMap', name: req.name, key } } };
}
