import { UsageError } from './errors.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Durations in seconds: "90" (seconds), "90s", "5m", "4h", "1h30m", "1.5h", "2d". */
export function parseDuration(s: string, flag = 'duration'): number {
  const text = String(s).trim();
  if (/^\d+$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)([smhd])/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (text.length === 0 || consumed !== text.length) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(s)}: expected a duration such as 90s, 5m, 4h or 1h30m`);
  }
  return Math.round(total);
}

/** 42s, 5m, 1m30s */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}
