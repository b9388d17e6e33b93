import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { fileChoiceStore, loadTable, resolveExecutable, tableAgeDays, type ChoiceStore, type Resolution, type Table } from '../resolve/index.js';
import type { Io } from '../ui/output.js';
import { Ui } from '../ui/output.js';
import type { RawRunArgs } from './args.js';
import { configPath, loadConfigFile, resolveSettings, type Settings } from './config.js';
import { currentOwner } from './owner.js';
import { imageFor, planRun, podFor, splitCommaList, type RunPlan } from './plan.js';
import { xdgPath } from '../xdg.js';

const STALE_TABLE_DAYS = 90;

export async function runCommand(rawArgs: RawRunArgs, io: Io): Promise<number> {
  const ui = new Ui(io, { quiet: rawArgs.quiet, verbosity: rawArgs.verbose ?? 0 });
  const path = configPath(io.env);
  const settings = resolveSettings(rawArgs, io.env, await loadConfigFile(path), path);
  let raw = applySettings(rawArgs, settings);
  const table = loadTable();
  // Prompts draw on stderr, so stdout may be a pipe (e.g. --dry-run -o json > pod.json).
  const interactive = Boolean(io.stdin.isTTY && io.stderr.isTTY);
  const choices = fileChoiceStore(io.env);
  const nothingNamed = raw.executable === undefined && (raw['--'] ?? []).length === 0 && (raw.pkgs ?? []).length === 0;
  const usePicker = Boolean(raw.pick) || (nothingNamed && interactive);
  if (usePicker) {
    // Loaded only here: the picker and its prompt library cost nothing to other commands.
    const { pickPackages } = await import('../picker/index.js');
    const picked = await pickPackages(table, io);
    raw = { ...raw, pkgs: [...(raw.pkgs ?? []), ...picked.packages], ...(picked.command ? { '--': picked.command } : {}) };
  } else if (interactive) {
    await askAmbiguous(raw, table, io, choices);
  }
  const plan = planRun(raw, {
    table,
    stdinIsTTY: Boolean(io.stdin.isTTY),
    stdoutIsTTY: Boolean(io.stdout.isTTY),
    env: io.env,
    choices,
    extraPackages: settings.extraPackages.value,
    interactive,
  });
  warnIfStale(table, ui, io.env);
  for (const w of plan.warnings) ui.warn(w);
  for (const r of plan.resolutions) noteResolution(r, ui);

  if (usePicker) ui.info(`image: ${imageFor(plan, plan.arch === 'auto' ? 'amd64' : plan.arch).ref}`);
  if (plan.dryRun) return dryRun(plan, io, ui);
  const { runSession } = await import('../session/index.js');
  return runSession(plan, ui, io, { suggest: (name) => table.suggest(name, 3) });
}

/**
 * Flags win over NIXRUN_* variables, which win over the config file. A config alias used as the
 * executable ("db: postgresql,pgcli") becomes those packages and a shell (or the command).
 */
function applySettings(raw: RawRunArgs, s: Settings): RawRunArgs {
  const out: RawRunArgs = {
    ...raw,
    registry: s.registry.value,
    profile: s.profile.value,
    podRunningTimeout: s.podRunningTimeout.value,
    deadline: s.deadline.value,
  };
  const fileLabels = Object.entries(s.labels.value).map(([k, v]) => `${k}=${v}`);
  if (fileLabels.length > 0) out.labels = [...fileLabels, ...(raw.labels ?? [])];
  // An alias works in --pkgs too (`--pkgs db,jq shell`).
  const aliases = s.aliases.value;
  if (raw.pkgs && Object.keys(aliases).length > 0) out.pkgs = splitCommaList(raw.pkgs).flatMap((p) => aliases[p] ?? [p]);
  const alias = raw.executable === undefined ? undefined : aliases[raw.executable];
  if (alias) {
    out.pkgs = [...(out.pkgs ?? []), ...alias];
    delete out.executable;
  }
  return out;
}

/**
 * On a terminal, when several packages provide a typed executable and none clearly wins, ask
 * once and remember the answer. Without a terminal nothing is asked: planRun takes the ranked
 * default, or refuses a real tie with the candidates.
 */
async function askAmbiguous(raw: RawRunArgs, table: Table, io: Io, choices: ChoiceStore): Promise<void> {
  const names = [
    ...(raw.executable && raw.executable !== 'shell' ? [raw.executable] : []),
    ...splitCommaList(raw.pkgs).filter((p) => !table.hasAttribute(p)),
  ];
  for (const exe of names) {
    let r: Resolution;
    try {
      r = resolveExecutable(table, exe, { choices });
    } catch {
      continue; // planRun reports unknown names with its usual error.
    }
    if (r.via !== 'executable' || r.clearCut || r.candidates.length < 2) continue;
    const { chooseProvider } = await import('../picker/index.js');
    choices.set(exe, await chooseProvider(r, io));
  }
}

function dryRun(plan: RunPlan, io: Io, ui: Ui): number {
  const arch = plan.arch === 'auto' ? 'amd64' : plan.arch;
  if (plan.arch === 'auto') ui.note('--arch auto: no cluster is asked in --dry-run, assuming amd64 nodes');
  const image = imageFor(plan, arch);
  for (const w of image.warnings) ui.warn(w);
  const pod = podFor(plan, { image: image.ref, arch, owner: currentOwner(), archSelector: true });
  io.stdout.write(plan.output === 'json' ? `${JSON.stringify(pod, null, 2)}\n` : stringify(pod, { lineWidth: 0 }));
  return 0;
}

/** When the winner is not clear-cut, say so in one line, so the user can choose with --pkgs. */
export function noteResolution(r: Resolution, ui: Ui): void {
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
