// What the standalone binaries run (scripts/release.mjs bundles it with the `undici` stand-in,
// then compiles it with Bun and the lookup table embedded in the executable).
export { run } from '../cli/entry.js';
export { useEmbeddedData } from '../resolve/index.js';
