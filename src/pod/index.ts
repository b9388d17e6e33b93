export {
  buildPod,
  CONTAINER_NAME,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  MANAGED_BY_SELECTOR,
  OWNER_ANNOTATIONS,
  podName,
  type Owner,
  type PodInput,
} from './manifest.js';
export { strategicMerge } from './merge.js';
export { parseDuration, parseEnv, parseEnvFrom, parseKeyValues, parseOverrides, parseResources, parseTolerations } from './parse.js';
export { applyProfile, capabilityAdvice, NOBODY, PROFILES, profilePackages, type ProfileName } from './profiles.js';
