export { buildImageRef, normalizePackage, validateRegistry, withDigest, type Arch, type ImageRef, type RefInput } from './ref.js';
