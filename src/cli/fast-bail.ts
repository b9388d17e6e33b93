/**
 * Thrown inside the fast bundle (dist/fast.js, scripts/build.mjs) when a command needs a part it
 * leaves out (the Kubernetes client, the picker, yargs): fast-entry.ts then hands the whole
 * command to the full build. It is thrown before the command writes anything or changes any
 * file, so the full build starts from scratch.
 */
export class FastPathUnavailable extends Error {
  constructor(what: string) {
    super(`not in the fast bundle: ${what}`);
    this.name = 'FastPathUnavailable';
  }
}
