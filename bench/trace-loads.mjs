// `node --import ./bench/trace-loads.mjs …`: prints each module of the plugin's bundle that gets
// loaded (to stderr, at exit), to show which chunks a command pulls in.
import { registerHooks } from 'node:module';

const loaded = new Set();
registerHooks({
  load(url, context, nextLoad) {
    if (url.includes('/dist/')) loaded.add(url.slice(url.indexOf('/dist/') + 1));
    return nextLoad(url, context);
  },
});
process.on('exit', () => process.stderr.write(`[loaded] ${[...loaded].join(' ')}\n`));
