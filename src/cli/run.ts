import { stringify } from 'yaml';
import { fileChoiceStore, loadTable, tableAgeDays, type Resolution, type Table } from '../resolve/index.js';
import type { Io } from '../ui/output.js';
import { Ui } from '../ui/output.js';
import type { RawRunArgs } from './args.js';
import { currentOwner } from './owner.js';
import { imageFor, planRun, podFor, type RunPlan } from './plan.js';

const STALE_TABLE_DAYS = 90;

export async function runCommand(raw: RawRunArgs, io: Io): Promise<number> {
  const ui = new Ui(io, { quiet: raw.quiet });
  const table = loadTable();
  warnIfStale(table, ui);
  const plan = planRun(raw, {
    table,
    stdinIsTTY: Boolean(io.stdin.isTTY),
    stdoutIsTTY: Boolean(io.stdout.isTTY),
    env: io.env,
    choices: fileChoiceStore(),
  });
  for (const w of plan.warnings) ui.warn(w);
  for (const r of plan.resolutions) noteResolution(r, ui);

  if (plan.dryRun) return dryRun(plan, io, ui);
  const { runSession } = await import('../session/index.js');
  return runSession(plan, ui, io);
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

function warnIfStale(table: Table, ui: Ui): void {
  const age = tableAgeDays(table.info);
  if (age > STALE_TABLE_DAYS) {
    ui.warnOnce(
      'stale-table',
      `the package table is ${Math.floor(age)} days old (snapshot ${table.info.snapshot}); update the plugin or run: kubectl nixrun table update`,
    );
  }
}
