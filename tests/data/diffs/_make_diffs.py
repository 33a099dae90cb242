"""Regenerate the `*.diff` fixtures with real git: `python tests/data/diffs/_make_diffs.py`.

Each case is a set of files before and after (None = absent), committed as two commits; the
fixture is what production's `Mirror.diff` prints for them (`git diff --no-renames ...`, a
rename being a deletion plus an addition), so the lock scan is tested on what it really reads.
`tests/integration/test_diff_fixtures.py` checks the files are still what this script makes.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from textwrap import dedent

from reviewbot.proof.workspace import Mirror

HERE = Path(__file__).parent


def d(text: str) -> str:
    return dedent(text).lstrip("\n")


CASES: dict[str, dict[str, tuple[str | None, str | None]]] = {}

# --- positives ---------------------------------------------------------------------------------

CASES["js_release_not_in_finally"] = {
    "src/agents/session-write-lock.ts": (
        d("""
    import fs from "node:fs/promises";

    export async function appendEntry(sessionFile: string, entry: Entry): Promise<void> {
      await fs.appendFile(sessionFile, JSON.stringify(entry) + "\\n");
    }
"""),
        d("""
    import fs from "node:fs/promises";
    import { acquireSessionWriteLock } from "./lock.js";

    export async function appendEntry(sessionFile: string, entry: Entry): Promise<void> {
      const lock = await acquireSessionWriteLock({ sessionFile, timeoutMs: 5_000 });
      await fs.appendFile(sessionFile, JSON.stringify(entry) + "\\n");
      await lock.release();
    }
"""),
    )
}

CASES["py_release_not_in_finally"] = {
    "app/state.py": (
        d("""
    import threading

    _lock = threading.Lock()


    def write_state(path, data):
        path.write_text(data)
"""),
        d("""
    import threading

    _lock = threading.Lock()


    def write_state(path, data):
        if not _lock.acquire(timeout=10):
            raise TimeoutError("state lock busy")
        path.write_text(data)
        _lock.release()
"""),
    )
}

CASES["py_acquire_without_timeout"] = {
    "app/cache.py": (
        d("""
    import fcntl


    class Cache:
        def put(self, key, value):
            self._data[key] = value

        def flush(self, fd):
            self._write(fd)
"""),
        d("""
    import fcntl


    class Cache:
        def put(self, key, value):
            self._lock.acquire()
            try:
                self._data[key] = value
            finally:
                self._lock.release()

        def flush(self, fd):
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                self._write(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
"""),
    )
}

CASES["js_acquire_without_timeout"] = {
    "src/queue.ts": (
        d("""
    import { Mutex } from "async-mutex";

    const mutex = new Mutex();

    export async function enqueue(job: Job): Promise<void> {
      jobs.push(job);
    }
"""),
        d("""
    import { Mutex } from "async-mutex";

    const mutex = new Mutex();

    export async function enqueue(job: Job): Promise<void> {
      const release = await mutex.acquire();
      try {
        jobs.push(job);
      } finally {
        release();
      }
    }
"""),
    )
}

CASES["js_held_across_fetch"] = {
    "src/sync.ts": (
        d("""
    export async function syncSession(sessionFile: string, url: string): Promise<void> {
      await withSessionLock(sessionFile, async () => {
        await appendEntry(sessionFile, { kind: "sync" });
      });
    }
"""),
        d("""
    export async function syncSession(sessionFile: string, url: string): Promise<void> {
      await withSessionLock(sessionFile, async () => {
        const reply = await fetch(url, { method: "POST" });
        await appendEntry(sessionFile, await reply.json());
      });
    }
"""),
    )
}

CASES["py_held_across_subprocess"] = {
    "app/repo.py": (
        d("""
    import subprocess


    class Mirror:
        def update(self):
            with self._lock:
                self._generation += 1
"""),
        d("""
    import subprocess


    class Mirror:
        def update(self):
            with self._lock:
                subprocess.run(["git", "fetch", "--all"], check=True)
                self._generation += 1
"""),
    )
}

CASES["js_force_release_age_only"] = {
    "src/lockfile.ts": (
        d("""
    import fs from "node:fs/promises";

    const STALE_MS = 30_000;

    export async function breakStaleLock(lockPath: string): Promise<void> {
      return;
    }
"""),
        d("""
    import fs from "node:fs/promises";

    const STALE_MS = 30_000;

    export async function breakStaleLock(lockPath: string): Promise<void> {
      const stat = await fs.stat(lockPath);
      if (Date.now() - stat.mtimeMs > STALE_MS) {
        await fs.unlink(lockPath);
      }
    }
"""),
    )
}

CASES["py_force_release_age_only"] = {
    "app/pidlock.py": (
        d("""
    import os
    import time

    STALE_AFTER = 60


    def clear_stale(lock_path):
        return None
"""),
        d("""
    import os
    import time

    STALE_AFTER = 60


    def clear_stale(lock_path):
        if time.time() - os.path.getmtime(lock_path) > STALE_AFTER:
            os.remove(lock_path)
"""),
    )
}

CASES["js_unlink_before_close"] = {
    "src/file-lock.ts": (
        d("""
    import fs from "node:fs/promises";

    export async function withFileLock(lockPath: string, work: () => Promise<void>): Promise<void> {
      await work();
    }
"""),
        d("""
    import fs from "node:fs/promises";

    export async function withFileLock(lockPath: string, work: () => Promise<void>): Promise<void> {
      const handle = await fs.open(lockPath, "wx");
      try {
        await work();
      } finally {
        await fs.unlink(lockPath);
        await handle.close();
      }
    }
"""),
    )
}

CASES["py_unlink_then_recreate"] = {
    "app/lockfile.py": (
        d("""
    import os


    def take_over(lock_path, owner_pid):
        return None
"""),
        d("""
    import os


    def take_over(lock_path, owner_pid):
        if not _pid_alive(owner_pid):
            os.unlink(lock_path)
            fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            return fd
        return None
"""),
    )
}

CASES["js_check_then_create"] = {
    "src/pid-lock.js": (
        d("""
    const fs = require("node:fs");

    function takeLock(lockPath) {
      return true;
    }
"""),
        d("""
    const fs = require("node:fs");

    function takeLock(lockPath) {
      if (fs.existsSync(lockPath)) {
        return false;
      }
      fs.writeFileSync(lockPath, String(process.pid));
      return true;
    }
"""),
    )
}

CASES["py_check_then_create"] = {
    "app/single_instance.py": (
        d("""
    import os


    def claim(lock_path):
        return True
"""),
        d("""
    import os


    def claim(lock_path):
        if os.path.exists(lock_path):
            return False
        with open(lock_path, "w") as handle:
            handle.write(str(os.getpid()))
        return True
"""),
    )
}

CASES["js_non_atomic_write"] = {
    "src/lock-owner.mjs": (
        d("""
    import fs from "node:fs/promises";

    export async function recordOwner(lockPath) {
    }
"""),
        d("""
    import fs from "node:fs/promises";

    export async function recordOwner(lockPath) {
      await fs.writeFile(lockPath, JSON.stringify({ pid: process.pid, createdAt: Date.now() }));
    }
"""),
    )
}

CASES["py_non_atomic_write"] = {
    "app/daemon.py": (
        d("""
    import os
    from pathlib import Path


    def write_pid(pid_file):
        pass
"""),
        d("""
    import os
    from pathlib import Path


    def write_pid(pid_file):
        Path(pid_file).write_text(str(os.getpid()))
"""),
    )
}

CASES["py_lock_order"] = {
    "app/bank.py": (
        d("""
    class Bank:
        def transfer(self, a, b, amount):
            pass

        def audit(self):
            pass
"""),
        d("""
    class Bank:
        def transfer(self, a, b, amount):
            with self.accounts_lock:
                with self.ledger_lock:
                    self._move(a, b, amount)

        def audit(self):
            with self.ledger_lock:
                with self.accounts_lock:
                    return self._check()
"""),
    )
}

CASES["js_lock_order"] = {
    "src/store.ts": (
        d("""
    export async function save(): Promise<void> {
    }

    export async function reindex(): Promise<void> {
    }
"""),
        d("""
    export async function save(): Promise<void> {
      await withLock(sessionLock, async () => {
        await withLock(indexLock, async () => {
          await writeBoth();
        });
      });
    }

    export async function reindex(): Promise<void> {
      await withLock(indexLock, async () => {
        await withLock(sessionLock, async () => {
          await rebuild();
        });
      });
    }
"""),
    )
}

CASES["js_swallowed_release"] = {
    "src/cleanup.ts": (
        d("""
    export async function shutdown(lock: Lock, lockPath: string): Promise<void> {
      await flush();
    }
"""),
        d("""
    export async function shutdown(lock: Lock, lockPath: string): Promise<void> {
      await flush();
      await lock.release().catch(() => {});
      try {
        await fs.unlink(lockPath);
      } catch {
        // ignore
      }
    }
"""),
    )
}

CASES["py_swallowed_release"] = {
    "app/worker.py": (
        d("""
    def run(self):
        self._step()
"""),
        d("""
    def run(self):
        self._lock.acquire(timeout=5)
        try:
            self._step()
        finally:
            try:
                self._lock.release()
            except Exception:
                pass
"""),
    )
}

# --- negatives: nothing may be reported --------------------------------------------------------

CASES["ok_js_try_finally"] = {
    "src/agents/session-write-lock.ts": (
        d("""
    export async function appendEntry(sessionFile: string, entry: Entry): Promise<void> {
      await fs.appendFile(sessionFile, JSON.stringify(entry) + "\\n");
    }
"""),
        d("""
    export async function appendEntry(sessionFile: string, entry: Entry): Promise<void> {
      const lock = await acquireSessionWriteLock({ sessionFile, timeoutMs: 5_000 });
      try {
        await fs.appendFile(sessionFile, JSON.stringify(entry) + "\\n");
      } finally {
        await lock.release();
      }
    }
"""),
    ),
    "test/session-write-lock.test.ts": (
        None,
        d("""
    import { test } from "node:test";

    test("releases the lock when the append throws", async () => {});
"""),
    ),
}

CASES["ok_py_try_finally"] = {
    "app/state.py": (
        d("""
    def write_state(path, data):
        path.write_text(data)
"""),
        d("""
    def write_state(path, data):
        if not _lock.acquire(timeout=10):
            raise TimeoutError("state lock busy")
        try:
            path.write_text(data)
        finally:
            _lock.release()
"""),
    ),
    "tests/test_state.py": (None, "def test_state_lock_released_on_error():\n    pass\n"),
}

CASES["ok_py_with_lock"] = {
    "app/counter.py": (
        d("""
    class Counter:
        def incr(self):
            self.value += 1
"""),
        d("""
    class Counter:
        def incr(self):
            with self._lock:
                self.value += 1
                self._dirty = True
"""),
    )
}

CASES["ok_py_o_excl"] = {
    "app/lockfile.py": (
        d("""
    import os


    def try_lock(lock_path):
        return None
"""),
        d("""
    import os


    def try_lock(lock_path):
        try:
            fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return None
        os.write(fd, str(os.getpid()).encode())
        return fd
"""),
    ),
    "tests/test_lockfile.py": (None, "def test_second_holder_fails():\n    pass\n"),
}

CASES["ok_js_wx_create"] = {
    "src/lockfile.js": (
        d("""
    export async function tryLock(lockPath) {
      return null;
    }
"""),
        d("""
    export async function tryLock(lockPath) {
      try {
        return await fs.open(lockPath, "wx");
      } catch (err) {
        if (err.code === "EEXIST") return null;
        throw err;
      }
    }
"""),
    ),
    "test/lockfile.test.js": (None, "test('second holder fails', () => {});\n"),
}

CASES["ok_temp_then_rename"] = {
    "src/lock-owner.ts": (
        d("""
    export async function recordOwner(lockPath: string): Promise<void> {
    }
"""),
        d("""
    export async function recordOwner(lockPath: string): Promise<void> {
      const tmp = `${lockPath}.${process.pid}.tmp`;
      await fs.writeFile(tmp, JSON.stringify({ pid: process.pid }));
      await fs.rename(tmp, lockPath);
    }
"""),
    ),
    "app/pidfile.py": (
        d("""
    import os


    def write_pid(pid_file):
        pass
"""),
        d("""
    import os


    def write_pid(pid_file):
        tmp = f"{pid_file}.tmp"
        with open(tmp, "w") as handle:
            handle.write(str(os.getpid()))
        os.replace(tmp, pid_file)
"""),
    ),
    "test/lock-owner.test.ts": (None, "test('owner', () => {});\n"),
    "tests/test_pidfile.py": (None, "def test_pid():\n    pass\n"),
}

CASES["ok_owner_checked_break"] = {
    "src/stale-lock.ts": (
        d("""
    export async function breakStaleLock(lockPath: string): Promise<boolean> {
      return false;
    }
"""),
        d("""
    export async function breakStaleLock(lockPath: string): Promise<boolean> {
      const owner = JSON.parse(await fs.readFile(lockPath, "utf8"));
      if (owner.hostname !== os.hostname()) return false;
      try {
        process.kill(owner.pid, 0);
        return false;
      } catch (err) {
        if (err.code !== "ESRCH") throw err;
      }
      await fs.unlink(lockPath);
      return true;
    }
"""),
    ),
    "test/stale-lock.test.ts": (None, "test('dead owner', () => {});\n"),
}

CASES["ok_docs_only"] = {
    "README.md": ("# Locks\n", "# Locks\n\nCall `lock.acquire()` and release it in `finally`.\n"),
    "docs/locking.md": (None, "Never `fs.unlink(lockPath)` on age alone.\n"),
}

CASES["ok_test_only"] = {
    "tests/test_lock.py": (
        d("""
    def test_lock():
        pass
"""),
        d("""
    import threading


    def test_lock():
        lock = threading.Lock()
        lock.acquire()
        assert lock.locked()
        lock.release()
"""),
    )
}

CASES["ok_lock_change_with_test"] = {
    "src/session-lock.ts": (
        d("""
    export const LOCK_TIMEOUT_MS = 5_000;
"""),
        d("""
    export const LOCK_TIMEOUT_MS = 10_000;
    export const LOCK_STALE_MS = 60_000;
"""),
    ),
    "test/session-lock.test.ts": (None, "test('times out', () => {});\n"),
}

# --- parser fixture ----------------------------------------------------------------------------

CASES["parser_mixed"] = {
    "src/keep.py": (
        "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\nh = 8\ni = 9\nj = 10\n",
        "a = 1\nb = 2\nB = 2.5\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\nh = 8\nI = 8.5\ni = 9\nj = 10\n",
    ),
    "src/new_file.ts": (None, "export const x = 1;\nexport const y = 2;"),  # no newline at end
    "src/old.js": ("module.exports = 1;\n", None),
    "lib/moved_lock.py": (None, None),  # filled in below as a rename
    "assets/logo.png": (None, None),
}


def build(name: str, files: dict[str, tuple[str | None, str | None]]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "core.autocrlf=false"]
        subprocess.run([*git, "init", "-q"], cwd=root, check=True)
        rename = name == "parser_mixed"
        body = "".join(f"line_{n} = {n}\n" for n in range(1, 21))
        for path, (before, _) in files.items():
            if before is not None:
                _write(root / path, before)
        if rename:
            _write(root / "lib/lock_helpers.py", body)
            (root / "assets").mkdir(parents=True, exist_ok=True)
            (root / "assets/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x01")
        subprocess.run([*git, "add", "-A"], cwd=root, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=root, check=True)
        for path, (before, after) in files.items():
            if after is None and before is not None:
                (root / path).unlink()
            elif after is not None:
                _write(root / path, after)
        if rename:
            (root / "lib/lock_helpers.py").rename(root / "lib/moved_lock.py")
            _write(root / "lib/moved_lock.py", body.replace("line_20 = 20\n", "line_20 = 20\nlock = None\n"))
            (root / "assets/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x02")
        subprocess.run([*git, "add", "-A"], cwd=root, check=True)
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "head"], cwd=root, check=True)
        return Mirror(root / ".git", source=str(root)).diff("HEAD~1", "HEAD")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main() -> None:
    for name, files in CASES.items():
        (HERE / f"{name}.diff").write_text(build(name, files))
        print(name)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(HERE.parents[2]))  # `python tests/data/diffs/_make_diffs.py` from anywhere
    main()
