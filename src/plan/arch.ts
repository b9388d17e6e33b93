import type { Arch } from '../image/ref.js';
import { preferBuiltFor } from '../resolve/index.js';
import type { RunPlan } from './types.js';

/**
 * The plan for the architecture the run found (--arch auto on an arm64 cluster): providers that
 * nixpkgs builds for aarch64-linux replace the amd64 picks it does not build. A package named by
 * attribute, or a remembered choice, stays (the run warns instead).
 */
export function planForArch(plan: RunPlan, arch: Arch): RunPlan {
  if (arch !== 'arm64' || plan.notOnArm64.length === 0) return plan;
  const resolutions = plan.resolutions.map((r) => preferBuiltFor(r, 'aarch64-linux'));
  const packages = [...new Set(resolutions.map((r) => r.attr))];
  if (packages.length === plan.packages.length && packages.every((p, i) => p === plan.packages[i])) return plan;
  const replaced = plan.packages.filter((p) => !packages.includes(p));
  return {
    ...plan,
    resolutions,
    packages,
    addedPackages: plan.addedPackages.filter((p) => !packages.includes(p)),
    notOnArm64: plan.notOnArm64.filter((p) => !replaced.includes(p)),
  };
}
