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
  return { host: hostname(), pid: process.pid, user, startedAt: now.toISOString(), session: sessionId() };
}

/** 8 hex digits that tell one run's pods from another's (not a secret: see randomSuffix). */
function sessionId(): string {
  return Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0');
}
