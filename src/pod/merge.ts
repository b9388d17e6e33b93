/**
 * Kubernetes strategic-merge-patch semantics for the pod fields people override (kubectl run's
 * default JSON merge replaces whole arrays and silently drops our container: kurun#33):
 * - objects merge recursively; a `null` value deletes the key;
 * - lists with a merge key (containers by name, env by name, volumeMounts by mountPath, …) merge
 *   item by item, new items are appended, `{"$patch": "delete", <key>: …}` removes one;
 * - other lists (command, args, tolerations, …) are replaced;
 * - `{"$patch": "replace", …}` replaces an object instead of merging it.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  readinessGates: 'conditionType',
  resourceClaims: 'name',
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function strategicMerge(base: unknown, patch: unknown): unknown {
  return merge(base as Json, patch as Json, undefined);
}

function isObject(v: unknown): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function merge(base: Json | undefined, patch: Json, field: string | undefined): Json {
  if (isObject(patch)) {
    if (patch.$patch === 'replace') return stripDirectives(patch);
    if (!isObject(base)) return stripDirectives(patch);
    const out: Record<string, Json> = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (k === '$patch') continue;
      if (v === null) delete out[k];
      else out[k] = merge(base[k], v, k);
    }
    return out;
  }
  if (Array.isArray(patch)) {
    const key = field !== undefined && Object.hasOwn(MERGE_KEYS, field) ? MERGE_KEYS[field] : undefined;
    if (!key || !Array.isArray(base)) return patch.filter((p) => !(isObject(p) && p.$patch === 'delete')).map(stripDirectives);
    const out: Json[] = [...base];
    for (const item of patch) {
      if (!isObject(item) || item[key] === undefined) {
        out.push(item);
        continue;
      }
      const i = out.findIndex((b) => isObject(b) && b[key] === item[key]);
      if (item.$patch === 'delete') {
        if (i !== -1) out.splice(i, 1);
      } else if (i === -1) out.push(stripDirectives(item));
      else out[i] = merge(out[i], item, undefined);
    }
    return out;
  }
  return patch;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, Json> = {};
  for (const [k, val] of Object.entries(v)) if (k !== '$patch') out[k] = stripDirectives(val);
  return out;
}
