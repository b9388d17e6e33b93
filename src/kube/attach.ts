import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { PassThrough, type Writable } from 'node:stream';
import type { Kube } from './client.js';
import { CONTAINER_NAME } from '../pod/manifest.js';
import { proxyFailure } from '../proxy.js';
import { retry } from '../retry.js';
import { explainApiError } from './errors.js';

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const RESIZE = 4;
const CLOSE = 255;
/** Pause reading local stdin while this much is still queued on the socket. */
const HIGH_WATER = 1 << 20;
/**
 * WebSocket pings while attached, as kubectl's WebSocket executor does: they keep load balancers
 * and runtimes with idle-stream timeouts from dropping a quiet session (kubernetes#128314), and
 * a connection that stops answering is closed so the session can resume from the logs.
 */
const DEFAULT_PING_MS = 20_000;

export interface AttachOptions {
  pod: string;
  /** Default: ours in a fresh pod. */
  container?: string;
  tty: boolean;
  stdin?: NodeJS.ReadableStream;
  stdout: Writable;
  stderr: Writable;
  /** Initial window size, sent before anything else so the program starts with the right size. */
  size?: { width: number; height: number };
  /** Bytes sent on stdin before the user's input: releases the gate that holds the command. */
  preamble?: Buffer;
  /** Heartbeat interval; no pong for two intervals closes the connection (1006). */
  pingMs?: number;
}

export interface AttachEnd {
  /** The metav1.Status the kubelet sends on the status channel when the stream ends normally. */
  status?: { status?: string; message?: string; reason?: string };
  /** The WebSocket close code (1000 normal, 1006 dropped). */
  code: number;
}

export interface Attached {
  /** Bytes of output received so far (stdout and stderr), to resume from the logs after a drop. */
  received(): number;
  /** Heartbeat pongs received so far. */
  pongs(): number;
  /** Resolves when the stream ends: the container exited, or the connection dropped. */
  ended: Promise<AttachEnd>;
  /** Whether the server speaks v5.channel.k8s.io, which can deliver EOF on stdin. */
  canCloseStdin: boolean;
  resize(width: number, height: number): void;
  close(): void;
  /** Called when local stdin ended but the server cannot be told (servers older than 1.30). */
  onStdinEofUnsupported?: () => void;
}

/**
 * Attach to the container through the API server (pods/attach over WebSocket, client-node's
 * handler for auth and TLS). Frames are handled here rather than by client-node's Attach so that
 * stdout/stderr are never ended behind our back, the status frame is kept, a preamble can go
 * first, and stdin EOF is sent as a v5 CLOSE frame.
 */
export async function attach(kube: Kube, opts: AttachOptions): Promise<Attached> {
  const query = new URLSearchParams({
    container: opts.container ?? CONTAINER_NAME,
    stdin: String(opts.stdin !== undefined),
    stdout: 'true',
    stderr: String(!opts.tty),
    tty: String(opts.tty),
  });
  const path = `/api/v1/namespaces/${encodeURIComponent(kube.namespace)}/pods/${encodeURIComponent(opts.pod)}/attach?${query}`;
  let status: AttachEnd['status'];
  let received = 0;
  // client-node acts on CLOSE frames against these streams; give it throwaway ones so it can
  // never end the real process.stdout.
  const sink = () => new PassThrough().resume();
  const handler = new WebSocketHandler(kube.kc, undefined, { stdin: new PassThrough(), stdout: sink(), stderr: sink() });
  const connecting = handler.connect(path, null, (channel, buf) => {
    if (channel === STDOUT) {
      received += buf.length;
      if (buf.length > 0) opts.stdout.write(buf);
    } else if (channel === STDERR) {
      received += buf.length;
      if (buf.length > 0) opts.stderr.write(buf);
    } else if (channel === STATUS) {
      try {
        status = JSON.parse(buf.toString('utf8')) as AttachEnd['status'];
      } catch {
        status = { message: buf.toString('utf8') };
      }
    }
    return true;
  });
  const ws = await connecting.catch((err: unknown) => {
    // A proxy that lets REST through but not the WebSocket's tunnel is a common corporate sight.
    const viaProxy = kube.proxy ? proxyFailure(err, kube.proxy) : undefined;
    throw viaProxy ? explainApiError(err, { action: `attach to pod ${opts.pod}`, namespace: kube.namespace, server: kube.server, proxy: kube.proxy }) : err;
  });

  const canCloseStdin = WebSocketHandler.supportsClose(ws.protocol);
  const send = (channel: number, data: Buffer | string) => {
    if (ws.readyState !== ws.OPEN) return;
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    ws.send(Buffer.concat([Buffer.from([channel]), payload]));
  };

  // Heartbeat: ping, and give up on a connection that has not been heard from (a pong or any
  // frame: pongs can queue behind a burst of output) for two intervals.
  let pongs = 0;
  let lastHeard = Date.now();
  const pingMs = opts.pingMs ?? DEFAULT_PING_MS;
  ws.on('pong', () => {
    pongs++;
    lastHeard = Date.now();
  });
  ws.on('message', () => {
    lastHeard = Date.now();
  });
  const heartbeat = setInterval(() => {
    if (ws.readyState !== ws.OPEN) return;
    if (Date.now() - lastHeard > 2 * pingMs + 1000) ws.terminate();
    else ws.ping();
  }, pingMs);
  heartbeat.unref();

  const attached: Attached = {
    ended: new Promise<AttachEnd>((resolve) => {
      ws.on('close', (code: number) => {
        clearInterval(heartbeat);
        resolve(status === undefined ? { code } : { code, status });
      });
      ws.on('error', () => {
        // 'close' follows every 'error' in ws; the end is reported there.
      });
    }),
    canCloseStdin,
    received: () => received,
    pongs: () => pongs,
    resize(width, height) {
      if (opts.tty && width > 0 && height > 0) send(RESIZE, JSON.stringify({ Width: width, Height: height }));
    },
    close() {
      ws.close();
    },
  };

  if (opts.tty && opts.size) attached.resize(opts.size.width, opts.size.height);
  if (opts.stdin) {
    if (opts.preamble) send(STDIN, opts.preamble);
    const input = opts.stdin;
    const onData = (chunk: Buffer | string) => {
      send(STDIN, chunk);
      if (ws.bufferedAmount > HIGH_WATER) {
        input.pause();
        const drained = async () => (ws.readyState !== ws.OPEN || ws.bufferedAmount < HIGH_WATER / 2 ? true : undefined);
        void retry(drained, { firstDelayMs: 10, maxDelayMs: 10, forMs: Infinity }).then(() => input.resume());
      }
    };
    const onEnd = () => {
      if (canCloseStdin) send(CLOSE, Buffer.from([STDIN]));
      else attached.onStdinEofUnsupported?.();
    };
    input.on('data', onData);
    input.once('end', onEnd);
    void attached.ended.then(() => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.pause();
    });
    input.resume();
  }
  return attached;
}
