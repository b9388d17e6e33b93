import { main } from './main.js';

export { main };

/** Process entry: run, then exit with the code main() decided (after stdout has drained). */
export async function run(): Promise<void> {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // Some handles (a dangling keep-alive socket, a watch) must not keep the process alive.
  if (process.stdout.writableNeedDrain) await new Promise((r) => process.stdout.once('drain', r));
  process.exit(code);
}
