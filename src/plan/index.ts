export { checkExecutableName, splitCommaList } from './names.js';
export { resolvePlan, type ResolveInput } from './resolve.js';
export type { PullPolicy, RunFlags, RunPlan, Terminal, ValidFlags } from './types.js';
export { validateFlags } from './validate.js';
