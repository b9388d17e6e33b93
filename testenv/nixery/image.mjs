// Nixery's image semantics: how an image name becomes a package list (nixery.md §1), and the image
// built from it (§4.4, §5): one layer per store path of the closure (most shared first, at most
// 94), then the symlink layer of the requested packages with /tmp and /usr/bin/env, a Docker
// schema 2 manifest and a config holding only Env SSL_CERT_FILE and, with `shell`, Cmd ["bash"].
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import { PACKAGES } from './packages.mjs';
import { LAYER_TYPE, STORE, makeTar } from './store.mjs';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);
export const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
export const CONFIG_TYPE = 'application/vnd.docker.container.image.v1+json';
/** builder.go: LayerBudget = 94, plus the symlink layer. */
export const LAYER_BUDGET = 94;
export const SHELL_PACKAGES = ['bashInteractive', 'coreutils', 'moreutils', 'nano'];

/**
 * builder.ImageFromName: split on "/", consume the meta-packages at the front, add cacert and
 * iana-etc, sort; digit-leading names get Nix's "_" (prepare-image.nix).
 * @param {string} name the repository path, e.g. "shell/curl"
 */
export function parseImageName(name) {
  const components = name.split('/');
  let arch = 'amd64';
  /** @type {string[]} */
  const packages = [];
  let i = 0;
  for (; i < components.length; i++) {
    const c = components[i];
    if (c === 'shell') packages.push(...SHELL_PACKAGES);
    else if (c === 'arm64') arch = 'arm64';
    else break;
  }
  packages.push(...components.slice(i), 'cacert', 'iana-etc');
  return {
    name: [...components].sort().join('/'),
    arch,
    packages: packages.map((p) => (/^[0-9]/.test(p) ? `_${p}` : p)).sort(),
  };
}

/** lower case → attribute, for the top-level names that have upper case (PR #22's fallback). */
const LOWER = new Map(
  [...new Set(Object.keys(PACKAGES).map((k) => k.split('.')[0]))].filter((k) => /[A-Z]/.test(k)).map((k) => [k.toLowerCase(), k]),
);

/**
 * deepFetch: the exact attribute path, else every component that is a lower-cased top-level name
 * replaced by that name. Returns the attribute (a key of PACKAGES) or undefined.
 * @param {string} pkg
 * @param {Record<string, unknown>} attrs the attributes that exist
 */
export function lookupAttr(pkg, attrs = PACKAGES) {
  if (Object.hasOwn(attrs, pkg)) return pkg;
  const amended = pkg
    .split('.')
    .map((c) => LOWER.get(c) ?? c)
    .join('.');
  return Object.hasOwn(attrs, amended) ? amended : undefined;
}

export class BuildError extends Error {}

/**
 * @typedef {import('./store.mjs').Store} Store
 * @typedef {import('./store.mjs').LayerMeta} LayerMeta
 * @typedef {{ manifest: Buffer, digest: string, config: Buffer, layers: Array<{ digest: string, size: number, diffId: string, paths: string[] }> }} Image
 */

export class ImageBuilder {
  /** @param {Store} store @param {{ layerBudget?: number }} [opts] layerBudget: for tests of the merge */
  constructor(store, opts = {}) {
    this.store = store;
    this.budget = opts.layerBudget ?? LAYER_BUDGET;
    /** @type {Map<string, Promise<Image>>} */
    this.images = new Map();
    /** @type {Map<string, number> | undefined} */
    this.popularity = undefined;
  }

  /**
   * @param {{ attrs: string[], arch: string, packages: string[] }} req attributes (keys of PACKAGES),
   *   sorted as Nixery sorts them; `packages` is the expanded list as requested (for Cmd)
   * @returns {Promise<Image>}
   */
  build(req) {
    const key = `${req.arch}:${req.attrs.join(',')}:${req.packages.includes('bashInteractive')}`;
    let p = this.images.get(key);
    if (!p) {
      p = this.make(req);
      this.images.set(key, p);
      p.catch(() => this.images.delete(key));
    }
    return p;
  }

  /** @param {{ attrs: string[], arch: string, packages: string[] }} req */
  async make(req) {
    const plan = await this.store.plan();
    for (const a of req.attrs) if (plan.errors[a]) throw new BuildError(`${a}: ${plan.errors[a]}`);
    const top = req.attrs.map((a) => plan.attrs[a]);
    // The closure, one entry per store path (aliases share one).
    const seen = new Map();
    const stack = [...top];
    while (stack.length) {
      const k = stack.pop();
      const p = plan.paths[k];
      if (seen.has(p.base)) continue;
      seen.set(p.base, k);
      stack.push(...p.deps);
    }
    const pop = this.popularityOf(plan);
    const keys = [...seen.values()].sort((a, b) => pop(b) - pop(a) || (plan.paths[a].base < plan.paths[b].base ? -1 : 1));
    /** @type {Map<string, LayerMeta>} */
    const metas = new Map();
    // Two builds at a time: patchelf, gcc and gzip run outside the event loop.
    const queue = [...keys];
    await Promise.all(
      [0, 1].map(async () => {
        for (let k = queue.shift(); k; k = queue.shift()) metas.set(k, await this.store.ensure(k));
      }),
    );
    /** @type {Image['layers']} */
    const layers = [];
    const budget = this.budget;
    const single = keys.slice(0, budget - 1);
    for (const k of keys.length > budget ? single : keys) {
      const m = metas.get(k);
      layers.push({ digest: m.digest, size: m.size, diffId: m.diffId, paths: [m.base] });
    }
    if (keys.length > budget) layers.push(await this.combined(keys.slice(budget - 1).map((k) => metas.get(k))));
    layers.push(await this.symlinkLayer(plan, top, metas));
    const cfg = {
      architecture: req.arch,
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      config: {
        ...(req.packages.includes('bashInteractive') ? { Cmd: ['bash'] } : {}),
        Env: ['SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt'],
      },
    };
    const config = Buffer.from(JSON.stringify(cfg));
    const configDigest = this.store.putBlob(config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_TYPE,
        config: { mediaType: CONFIG_TYPE, size: config.length, digest: configDigest },
        layers: layers.map((l) => ({ mediaType: LAYER_TYPE, size: l.size, digest: l.digest })),
      }),
    );
    const digest = this.store.putBlob(manifest);
    return { manifest, digest, config, layers };
  }

  /** How many attributes of the map have a store path in their closure (Nixery's popularity). */
  popularityOf(plan) {
    if (!this.popularity) {
      const count = new Map();
      const tops = new Set(Object.values(plan.attrs));
      for (const t of tops) {
        const seen = new Set();
        const stack = [t];
        while (stack.length) {
          const k = stack.pop();
          if (seen.has(k)) continue;
          seen.add(k);
          stack.push(...plan.paths[k].deps);
        }
        for (const k of seen) count.set(k, (count.get(k) ?? 0) + 1);
      }
      this.popularity = count;
    }
    const c = this.popularity;
    return (/** @type {string} */ k) => c.get(k) ?? 0;
  }

  /**
   * One layer for the store paths past the budget: their tars concatenated.
   * @param {LayerMeta[]} metas
   */
  async combined(metas) {
    const parts = [];
    for (const m of metas) {
      const t = await gunzip(readFileSync(this.store.blobPath(m.digest)));
      parts.push(t.subarray(0, t.length - 1024)); // without the end-of-archive blocks
    }
    const tarBuf = Buffer.concat([...parts, Buffer.alloc(1024)]);
    const gz = await gzip(tarBuf, { level: 6 });
    return { digest: this.store.putBlob(gz), size: gz.length, diffId: sha256(tarBuf), paths: metas.map((m) => m.base) };
  }

  /**
   * symlinkJoin of the requested packages (each file a symlink into its store path, directories
   * real), then /tmp and /usr/bin/env → coreutils' env (dangling without coreutils, as in Nixery).
   * @param {import('./store.mjs').Plan} plan
   * @param {string[]} top store path keys of the requested packages, in the sorted package order
   * @param {Map<string, LayerMeta>} metas
   */
  async symlinkLayer(plan, top, metas) {
    /** @type {Map<string, import('./store.mjs').TarEntry>} */
    const entries = new Map();
    for (const k of top) {
      const m = /** @type {LayerMeta} */ (metas.get(k));
      for (const [rel, kind] of m.listing) {
        const existing = entries.get(rel);
        if (hasFileParent(entries, rel)) continue;
        if (kind === 'dir') {
          if (!existing) entries.set(rel, { name: rel, type: 'directory' });
        } else if (!existing) {
          entries.set(rel, { name: rel, type: 'symlink', linkname: `${STORE}/${m.base}/${rel}` });
        }
      }
    }
    entries.set('tmp', { name: 'tmp', type: 'directory' });
    if (!entries.has('usr')) entries.set('usr', { name: 'usr', type: 'directory' });
    if (!entries.has('usr/bin')) entries.set('usr/bin', { name: 'usr/bin', type: 'directory' });
    const coreutils = plan.paths[plan.attrs.coreutils ?? ''];
    entries.set('usr/bin/env', { name: 'usr/bin/env', type: 'symlink', linkname: `${STORE}/${coreutils?.base ?? 'coreutils-missing'}/bin/env` });
    const sorted = [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const tarBuf = await makeTar(sorted);
    const gz = await gzip(tarBuf, { level: 6 });
    return { digest: this.store.putBlob(gz), size: gz.length, diffId: sha256(tarBuf), paths: [] };
  }
}

/** A path under something that is already a symlink (a file) cannot be a directory entry too. */
function hasFileParent(entries, rel) {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) if (entries.get(parts.slice(0, i).join('/'))?.type === 'symlink') return true;
  return false;
}

function sha256(buf) {
  return `sha256:${createHash('sha256').update(buf).digest('hex')}`;
}
