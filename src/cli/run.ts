import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { imageFor } from '../image/for-plan.js';
import { podFor } from '../pod/for-plan.js';
import { nodePodFor } from '../pod/for-mode.js';
import { podName } from '../pod/manifest.js';
import { resolvePlan, splitCommaList, validateFlags, type RunFlags, type RunPlan, type Terminal } from '../plan/index.js';
import { fileChoiceStore, resolveExecutable, tableAgeDays, type ChoiceStore, type Resolution, type Table } from '../resolve/index.js';
import type { Kube } from '../kube/client.js';
import { standaloneManifest } from '../script/manifest.js';
import { scriptFlags, scriptPlan } from '../script/plan.js';
import { currentOwner } from '../session/owner.js';
import type { Io } from '../ui/output.js';
import { Ui } from '../ui/output.js';
import { xdgPath } from '../xdg.js';
import { applySettings, loadConfigFile, resolveSettings } from './config.js';
import { configPath, nixrunEnv, tableFor } from './env.js';
import { FastPathUnavailable } from './fast-bail.js';
import type { Factory } from './factory.js';
import { loadScriptConfigMap, loadScriptFile, scriptRequest } from './script.js';

const STALE_TABLE_DAYS = 90;

/** --pin is for a manifest: a run pins by digest anyway (unless --no-preflight). */
function checkPin(args: { pin?: boolean; dryRun: boolean; preflight: boolean }): void {
  if (!args.pin) return;
  if (!args.dryRun) throw new UsageError('--pin needs --dry-run', 'a run always pins its image by digest (unless --no-preflight)');
  if (!args.preflight) throw new UsageError('--pin asks the registry: it conflicts with --no-preflight');
}

/** The run command's flags as yargs hands them over: the settings are not applied yet. */
export type RawRunArgs = Omit<RunFlags, 'registry' | 'profile' | 'podRunningTimeout' | 'deadline' | 'configPackages'> &
  Partial<Pick<RunFlags, 'registry' | 'profile' | 'podRunningTimeout' | 'deadline'>> & { script?: string; configmap?: string; pin?: boolean };

/** Complete (settings) → Validate (every flag, before any prompt) → ask → resolve → dry-run or session. */
export async function runCommand(rawArgs: RawRunArgs, io: Io, factory: Factory, opts: { offlineOnly?: boolean } = {}): Promise<number> {
  const ui = new Ui(io, { quiet: rawArgs.quiet, verbosity: rawArgs.verbose ?? 0 });
  const path = configPath(io.env);
  const settings = resolveSettings(rawArgs, io.env, await loadConfigFile(path), path);
  const flags0 = { ...applySettings(rawArgs, settings), profileExplicit: settings.profile.source !== 'default' };
  // Getters, and stdin asked last: touching process.stdin creates its stream (2–5 ms), which a
  // dry run into a file or a pipe never needs.
  const terminal: Terminal = {
    get stdinIsTTY() {
      return Boolean(io.stdin.isTTY);
    },
    get stdoutIsTTY() {
      return Boolean(io.stdout.isTTY);
    },
  };
  checkPin(rawArgs);
  // A script run (issue 18) is a run of its interpreter: a local file is read and parsed here; a
  // ConfigMap's only once every flag has been checked (against a stand-in command), since that takes an API call.
  const request = scriptRequest(rawArgs);
  let script = request?.kind === 'file' ? loadScriptFile(request.path) : undefined;
  let flags = script ? scriptFlags(flags0, script) : flags0;
  let valid = validateFlags(request?.kind === 'configMap' ? { ...flags, executable: undefined, '--': ['bash', ...(flags['--'] ?? [])] } : flags, terminal);
  let kube: Kube | undefined;
  if (request?.kind === 'configMap') {
    kube = await factory.kube({ kubeconfig: valid.kubeconfig, context: valid.context, namespace: valid.namespace, access: valid.access, stdinIsTTY: Boolean(io.stdin.isTTY) }, io.env);
    script = await loadScriptConfigMap(kube, request);
    flags = scriptFlags(flags0, script);
    valid = validateFlags(flags, terminal);
  }

  // Prompts draw on stderr, so stdout may be a pipe (e.g. --dry-run -o json > pod.json).
  const interactive = Boolean(io.stderr.isTTY && io.stdin.isTTY);
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
  let plan = resolvePlan(valid, { table, choices, interactive });
  // The fast bundle stops here, before any output, unless the rest is an offline dry run.
  if (opts.offlineOnly && !(plan.dryRun && !rawArgs.pin && (plan.mode.kind === 'pod' || plan.mode.kind === 'node'))) throw new FastPathUnavailable(`--dry-run of ${plan.mode.kind} mode`);
  if (script) {
    plan = scriptPlan(plan, script);
    for (const n of script.spec.notes) ui.note(`${script.label}: ${n}`);
    // The whole pod once now, so that an oversized annotation fails before any request.
    podFor(plan, { image: 'nixrun.invalid/check', arch: 'amd64', owner: currentOwner() });
  }
  warnIfStale(table, ui, io.env);
  for (const w of plan.warnings) ui.warn(w);
  for (const r of plan.resolutions) noteResolution(r, ui);

  if (usePicker) ui.info(`image: ${imageFor(plan, plan.arch === 'auto' ? 'amd64' : plan.arch).ref}`);
  const dryRunOpts = { pin: Boolean(rawArgs.pin), suggest: (name: string) => table.suggest(name, 3), isKnown: (name: string) => table.hasAttribute(name) };
  if (plan.dryRun && (plan.mode.kind === 'pod' || plan.mode.kind === 'node')) return dryRun(plan, io, ui, dryRunOpts);
  kube ??= await factory.kube({ kubeconfig: plan.kubeconfig, context: plan.context, namespace: plan.namespace, access: plan.access, stdinIsTTY: Boolean(io.stdin.isTTY) }, io.env);
  if (plan.dryRun) {
    // --target and --copy work from a pod that exists: read it (GETs only), send nothing.
    const { modeDryRun } = await import('../session/dry-run.js');
    return printManifest(await modeDryRun(plan, kube, ui), plan, io);
  }
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

async function dryRun(plan: RunPlan, io: Io, ui: Ui, opts: { pin: boolean; suggest: (name: string) => string[]; isKnown: (name: string) => boolean }): Promise<number> {
  const arch = plan.arch === 'auto' ? 'amd64' : plan.arch;
  if (plan.arch === 'auto') ui.note('--arch auto: no cluster is asked in --dry-run, assuming amd64 nodes');
  const image = imageFor(plan, arch);
  for (const w of image.warnings) ui.warn(w);
  // --pin: the one request a dry run makes, to the registry (never the cluster). Loaded only
  // then: the registry client brings node:crypto and node:child_process (~14 ms of start-up).
  const ref = opts.pin ? (await (await import('../image/pin.js')).pinImage(image, opts)).ref : image.ref;
  const owner = currentOwner();
  let pod = plan.mode.kind === 'node' ? nodePodFor(plan, plan.mode.node, { image: ref, arch, owner, name: podName(`node-${plan.mode.node}`) }) : podFor(plan, { image: ref, arch, owner });
  if (plan.script) pod = standaloneManifest(pod, plan.exe);
  return printManifest(pod, plan, io);
}

async function printManifest(obj: object, plan: RunPlan, io: Io): Promise<number> {
  // The YAML writer is loaded only for YAML output.
  io.stdout.write(plan.output === 'json' ? `${JSON.stringify(obj, null, 2)}\n` : (await import('./yaml-out.js')).toYaml(obj));
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
