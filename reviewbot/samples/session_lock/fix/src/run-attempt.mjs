// One agent attempt on a session: append the turn's entries to the transcript,
// then run the post-run compaction, each under the session's write lock.

import { appendFile } from 'node:fs/promises';
import { withSessionWriteLock } from './session-lock.mjs';

export const DEFAULT_COMPACTION_TIMEOUT_MS = 60_000;

const TIMED_OUT = Symbol('timed out');

export function createAttempt(sessionFile, { lockOptions = {} } = {}) {
  const controller = new AbortController();
  // Locks (re-)acquired during this attempt and not released yet.
  const held = new Set();
  const tracker = { add: (lock) => held.add(lock), delete: (lock) => held.delete(lock) };

  const attempt = {
    sessionFile,
    signal: controller.signal,

    /** Run `fn(lock)` while holding the session write lock. */
    withSessionWriteLock(fn, options = {}) {
      return withSessionWriteLock(sessionFile, fn, { ...lockOptions, ...options, tracker, signal: controller.signal });
    },

    /** Append entries to the JSONL transcript. */
    async append(entries) {
      const text = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
      await attempt.withSessionWriteLock(() => appendFile(sessionFile, text));
    },

    /**
     * Post-run compaction under the write lock. Stops waiting after `timeoutMs`
     * so the attempt can finish; the compaction is told to stop through the
     * attempt's abort signal when the attempt is cleaned up.
     */
    async compact(compactFn, { timeoutMs = DEFAULT_COMPACTION_TIMEOUT_MS } = {}) {
      const work = attempt.withSessionWriteLock(() => compactFn({ sessionFile, signal: controller.signal }));
      let timer;
      const timedOut = new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs, TIMED_OUT);
      });
      try {
        const outcome = await Promise.race([work, timedOut]);
        return outcome === TIMED_OUT ? { status: 'timed_out' } : { status: 'done', result: outcome };
      } finally {
        clearTimeout(timer);
      }
    },

    /**
     * End of the attempt: abort whatever is still running, then force-release
     * the session write locks it still holds.
     *
     * A step whose `await` never settles (a hung compaction) never reaches its
     * own `finally`, so its lock would outlive the attempt and every later turn
     * on the session would time out acquiring it until a restart. Each release
     * is awaited: the `.jsonl.lock` file is gone from disk when this returns.
     */
    async cleanup() {
      controller.abort(new Error('attempt finished'));
      const stuck = [...held];
      held.clear();
      const results = await Promise.allSettled(stuck.map((lock) => lock.release()));
      const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
      if (failed.length) throw new AggregateError(failed, 'could not release session write locks');
      return { released: stuck.length };
    },
  };
  return attempt;
}

/** Run one attempt: append the turn, compact, clean up. */
export async function runAttempt(sessionFile, { entries = [], compact, compactionTimeoutMs, lockOptions } = {}) {
  const attempt = createAttempt(sessionFile, { lockOptions });
  try {
    await attempt.append(entries);
    const compaction = compact
      ? await attempt.compact(compact, { timeoutMs: compactionTimeoutMs })
      : { status: 'skipped' };
    return { compaction };
  } finally {
    await attempt.cleanup();
  }
}
