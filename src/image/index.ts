export { buildImageRef, normalizePackage, validateRegistry, validateTag, withDigest, type Arch, type ImageRef, type RefInput } from './ref.js';
export { imageFor } from './for-plan.js';
