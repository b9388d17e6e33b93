#!/usr/bin/env node
// Prebuild every store path of the attribute map into the cache (CI calls this once; the server
// otherwise builds lazily, on the first request that needs a store path), then write
// provenance.json (Debian packages and versions, tools, store paths) beside the layers.
//
//   node testenv/nixery/build.mjs [--cache DIR] [--print-cache-dir] [--prune] [--quiet]
//
// --prune removes the caches of other map/builder/Debian versions beside the default one.
//
// Exits 1 when an attribute cannot be built here (a Debian package is missing: install the
// packages in testenv/nixery/debian-packages.txt).
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Store, defaultCacheDir, defaultCacheRoot } from './store.mjs';

const { values } = parseArgs({ options: { cache: { type: 'string' }, 'print-cache-dir': { type: 'boolean' }, prune: { type: 'boolean' }, quiet: { type: 'boolean' } } });
if (values['print-cache-dir']) {
  process.stdout.write(`${values.cache ?? defaultCacheDir()}\n`);
  process.exit(0);
}
const log = values.quiet ? () => {} : (line) => process.stderr.write(`[nixery build] ${line}\n`);
const t0 = Date.now();
const store = new Store({ ...(values.cache ? { cacheDir: values.cache } : {}), log });
const plan = await store.plan();
const layers = await store.ensureAll();
const provenance = await store.provenance();
writeFileSync(join(store.cacheDir, 'provenance.json'), `${JSON.stringify(provenance, null, 1)}\n`);
const mb = layers.reduce((n, l) => n + l.size, 0) / 1e6;
log(`${layers.length} store paths (${new Set(layers.map((l) => l.base)).size} distinct), ${mb.toFixed(1)} MB of layers, in ${((Date.now() - t0) / 1000).toFixed(1)} s; cache ${store.cacheDir}`);
if (values.prune && !values.cache) {
  for (const d of readdirSync(defaultCacheRoot())) {
    if (d === basename(store.cacheDir)) continue;
    rmSync(join(defaultCacheRoot(), d), { recursive: true, force: true });
    log(`pruned ${d}`);
  }
}
const errors = Object.entries(plan.errors);
for (const [attr, why] of errors) process.stderr.write(`[nixery build] cannot build ${attr}: ${why}\n`);
process.exit(errors.length ? 1 : 0);
