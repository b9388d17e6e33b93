// Replaced at bundle time by scripts/build.mjs; the fallback keeps `tsc` and vitest working.
declare const __NIXRUN_VERSION__: string | undefined;
export const VERSION: string = typeof __NIXRUN_VERSION__ === 'string' ? __NIXRUN_VERSION__ : '0.0.0-dev';
