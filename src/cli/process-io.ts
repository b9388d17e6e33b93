import type { Io } from '../ui/output.js';

/**
 * The process's streams behind getters: touching process.stdin, stdout or stderr creates its
 * stream (1–3 ms each), which `which` or a dry run into a file may never need. `created()` lists
 * the output streams that exist, the ones there is something to flush in.
 */
export function lazyProcessIo(): { io: Io; created: () => NodeJS.WriteStream[] } {
  let stdout: NodeJS.WriteStream | undefined;
  let stderr: NodeJS.WriteStream | undefined;
  const io: Io = {
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return (stdout ??= process.stdout);
    },
    get stderr() {
      return (stderr ??= process.stderr);
    },
    env: process.env,
  };
  return { io, created: () => [stdout, stderr].filter((s) => s !== undefined) };
}
