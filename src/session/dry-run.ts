import { imageFor } from '../image/index.js';
import type { Kube } from '../kube/client.js';
import { detectArch } from '../kube/nodes.js';
import type { RunPlan } from '../plan/types.js';
import type { Ui } from '../ui/output.js';
import { ephemeralDryRun } from './ephemeral.js';
import { currentOwner } from './owner.js';
import { podRecipe } from './recipes.js';

/** --dry-run of --target and --copy: the patch or the copy that would be sent, from the real pod. */
export async function modeDryRun(plan: RunPlan, kube: Kube, ui: Ui): Promise<object> {
  if (plan.mode.kind === 'target') return ephemeralDryRun(plan, kube, ui);
  const recipe = await podRecipe(plan, kube, ui);
  const arch = plan.arch === 'auto' ? (await detectArch(kube, recipe.archNode)).arch : plan.arch;
  const image = imageFor(plan, arch);
  ui.note(`--dry-run: POST /api/v1/namespaces/${kube.namespace}/pods would send this; the run pre-flights the image and pins its digest`);
  return recipe.build({ image: image.ref, arch, owner: currentOwner(), name: recipe.name });
}
