import { declareImage } from '../image/declare.js';
import { pinImage } from '../image/pin.js';
import { validateRegistry, type Arch } from '../image/ref.js';
import type { Io } from '../ui/output.js';
import { Ui } from '../ui/output.js';
import { loadConfigFile, resolveSettings } from './config.js';
import { configPath, tableFor } from './env.js';

export interface ImageArgs {
  executables?: unknown[];
  pkgs?: string[];
  shell: boolean;
  arch: Arch;
  registry?: string;
  tag?: string;
  preflight: boolean;
  output?: 'json';
  quiet: boolean;
}

/**
 * `kubectl nixrun image`: the Nixery reference for a declarative image, pinned by digest after
 * the registry has built it (so the same image comes back every time). stdout is the reference
 * (or the JSON) alone, for `$(kubectl nixrun image …)`.
 */
export async function imageCommand(args: ImageArgs, io: Io): Promise<number> {
  const ui = new Ui(io, { quiet: args.quiet });
  const path = configPath(io.env);
  const registry = validateRegistry(resolveSettings({ registry: args.registry }, io.env, await loadConfigFile(path), path).registry.value);
  const table = tableFor(io.env);
  const declared = declareImage({ executables: (args.executables ?? []).map(String), pkgs: args.pkgs ?? [], shell: args.shell, arch: args.arch, registry, tag: args.tag }, table);
  for (const n of declared.notes) ui.note(n);
  for (const r of declared.resolutions) if (r.via !== 'attribute' && r.attr !== r.input) ui.note(`${r.input} → ${r.attr}`);
  const { image } = declared;
  const pinned = args.preflight ? await pinImage(image, { suggest: (name) => table.suggest(name, 3), isKnown: (name) => table.hasAttribute(name) }) : undefined;
  if (args.output === 'json') {
    const out = {
      registry: image.registry,
      packages: image.packages,
      metas: image.metas,
      architecture: declared.arch,
      reference: image.ref,
      digest: pinned?.digest ?? null,
      pinned: pinned?.ref ?? null,
      resolutions: declared.resolutions.map((r) => ({ input: r.input, attr: r.attr, via: r.via })),
    };
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    io.stdout.write(`${pinned?.ref ?? image.ref}\n`);
  }
  return 0;
}
