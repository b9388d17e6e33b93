import type { V1EnvFromSource, V1Toleration } from '@kubernetes/client-node';
import { UsageError } from '../errors.js';

const ENV_NAME_RE = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const QUALIFIED_NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUANTITY_RE = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][0-9]+)?$/;
const RESOURCE_NAME_RE = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

/** A DNS-1123 subdomain: names of namespaces, nodes, service accounts, Secrets, ConfigMaps. */
export function isDnsSubdomain(name: string): boolean {
  return name.length > 0 && name.length <= 253 && DNS_SUBDOMAIN_RE.test(name);
}

/** -e K=V (the value may contain '=' and be empty). */
/** A DNS-1123 label (container names): a-z, 0-9 and '-', at most 63. */
export function isDnsLabel(name: string): boolean {
  return name.length > 0 && name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);
}

export function parseEnv(items: string[]): Array<{ name: string; value: string }> {
  return items.map((item) => {
    const i = item.indexOf('=');
    if (i <= 0) throw new UsageError(`invalid --env ${JSON.stringify(item)}: expected NAME=VALUE`, 'e.g. -e PGPASSWORD=secret');
    const name = item.slice(0, i);
    if (!ENV_NAME_RE.test(name)) {
      throw new UsageError(`invalid --env name ${JSON.stringify(name)}: letters, digits, '_', '-' and '.', not starting with a digit`);
    }
    return { name, value: item.slice(i + 1) };
  });
}

/**
 * `--env-from secret/NAME` or `configmap/NAME` (also `cm/NAME`, kubectl's short name): every key
 * of that Secret or ConfigMap becomes an environment variable (envFrom).
 */
export function parseEnvFrom(items: string[]): V1EnvFromSource[] {
  return items.map((item) => {
    const m = /^(secret|secrets|configmap|configmaps|cm)\/(.+)$/.exec(item);
    const name = m?.[2] ?? '';
    if (!m || !isDnsSubdomain(name)) {
      throw new UsageError(`invalid --env-from ${JSON.stringify(item)}: expected secret/NAME or configmap/NAME`, 'e.g. --env-from secret/db-credentials');
    }
    return m[1]!.startsWith('secret') ? { secretRef: { name } } : { configMapRef: { name } };
  });
}

/** A Kubernetes qualified name: [prefix/]name, as used by label and annotation keys. */
function checkKey(key: string, what: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  const ok =
    name.length > 0 &&
    name.length <= 63 &&
    QUALIFIED_NAME_RE.test(name) &&
    (prefix === undefined || isDnsSubdomain(prefix));
  if (!ok) {
    throw new UsageError(`invalid ${what} key ${JSON.stringify(key)}: expected [prefix/]name with letters, digits, '-', '_', '.' (name at most 63)`);
  }
}

/** -l k=v,k2=v2 / --annotations k=v: keys checked; label values too (annotation values are free). */
export function parseKeyValues(items: string[], what: 'label' | 'annotation'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const i = item.indexOf('=');
    if (i <= 0) throw new UsageError(`invalid ${what} ${JSON.stringify(item)}: expected key=value`);
    const key = item.slice(0, i);
    const value = item.slice(i + 1);
    checkKey(key, what);
    if (what === 'label' && value !== '' && (value.length > 63 || !QUALIFIED_NAME_RE.test(value))) {
      throw new UsageError(`invalid label value ${JSON.stringify(value)} for ${key}: at most 63 letters, digits, '-', '_', '.'`);
    }
    out[key] = value;
  }
  return out;
}

/** --toleration key[=value][:Effect] or "all" (tolerate every taint, like kubectl debug node/…). */
export function parseTolerations(items: string[]): V1Toleration[] {
  return items.map((item) => {
    if (item === 'all') return { operator: 'Exists' };
    const m = /^([^=:]+)(?:=([^:]*))?(?::([A-Za-z]+))?$/.exec(item);
    if (!m) throw new UsageError(`invalid --toleration ${JSON.stringify(item)}: expected key[=value][:Effect] or all`);
    const [, key, value, effect] = m;
    checkKey(key!, 'toleration');
    if (effect !== undefined && !(EFFECTS as readonly string[]).includes(effect)) {
      throw new UsageError(`invalid toleration effect ${JSON.stringify(effect)}: one of ${EFFECTS.join(', ')}`);
    }
    const t: V1Toleration = value === undefined ? { key: key!, operator: 'Exists' } : { key: key!, operator: 'Equal', value };
    if (effect !== undefined) t.effect = effect;
    return t;
  });
}

/** --requests/--limits cpu=100m,memory=128Mi */
export function parseResources(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const i = part.indexOf('=');
    const name = i === -1 ? part : part.slice(0, i);
    const qty = i === -1 ? '' : part.slice(i + 1);
    if (!RESOURCE_NAME_RE.test(name)) throw new UsageError(`invalid resource name ${JSON.stringify(name)} in ${JSON.stringify(s)}`, 'e.g. cpu=100m,memory=128Mi');
    if (!QUANTITY_RE.test(qty)) throw new UsageError(`invalid quantity ${JSON.stringify(qty)} for ${name}`, 'e.g. 100m, 0.5, 128Mi, 1Gi');
    out[name] = qty;
  }
  if (Object.keys(out).length === 0) throw new UsageError(`no resources in ${JSON.stringify(s)}`, 'e.g. cpu=100m,memory=128Mi');
  return out;
}

/** --overrides: a JSON object (a partial Pod) to strategic-merge into the pod. */
export function parseOverrides(json: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new UsageError(`--overrides is not valid JSON: ${(err as Error).message}`, `e.g. --overrides '{"spec":{"hostNetwork":true}}'`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError('--overrides must be a JSON object (a partial Pod)', `e.g. --overrides '{"spec":{"hostNetwork":true}}'`);
  }
  const o = parsed as Record<string, unknown>;
  if (o.apiVersion !== undefined && o.apiVersion !== 'v1') throw new UsageError(`--overrides apiVersion must be v1, not ${JSON.stringify(o.apiVersion)}`);
  if (o.kind !== undefined && o.kind !== 'Pod') throw new UsageError(`--overrides kind must be Pod, not ${JSON.stringify(o.kind)}`);
  return o;
}
