import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { imageFor } from '../image/for-plan.js';
import { podFor } from '../pod/for-plan.js';
import { resolvePlan, splitCommaList, validateFlags, type RunFlags, type RunPlan, type Terminal } from '../plan/index.js';
import { fileChoiceStore, resolveExecutable, tableAgeDays, type ChoiceStore, type Resolution, type Table } from '../resolve/index.js';
import { currentOwner } from '../session/owner.js';
import type { Io } from '../ui/output.js';
import { Ui } from '../ui/output.js';
import { xdgPath } from '../xdg.js';
import { applySettings, loadConfigFile, resolveSettings } from './config.js';
import { configPath, nixrunEnv, tableFor } from './env.js';
import type { Factory } from './factory.js';

const STALE_TABLE_DAYS = 90;

/** The run command's flags as yargs hands them over: the settings are not applied yet. */
export type RawRunArgs = Omit<RunFlags, 'registry' | 'profile' | 'podRunningTimeout' | 'deadline' | 'configPackages'> &
  Partial<Pick<RunFlags, 'registry' | 'profile' | 'podRunningTimeout' | 'deadline'>>;

/** Complete (settings) → Validate (every flag, before any prompt) → ask → resolve → dry-run or session. */
export async function runCommand(rawArgs: RawRunArgs, io: Io, factory: Factory): Promise<number> {
  const ui = new Ui(io, { quiet: rawArgs.quiet, verbosity: rawArgs.verbose ?? 0 });
  const path = configPath(io.env);
  const settings = resolveSettings(rawArgs, io.env, await loadConfigFile(path), path);
  const flags = applySettings(rawArgs, settings);
  const terminal: Terminal = { stdinIsTTY: Boolean(io.stdin.isTTY), stdoutIsTTY: Boolean(io.stdout.isTTY) };
  let valid = validateFlags(flags, terminal);

  // Prompts draw on stderr, so stdout may be a pipe (e.g. --dry-run -o json > pod.json).
  const interactive = Boolean(io.stdin.isTTY && io.stderr.isTTY);
  const nothingNamed = flags.executable === undefined && (flags['--'] ?? []).length === 0 && (flags.pkgs ?? []).length === 0;
  const usePicker = Boolean(flags.pick) || (nothingNamed && interactive);
  if (usePicker && !interactive) throw new UsageError('the picker needs a terminal (stdin and stderr)', 'name what to run instead, e.g. kubectl nixrun --pkgs curl,jq shell');
  const table = tableFor(io.env);
  const choices = fileChoiceStore(io.env);
  if (usePicker) {
    // Loaded only here: the picker and its prompt library cost nothing to other commands.
    const { pickPackages } = await import('../picker/index.js');
    const picked = await pickPackages(table, io);
    valid = validateFlags({ ...flags, pkgs: [...(flags.pkgs ?? []), ...picked.packages], '--': picked.command ?? flags['--'] }, terminal);
  } else if (interactive) {
    await askAmbiguous(flags, table, io, choices);
  }
  const plan = resolvePlan(valid, { table, choices, interactive });
  warnIfStale(table, ui, io.env);
  for (const w of plan.warnings) ui.warn(w);
  for (const r of plan.resolutions) noteResolution(r, ui);

  if (usePicker) ui.info(`image: ${imageFor(plan, plan.arch === 'auto' ? 'amd64' : plan.arch).ref}`);
  if (plan.dryRun) return await dryRun(plan, io, ui);
  const kube = await factory.kube({ kubeconfig: plan.kubeconfig, context: plan.context, namespace: plan.namespace }, io.env);
  const { runSession } = await import('../session/index.js');
  return runSession(plan, { kube, ui, io, suggest: (name) => table.suggest(name, 3), pingMs: nixrunEnv(io.env).pingIntervalMs });
}

/**
 * On a terminal, when several packages provide a typed executable and none clearly wins, ask
 * once and remember the answer. Without a terminal nothing is asked: resolvePlan takes the ranked
 * default, or refuses a real tie with the candidates.
 */
async function askAmbiguous(flags: RunFlags, table: Table, io: Io, choices: ChoiceStore): Promise<void> {
  const names = [
    ...(flags.executable && flags.executable !== 'shell' ? [flags.executable] : []),
    ...splitCommaList(flags.pkgs).filter((p) => !table.hasAttribute(p)),
  ];
  for (const exe of names) {
    let r: Resolution;
    try {
      r = resolveExecutable(table, exe, { choices });
    } catch {
      continue; // resolvePlan reports unknown names with its usual error.
    }
    if (r.via !== 'executable' || r.clearCut || r.candidates.length < 2) continue;
    const { chooseProvider } = await import('../picker/index.js');
    choices.set(exe, await chooseProvider(r, io));
  }
}

async function dryRun(plan: RunPlan, io: Io, ui: Ui): Promise<number> {
  const arch = plan.arch === 'auto' ? 'amd64' : plan.arch;
  if (plan.arch === 'auto') ui.note('--arch auto: no cluster is asked in --dry-run, assuming amd64 nodes');
  const image = imageFor(plan, arch);
  for (const w of image.warnings) ui.warn(w);
  const pod = podFor(plan, { image: image.ref, arch, owner: currentOwner() });
  io.stdout.write(plan.output === 'json' ? `${JSON.stringify(pod, null, 2)}\n` : (await import('./yaml.js')).stringify(pod, { lineWidth: 0 }));
  return 0;
}

/** When the winner is not clear-cut, say so in one line, so the user can choose with --pkgs. */
function noteResolution(r: Resolution, ui: Ui): void {
  if (r.via !== 'executable' || r.clearCut) return;
  const others = r.candidates.filter((c) => c.attr !== r.attr).slice(0, 3).map((c) => c.attr);
  if (others.length === 0) return;
  ui.note(`${r.input}: using ${r.attr} (also provided by ${others.join(', ')}${r.candidates.length > 4 ? ', …' : ''}; choose with --pkgs)`);
}

/** An old table misses new packages: say so, at most once a day (remembered in XDG state). */
function warnIfStale(table: Table, ui: Ui, env: NodeJS.ProcessEnv): void {
  const age = tableAgeDays(table.info);
  if (age <= STALE_TABLE_DAYS || ui.quiet) return;
  const stamp = xdgPath('state', 'stale-warning', env);
  const today = new Date().toISOString().slice(0, 10);
  try {
    if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === today) return;
    mkdirSync(dirname(stamp), { recursive: true });
    writeFileSync(stamp, `${today}\n`);
  } catch {
    // Without a writable state directory, warn every time rather than never.
  }
  ui.warn(`the package table is ${Math.floor(age)} days old (snapshot ${table.info.snapshot}); update the plugin, or build your own: kubectl nixrun table update`);
}
