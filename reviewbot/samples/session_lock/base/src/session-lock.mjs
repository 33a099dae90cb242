// Exclusive write lock for a session transcript (`<name>.jsonl`).
//
// The lock is a sibling file `<name>.jsonl.lock`, created atomically with
// O_CREAT|O_EXCL (`fs.open(path, 'wx')`). It records who holds it (pid, host,
// time, a random token) so a lock left behind by a dead process can be
// reclaimed, and so a release never removes a lock someone else has since taken.
// Every writer of the transcript goes through this lock, across processes.

import { randomUUID } from 'node:crypto';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_STALE_MS = 30 * 60_000;
const RETRY_MS = 25;

export class SessionWriteLockTimeoutError extends Error {
  constructor(lockPath, timeoutMs, holder) {
    const who = holder ? ` (held by pid ${holder.pid} on ${holder.host} since ${holder.acquiredAt})` : '';
    super(`timed out after ${timeoutMs} ms waiting for session write lock ${lockPath}${who}`);
    this.name = 'SessionWriteLockTimeoutError';
    this.code = 'SESSION_WRITE_LOCK_TIMEOUT';
    this.lockPath = lockPath;
    this.timeoutMs = timeoutMs;
    this.holder = holder ?? null;
  }
}

export function sessionLockPath(sessionFile) {
  return `${sessionFile}.lock`;
}

/** The lock file's record, or null when it is gone or not written yet. */
export async function readLockHolder(lockPath) {
  try {
    return JSON.parse(await readFile(lockPath, 'utf8'));
  } catch {
    return null;
  }
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function isStale(holder, mtimeMs, staleMs) {
  if (holder && holder.host === hostname() && Number.isInteger(holder.pid) && !processAlive(holder.pid)) {
    return true; // its owner on this host is gone
  }
  const since = holder?.acquiredAt ? Date.parse(holder.acquiredAt) : mtimeMs;
  return Date.now() - since > staleMs;
}

function lockHandle(sessionFile, lockPath, token) {
  let released = false;
  const handle = {
    sessionFile,
    lockPath,
    token,
    get released() {
      return released;
    },
    /** Remove the lock file if it is still ours. Idempotent. */
    async release() {
      if (released) return false;
      released = true;
      const holder = await readLockHolder(lockPath);
      if (holder?.token !== token) return false; // reclaimed as stale and taken by someone else
      await rm(lockPath, { force: true });
      return true;
    },
  };
  return handle;
}

/**
 * Take the session's write lock, retrying until `timeoutMs`, then throw
 * SessionWriteLockTimeoutError. A lock older than `staleMs`, or whose owner
 * process on this host is gone, is removed and retaken.
 */
export async function acquireSessionWriteLock(sessionFile, options = {}) {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, staleMs = DEFAULT_STALE_MS, retryMs = RETRY_MS } = options;
  const lockPath = sessionLockPath(sessionFile);
  const deadline = Date.now() + timeoutMs;
  const token = randomUUID();
  for (;;) {
    let fh;
    try {
      fh = await open(lockPath, 'wx');
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    if (fh) {
      try {
        const record = { pid: process.pid, host: hostname(), acquiredAt: new Date().toISOString(), token };
        await fh.writeFile(`${JSON.stringify(record)}\n`);
      } catch (err) {
        await fh.close();
        await rm(lockPath, { force: true });
        throw err;
      }
      await fh.close();
      return lockHandle(sessionFile, lockPath, token);
    }
    const holder = await readLockHolder(lockPath);
    const mtimeMs = await stat(lockPath).then((s) => s.mtimeMs, () => null);
    if (mtimeMs === null) continue; // released meanwhile: try again at once
    if (isStale(holder, mtimeMs, staleMs)) {
      await rm(lockPath, { force: true });
      continue;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new SessionWriteLockTimeoutError(lockPath, timeoutMs, holder);
    await sleep(Math.min(retryMs, left));
  }
}

/** Run `fn(lock)` while holding the session's write lock; release when it settles. */
export async function withSessionWriteLock(sessionFile, fn, options = {}) {
  const lock = await acquireSessionWriteLock(sessionFile, options);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
