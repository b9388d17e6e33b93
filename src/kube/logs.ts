import { Log } from '@kubernetes/client-node';
import { PassThrough, type Writable } from 'node:stream';
import { CONTAINER_NAME } from '../pod/manifest.js';
import type { Kube } from './client.js';

/**
 * Follow the container's log from its start until the container ends, writing to `out`. The
 * first `skip` bytes are not written (the attach already showed them before its connection
 * dropped). Ends early, without an error, when `signal` aborts.
 */
export async function followLogs(kube: Kube, name: string, out: Writable, opts: { skip?: number; signal: AbortSignal; container?: string }): Promise<void> {
  const stream = new PassThrough();
  let toSkip = opts.skip ?? 0;
  stream.on('data', (chunk: Buffer) => {
    if (toSkip >= chunk.length) {
      toSkip -= chunk.length;
      return;
    }
    out.write(toSkip > 0 ? chunk.subarray(toSkip) : chunk);
    toSkip = 0;
  });
  // client-node pipes the response into `stream`; its end is the end of the container's output.
  const ended = new Promise<void>((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('error', reject);
  });
  const ctrl = await new Log(kube.kc).log(kube.namespace, name, opts.container ?? CONTAINER_NAME, stream, { follow: true });
  if (!opts.signal.aborted) {
    const aborted = new Promise<void>((resolve) => opts.signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([ended, aborted]).finally(() => ctrl.abort());
  } else ctrl.abort();
}
