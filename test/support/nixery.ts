import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startNixery, type Faults } from '../../testenv/nixery/index.mjs';

export { startNixery, type Faults, type Nixery, type NixeryOptions } from '../../testenv/nixery/index.mjs';

const CONTROL = '/_nixrun-test';

/**
 * The cluster-wide local Nixery (a `testenv/nixery/serve.mjs` process the test cluster starts),
 * driven through its test-only control endpoint. Tests run one after another against it, so a
 * test that sets faults resets them when it is done (`withFaults` does both).
 */
export class NixeryControl {
  constructor(readonly host: string) {}

  get url(): string {
    return `http://${this.host}`;
  }

  /** Replace the faults (not merged with the current ones). */
  async setFaults(faults: Faults): Promise<Required<Faults>> {
    return this.call('PUT', '/faults', faults) as Promise<Required<Faults>>;
  }

  /** No faults. */
  async resetFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  async faults(): Promise<Required<Faults>> {
    return this.call('GET', '/faults') as Promise<Required<Faults>>;
  }

  /** Registry requests since the start or the last clearRequests(), oldest first. */
  async requests(): Promise<Array<{ method: string; uri: string }>> {
    return this.call('GET', '/requests') as Promise<Array<{ method: string; uri: string }>>;
  }

  async clearRequests(): Promise<void> {
    await this.call('DELETE', '/requests');
  }

  /** Debian packages and versions, tools and store paths of the registry's cache. */
  async provenance(): Promise<Record<string, unknown>> {
    return this.call('GET', '/provenance') as Promise<Record<string, unknown>>;
  }

  /** Run `fn` with these faults, then reset them (also when `fn` throws). */
  async withFaults<T>(faults: Faults, fn: () => Promise<T>): Promise<T> {
    await this.setFaults(faults);
    try {
      return await fn();
    } finally {
      await this.resetFaults();
    }
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}${CONTROL}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${CONTROL}${path} on ${this.host}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as unknown;
  }
}

/** The registry named by NIXRUN_REGISTRY (what `node scripts/testenv.mjs env` exports). */
export function clusterNixery(host = process.env.NIXRUN_REGISTRY): NixeryControl {
  if (!host) throw new Error('NIXRUN_REGISTRY is not set: the test cluster exports the local Nixery as host:port');
  return new NixeryControl(host);
}

/**
 * Build these images into the cache (default cache unless `cacheDir`), so later requests answer
 * at once: a cold store path takes seconds (patchelf, gzip), a cached one milliseconds.
 */
export async function prebuild(names: string[], cacheDir?: string): Promise<void> {
  const r = await startNixery(cacheDir ? { cacheDir } : {});
  try {
    for (const n of names) {
      const res = await fetch(`${r.url}/v2/${n}/manifests/latest`);
      if (res.status !== 200) throw new Error(`prebuild ${n}: HTTP ${res.status} ${await res.text()}`);
    }
  } finally {
    await r.close();
  }
}

export interface NixeryProcess {
  host: string;
  port: number;
  hosts: string[];
  cache: string;
  child: ChildProcess;
  /** Everything it logged to stderr so far. */
  stderr(): string;
  /** SIGTERM; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** Start `testenv/nixery/serve.mjs` as a process and wait for its ready line. */
export async function spawnNixery(args: string[] = ['--listen', '127.0.0.1:0']): Promise<NixeryProcess> {
  const serve = join(import.meta.dirname, '..', '..', 'testenv', 'nixery', 'serve.mjs');
  const child = spawn(process.execPath, [serve, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit');
  const first = await Promise.race([
    once(lines, 'line').then(([l]) => l as string),
    exited.then(([code]) => {
      throw new Error(`serve.mjs exited with ${String(code)} before it listened: ${err}`);
    }),
  ]);
  const ready = JSON.parse(first) as { host: string; port: number; hosts: string[]; cache: string };
  return {
    ...ready,
    child,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
