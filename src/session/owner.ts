import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Owner } from '../pod/index.js';

/** Who created a pod: written into its annotations so `gc` can tell whether the owner is gone. */
export function currentOwner(now = new Date()): Owner {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry for this UID (containers): keep "unknown".
  }
  return { host: hostname(), pid: process.pid, user, startedAt: now.toISOString(), session: randomBytes(4).toString('hex') };
}
