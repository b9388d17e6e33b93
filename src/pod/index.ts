export { containerCommand, GATE_ARGV, GATE_PACKAGE, GATE_PREAMBLE, INIT_PACKAGE } from './command.js';
export { podFor } from './for-plan.js';
export {
  basename,
  buildPod,
  CONTAINER_NAME,
  KEEP_ANNOTATION,
  MANAGED_BY_SELECTOR,
  OWNER_ANNOTATIONS,
  podName,
  type Owner,
  type PodInput,
} from './manifest.js';
export { parseEnv, parseEnvFrom, parseKeyValues, parseOverrides, parseResources, parseTolerations } from './parse.js';
export { capabilityAdvice, isProfileName, PROFILE_NAMES, profilePackages, type ProfileName } from './profiles.js';
