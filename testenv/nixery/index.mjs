// The local Nixery for the project's tests: see README.md beside this file.
export { startNixery, CONTROL } from './server.mjs';
export { Store, defaultCacheDir, defaultCacheRoot, storeHash, nixBase32, upstreamVersion } from './store.mjs';
export { ImageBuilder, parseImageName, lookupAttr, MANIFEST_TYPE, CONFIG_TYPE, LAYER_BUDGET } from './image.mjs';
export { PACKAGES, INTERNAL, debianPackages } from './packages.mjs';
export { readElf, parseElf } from './elf.mjs';
