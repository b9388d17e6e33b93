import { planForArch } from '../plan/arch.js';
import type { RunPlan } from '../plan/types.js';
import { buildImageRef, type Arch, type ImageRef } from './ref.js';

/** The plan's image for one architecture, with what the user should hear about it. */
export function imageFor(plan0: RunPlan, arch: Arch): ImageRef & { warnings: string[] } {
  const plan = planForArch(plan0, arch);
  const ref = buildImageRef({ registry: plan.registry, packages: [...plan.packages, ...plan.addedPackages], shell: plan.shell, arch, tag: plan.tag });
  if (arch !== 'arm64' || plan.notOnArm64.length === 0) return { ...ref, warnings: [] };
  const list = plan.notOnArm64.join(', ');
  const warning = `${list} ${plan.notOnArm64.length > 1 ? 'are' : 'is'} not built for aarch64-linux in nixpkgs (per the package table): Nixery will likely fail to build this arm64 image; use --arch amd64 if the cluster has amd64 nodes`;
  return { ...ref, warnings: [warning] };
}
