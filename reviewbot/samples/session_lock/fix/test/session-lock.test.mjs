// Regression: a step that hangs while holding the session write lock must not
// keep the lock after its attempt is cleaned up (SessionWriteLockTimeoutError
// on every later turn until a restart).
//
// Short timeouts throughout: without the fix these tests fail in well under a
// second instead of hanging.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { createAttempt, runAttempt } from '../src/run-attempt.mjs';
import {
  SessionWriteLockTimeoutError,
  acquireSessionWriteLock,
  sessionLockPath,
  withSessionWriteLock,
} from '../src/session-lock.mjs';

const never = () => new Promise(() => {}); // an await that never settles (and keeps nothing alive)

const dirs = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function sessionFile() {
  const dir = await mkdtemp(join(tmpdir(), 'session-lock-'));
  dirs.push(dir);
  const file = join(dir, 'session.jsonl');
  await writeFile(file, `${JSON.stringify({ type: 'session', id: 'demo' })}\n`);
  return file;
}

async function waitForFile(path, timeoutMs = 1000) {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear`);
    await sleep(5);
  }
}

test('withSessionWriteLock releases the lock when the body throws', async () => {
  const file = await sessionFile();
  await assert.rejects(withSessionWriteLock(file, async () => { throw new Error('boom'); }), /boom/);
  assert.equal(existsSync(sessionLockPath(file)), false);
});

test('cleanup force-releases a lock held by a step that never settles', async () => {
  const file = await sessionFile();
  const attempt = createAttempt(file, { lockOptions: { timeoutMs: 300 } });
  attempt.withSessionWriteLock(never); // the stuck step: its finally never runs
  await waitForFile(sessionLockPath(file));

  await assert.rejects(acquireSessionWriteLock(file, { timeoutMs: 200 }), SessionWriteLockTimeoutError);

  await attempt.cleanup();
  assert.equal(existsSync(sessionLockPath(file)), false, 'the .jsonl.lock file must be gone when cleanup returns');

  const started = Date.now();
  const lock = await acquireSessionWriteLock(file, { timeoutMs: 300 });
  assert.ok(Date.now() - started < 250, 'the next acquire must not wait for the stuck step');
  await lock.release();
});

test('the next turn after a hung compaction gets the lock at once', async () => {
  const file = await sessionFile();
  const result = await runAttempt(file, {
    entries: [{ type: 'message', role: 'user', text: 'hello' }],
    compact: never,
    compactionTimeoutMs: 50,
  });
  assert.deepEqual(result.compaction, { status: 'timed_out' });

  const next = await runAttempt(file, {
    entries: [{ type: 'message', role: 'user', text: 'still there?' }],
    lockOptions: { timeoutMs: 300 },
  });
  assert.deepEqual(next.compaction, { status: 'skipped' });

  const lines = (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(lines.map((entry) => entry.text ?? entry.type), ['session', 'hello', 'still there?']);
  assert.equal(existsSync(sessionLockPath(file)), false);
});
