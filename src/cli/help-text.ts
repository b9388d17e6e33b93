/**
 * The --help pages, rendered by yargs at build time (scripts/help-pages.mjs replaces this module
 * in the bundle), keyed by `${width}|${command words}`. Unbundled (tsc, vitest) there are none,
 * and yargs renders help as it always does.
 */
export const HELP_PAGES: Readonly<Record<string, string>> | undefined = undefined;
