#!/usr/bin/env node
// The local Nixery as a process, for the cluster's node (containerd pulls from it over plain HTTP)
// and for tests that share one registry:
//
//   node testenv/nixery/serve.mjs --listen 127.0.0.1:0 [--listen 10.213.0.1:0 ...] [--cache DIR]
//        [--faults '{"delayMs":2000}'] [--auth-basic USER:PASSWORD | --auth-bearer [USER:PASSWORD]]
//
// Port 0 picks a free port on the first address and uses the same port on the others. When it
// listens it prints one JSON line to stdout, {"host":"127.0.0.1:PORT","port":PORT,"hosts":[…],
// "cache":DIR}; requests and builds are logged to stderr. SIGTERM or SIGINT closes it (exit 0).
// Test faults and the request log: PUT/DELETE/GET /_nixrun-test/faults, GET/DELETE
// /_nixrun-test/requests (see README.md).
import { parseArgs } from 'node:util';
import { startNixery } from './server.mjs';

const { values } = parseArgs({
  options: {
    listen: { type: 'string', multiple: true },
    cache: { type: 'string' },
    faults: { type: 'string' },
    'auth-basic': { type: 'string' },
    'auth-bearer': { type: 'string' },
    quiet: { type: 'boolean' },
  },
});
const log = values.quiet ? () => {} : (line) => process.stderr.write(`[nixery] ${new Date().toISOString()} ${line}\n`);
/** @type {import('./server.mjs').AuthOptions | undefined} */
let auth;
if (values['auth-basic']) {
  const [username, ...pw] = values['auth-basic'].split(':');
  auth = { type: 'basic', username, password: pw.join(':') };
} else if (values['auth-bearer'] !== undefined) {
  const [username, ...pw] = values['auth-bearer'].split(':');
  auth = username ? { type: 'bearer', username, password: pw.join(':') } : { type: 'bearer' };
}
const nixery = await startNixery({
  listen: values.listen ?? ['127.0.0.1:0'],
  ...(values.cache ? { cacheDir: values.cache } : {}),
  ...(values.faults ? JSON.parse(values.faults) : {}),
  ...(auth ? { auth } : {}),
  log,
});
process.stdout.write(`${JSON.stringify({ host: nixery.host, port: nixery.port, hosts: nixery.hosts, cache: nixery.store.cacheDir })}\n`);
log(`listening on ${nixery.hosts.join(', ')}, cache ${nixery.store.cacheDir}`);
let closing = false;
const stop = (sig) => {
  if (closing) return;
  closing = true;
  log(`${sig}: closing`);
  nixery.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
