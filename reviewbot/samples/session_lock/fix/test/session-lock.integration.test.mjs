// Real filesystem, real second process: the lock file on disk is what another
// process (another gateway worker, a CLI) sees.
//
// Short timeouts throughout: without the fix these tests fail in about a
// second instead of hanging.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { createAttempt } from '../src/run-attempt.mjs';
import { acquireSessionWriteLock, readLockHolder, sessionLockPath } from '../src/session-lock.mjs';

const LOCK_MODULE = new URL('../src/session-lock.mjs', import.meta.url).href;

// The competing process: take the lock (or hold it and die), report as JSON.
const CHILD = `
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { acquireSessionWriteLock } from ${JSON.stringify(LOCK_MODULE)};

const { SESSION_FILE, TIMEOUT_MS, MODE } = process.env;
try {
  const lock = await acquireSessionWriteLock(SESSION_FILE, { timeoutMs: Number(TIMEOUT_MS) });
  if (MODE === 'hold-and-die') process.exit(0);
  const bytes = await readFile(SESSION_FILE);
  await lock.release();
  console.log(JSON.stringify({ ok: true, sha256: createHash('sha256').update(bytes).digest('hex') }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, name: err.name, message: err.message }));
  process.exitCode = 3;
}
`;

function runChild(sessionFile, { timeoutMs, mode = 'acquire' }) {
  const env = { ...process.env, SESSION_FILE: sessionFile, TIMEOUT_MS: String(timeoutMs), MODE: mode };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', (err) => { clearTimeout(killer); reject(err); });
    child.on('close', (code) => {
      clearTimeout(killer);
      let report = null;
      try { report = JSON.parse(stdout.trim().split('\n').pop()); } catch { /* reported below */ }
      resolve({ code, report, stdout, stderr });
    });
  });
}

const sha256 = async (file) => createHash('sha256').update(await readFile(file)).digest('hex');

const dirs = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function sessionFile() {
  const dir = await mkdtemp(join(tmpdir(), 'session-lock-it-'));
  dirs.push(dir);
  const file = join(dir, 'session.jsonl');
  const entries = [
    { type: 'session', id: 'it' },
    { type: 'message', role: 'user', text: 'compact me' },
    { type: 'message', role: 'assistant', text: 'ok' },
  ];
  await writeFile(file, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
  return file;
}

test('the lock file records pid, host and time', async () => {
  const file = await sessionFile();
  const lock = await acquireSessionWriteLock(file, { timeoutMs: 300 });
  const holder = await readLockHolder(sessionLockPath(file));
  assert.equal(holder.pid, process.pid);
  assert.equal(holder.host, hostname());
  assert.ok(!Number.isNaN(Date.parse(holder.acquiredAt)));
  await lock.release();
  assert.equal(existsSync(sessionLockPath(file)), false);
});

test('a lock left by a dead process is reclaimed', async () => {
  const file = await sessionFile();
  const child = await runChild(file, { timeoutMs: 300, mode: 'hold-and-die' });
  assert.equal(child.code, 0, child.stderr);
  assert.ok(existsSync(sessionLockPath(file)), 'the dead child left its lock file');
  const lock = await acquireSessionWriteLock(file, { timeoutMs: 300 });
  await lock.release();
});

test('another process times out while a hung compaction holds the lock, and gets it right after cleanup', async () => {
  const file = await sessionFile();
  const before = await sha256(file);
  const lockPath = sessionLockPath(file);

  const attempt = createAttempt(file);
  const compaction = await attempt.compact(() => new Promise(() => {}), { timeoutMs: 100 });
  assert.deepEqual(compaction, { status: 'timed_out' });
  assert.equal((await readLockHolder(lockPath))?.pid, process.pid, 'the hung compaction holds the lock');

  const blocked = await runChild(file, { timeoutMs: 300 });
  assert.equal(blocked.code, 3, blocked.stderr);
  assert.equal(blocked.report?.name, 'SessionWriteLockTimeoutError');

  await attempt.cleanup();
  assert.equal(existsSync(lockPath), false, 'cleanup must remove the .jsonl.lock file before it returns');

  const next = await runChild(file, { timeoutMs: 300 });
  assert.equal(next.code, 0, `second process could not take the lock after cleanup: ${next.stdout}${next.stderr}`);
  assert.equal(next.report.sha256, before, 'the second process reads the transcript unchanged');
  assert.equal(await sha256(file), before, 'the session .jsonl bytes are intact');
  assert.equal(existsSync(lockPath), false);
});
