// Types for the TypeScript tests (the implementation is plain ESM JavaScript with JSDoc, checked by
// `tsc -p testenv/nixery/tsconfig.json`).

export interface Faults {
  /** Manifest-by-tag answers wait this long (Nixery builds while the client waits). */
  delayMs?: number;
  /** Only images with one of these packages are delayed. */
  delayOnly?: string[];
  /** Packages answered as not found (404 MANIFEST_UNKNOWN), even if the map has them. */
  missing?: string[];
  /** Packages whose build fails (500 UNKNOWN "image build failure"). */
  failing?: string[];
  /** Answer manifests with 200 and an HTML page (a proxy's login page). */
  garbage?: boolean;
}

export type AuthOptions =
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; service?: string; username?: string; password?: string };

export interface NixeryOptions extends Faults {
  /** host:port addresses; port 0 picks a free port on the first and uses it on the rest. Default 127.0.0.1:0. */
  listen?: string[];
  /** Default: ${XDG_CACHE_HOME:-~/.cache}/kubectl-nixrun/nixery/<hash of the map, builder and Debian versions>. */
  cacheDir?: string;
  /** Request and build log lines. Default: silent. */
  log?: (line: string) => void;
  auth?: AuthOptions;
  /** Store-path layers before the rest are merged into one layer (Nixery's LayerBudget, 94). For tests. */
  layerBudget?: number;
}

export interface LayerMeta {
  base: string;
  digest: string;
  diffId: string;
  size: number;
  tarSize: number;
  listing: Array<[string, 'dir' | 'file' | 'symlink']>;
}

export interface StorePathPlan {
  key: string;
  name: string;
  base: string;
  deps: string[];
  debian: string[];
  skipped: string[];
}

export interface Plan {
  id: string;
  paths: Record<string, StorePathPlan>;
  attrs: Record<string, string>;
  errors: Record<string, string>;
  debian: Record<string, string>;
  tools: Record<string, string>;
}

export declare class Store {
  constructor(opts?: { cacheDir?: string; log?: (msg: string) => void });
  readonly cacheDir: string;
  plan(): Promise<Plan>;
  ensure(key: string): Promise<LayerMeta>;
  ensureAll(): Promise<LayerMeta[]>;
  blobPath(digest: string): string;
  provenance(): Promise<Record<string, unknown>>;
}

export interface Nixery {
  /** First listen address, host:port. */
  host: string;
  /** http://host:port */
  url: string;
  port: number;
  hosts: string[];
  /** Registry requests in order (not the control endpoint). */
  requests: Array<{ method: string; uri: string }>;
  /** Replaces the faults. */
  setFaults(f: Faults): void;
  faults(): Required<Faults>;
  store: Store;
  close(): Promise<void>;
}

export declare function startNixery(opts?: NixeryOptions): Promise<Nixery>;
export declare const CONTROL: '/_nixrun-test';
export declare function defaultCacheDir(): string;
export declare function defaultCacheRoot(): string;
export declare function storeHash(input: string): string;
export declare function nixBase32(bytes: Uint8Array): string;
export declare function upstreamVersion(debianVersion: string): string;
export declare function parseImageName(name: string): { name: string; arch: 'amd64' | 'arm64'; packages: string[] };
export declare function lookupAttr(pkg: string, attrs?: Record<string, unknown>): string | undefined;
export declare const MANIFEST_TYPE: string;
export declare const CONFIG_TYPE: string;
export declare const LAYER_BUDGET: number;
export declare const PACKAGES: Record<string, { pname: string; deb: string[] }>;
export declare const INTERNAL: Record<string, { pname: string; deb: string[] }>;
export declare function debianPackages(): string[];
export interface ElfInfo {
  type: 'exec' | 'dyn' | 'other';
  interp: string | undefined;
  needed: string[];
  soname: string | undefined;
  runpath: string | undefined;
}
export declare function readElf(path: string): ElfInfo | undefined;
export declare function parseElf(buf: Buffer): ElfInfo | undefined;
export declare class ImageBuilder {}
