import { TIMEOUT_PACKAGE } from '../pod/command.js';
import type { Mode } from './mode.js';

/**
 * What a mode needs in the image besides the user's packages: `timeout` for the bound of an
 * ephemeral container (Nixery's shell meta-package already has coreutils), nsenter for
 * --host-shell.
 */
export function modePackages(mode: Mode, shell: boolean): string[] {
  if (mode.kind === 'target' && !shell) return [TIMEOUT_PACKAGE];
  if (mode.kind === 'node' && mode.hostShell) return ['util-linux'];
  return [];
}
