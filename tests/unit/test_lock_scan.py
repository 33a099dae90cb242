"""The lock scan on real `git diff` output: which rule fires where, and where nothing may fire.

Fixtures live in tests/data/diffs and are regenerated with real git by
`python tests/data/diffs/_make_diffs.py`.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from reviewbot.model import Priority
from reviewbot.review.diff import FileDiff, language_of, parse_unified_diff
from reviewbot.review.lock_scan import MAX_FINDINGS, scan

DIFFS = Path(__file__).resolve().parents[1] / "data" / "diffs"


def load(name: str) -> list[FileDiff]:
    return parse_unified_diff((DIFFS / f"{name}.diff").read_text())


def head_line(files: list[FileDiff], path: str, needle: str) -> int:
    """The head line of the added line containing `needle` (`needle@2`: the second one), so tests don't hardcode numbers."""
    needle, _, nth = needle.partition("@")
    f = next(f for f in files if f.path == path)
    return [line.number for line in f.added_lines if needle in line.text][int(nth or 1) - 1]


# (fixture, changed tests, path, expected {(rule, needle on the anchored line, priority)})
POSITIVE = [
    (
        "js_release_not_in_finally",
        ["test/session-write-lock.test.ts"],
        "src/agents/session-write-lock.ts",
        {("release-not-guaranteed", "await lock.release()", "P1")},
    ),
    (
        "py_release_not_in_finally",
        ["tests/test_state.py"],
        "app/state.py",
        {("release-not-guaranteed", "_lock.release()", "P1")},
    ),
    (
        "py_acquire_without_timeout",
        ["tests/test_cache.py"],
        "app/cache.py",
        {("acquire-without-timeout", "self._lock.acquire()", "P2"), ("acquire-without-timeout", "fcntl.LOCK_EX", "P2")},
    ),
    (
        "js_acquire_without_timeout",
        ["test/queue.test.ts"],
        "src/queue.ts",
        {("acquire-without-timeout", "mutex.acquire()", "P2")},
    ),
    (
        "js_held_across_fetch",
        ["test/sync.test.ts"],
        "src/sync.ts",
        {("lock-held-across-unbounded-await", "await fetch(url", "P1")},
    ),
    (
        "py_held_across_subprocess",
        ["tests/test_repo.py"],
        "app/repo.py",
        {("lock-held-across-unbounded-await", "subprocess.run(", "P1")},
    ),
    (
        "js_force_release_age_only",
        ["test/lockfile.test.ts"],
        "src/lockfile.ts",
        {("force-release-without-owner-check", "fs.unlink(lockPath)", "P0")},
    ),
    (
        "py_force_release_age_only",
        ["tests/test_pidlock.py"],
        "app/pidlock.py",
        {("force-release-without-owner-check", "os.remove(lock_path)", "P0")},
    ),
    (
        "js_unlink_before_close",
        ["test/file-lock.test.ts"],
        "src/file-lock.ts",
        {("unlink-lock-held-open", "fs.unlink(lockPath)", "P2")},
    ),
    (
        "py_unlink_then_recreate",
        ["tests/test_lockfile.py"],
        "app/lockfile.py",
        {("unlink-lock-held-open", "os.unlink(lock_path)", "P2")},
    ),
    (
        "js_check_then_create",
        ["test/pid-lock.test.js"],
        "src/pid-lock.js",
        {("check-then-create", "fs.writeFileSync(lockPath", "P1")},
    ),
    (
        "py_check_then_create",
        ["tests/test_single_instance.py"],
        "app/single_instance.py",
        {("check-then-create", 'open(lock_path, "w")', "P1")},
    ),
    (
        "js_non_atomic_write",
        ["test/lock-owner.test.mjs"],
        "src/lock-owner.mjs",
        {("non-atomic-lock-write", "fs.writeFile(lockPath", "P2")},
    ),
    (
        "py_non_atomic_write",
        ["tests/test_daemon.py"],
        "app/daemon.py",
        {("non-atomic-lock-write", "write_text(", "P2")},
    ),
    (
        "py_lock_order",
        ["tests/test_bank.py"],
        "app/bank.py",
        {
            ("inconsistent-lock-order", "with self.ledger_lock:@1", "P1"),
            ("inconsistent-lock-order", "with self.accounts_lock:@2", "P1"),
        },
    ),
    (
        "js_lock_order",
        ["test/store.test.ts"],
        "src/store.ts",
        {
            ("inconsistent-lock-order", "withLock(indexLock@1", "P1"),
            ("inconsistent-lock-order", "withLock(sessionLock@2", "P1"),
        },
    ),
    (
        "js_swallowed_release",
        ["test/cleanup.test.ts"],
        "src/cleanup.ts",
        {
            ("swallowed-release-error", "lock.release().catch", "P2"),
            ("swallowed-release-error", "fs.unlink(lockPath)", "P2"),
        },
    ),
    (
        "py_swallowed_release",
        ["tests/test_worker.py"],
        "app/worker.py",
        {("swallowed-release-error", "self._lock.release()", "P2")},
    ),
    (
        "js_release_not_in_finally",
        [],
        "src/agents/session-write-lock.ts",
        {
            ("release-not-guaranteed", "await lock.release()", "P1"),
            ("lock-change-without-test", "import { acquireSessionWriteLock }", "P2"),
        },
    ),
    (
        "py_release_not_in_finally",
        ["tests/test_unrelated_parser.py"],
        "app/state.py",
        {
            ("release-not-guaranteed", "_lock.release()", "P1"),
            ("lock-change-without-test", "if not _lock.acquire", "P2"),
        },
    ),
]


@pytest.mark.parametrize(
    ("fixture", "tests", "path", "expected"), POSITIVE, ids=[f"{c[0]}-{len(c[1])}tests" for c in POSITIVE]
)
def test_rule_fires_exactly_where_expected(fixture, tests, path, expected):
    files = load(fixture)
    found = {(f.rule, f.line, f.priority.value) for f in scan(files, tests)}
    want = {(rule, head_line(files, path, needle), prio) for rule, needle, prio in expected}
    assert found == want


def pairs(name: str) -> tuple[list[FileDiff], list[str]]:
    files = load(name)
    return files, [f.path for f in files if "test" in f.path]


NEGATIVE = [
    "ok_js_try_finally",
    "ok_py_try_finally",
    "ok_py_with_lock",
    "ok_py_o_excl",
    "ok_js_wx_create",
    "ok_temp_then_rename",
    "ok_owner_checked_break",
    "ok_docs_only",
    "ok_test_only",
    "ok_lock_change_with_test",
]


@pytest.mark.parametrize("fixture", NEGATIVE)
def test_nothing_reported_on_correct_code(fixture):
    files, tests = pairs(fixture)
    assert scan(files, tests) == []


def test_lock_change_without_test_needs_a_test_sharing_a_word():
    files = load("ok_lock_change_with_test")
    source_only = [f for f in files if not f.path.startswith("test/")]
    rules = [(f.rule, f.path) for f in scan(source_only, [])]
    assert rules == [("lock-change-without-test", "src/session-lock.ts")]
    assert scan(source_only, ["test/parser.test.ts"])[0].rule == "lock-change-without-test"
    assert scan(source_only, ["test/session-lock.test.ts"]) == []


def test_a_test_that_imports_the_module_counts_as_touching_it():
    source = parse_unified_diff(
        "diff --git a/src/run-attempt.mjs b/src/run-attempt.mjs\n--- a/src/run-attempt.mjs\n+++ b/src/run-attempt.mjs\n"
        "@@ -1,2 +1,3 @@\n export async function run(lock) {\n+  await lock.release();\n }\n"
    )
    importing = parse_unified_diff(
        "diff --git a/test/cleanup.test.mjs b/test/cleanup.test.mjs\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/test/cleanup.test.mjs\n@@ -0,0 +1,1 @@\n+import { run } from '../src/run-attempt.mjs';\n"
    )
    unrelated = parse_unified_diff(
        "diff --git a/test/cleanup.test.mjs b/test/cleanup.test.mjs\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/test/cleanup.test.mjs\n@@ -0,0 +1,1 @@\n+import { run } from '../src/run-attempt-v2.mjs';\n"
    )
    assert [f.rule for f in scan(source + importing, ["test/cleanup.test.mjs"])] == []
    assert [f.rule for f in scan(source + unrelated, ["test/cleanup.test.mjs"])] == ["lock-change-without-test"]


def test_findings_carry_text_and_are_sorted_by_priority():
    files = load("js_force_release_age_only") + load("js_non_atomic_write") + load("py_lock_order")
    findings = scan(files, [])
    assert [f.priority for f in findings] == sorted(f.priority for f in findings)
    assert findings[0].priority == Priority.P0
    for finding in findings:
        assert finding.title and finding.why and finding.suggestion and finding.source == "lock-scan"
    keys = [(f.rule, f.path, f.line) for f in findings]
    assert len(keys) == len(set(keys))


def test_output_is_bounded():
    files = []
    for n in range(30):
        files += [FileDiff(path=f"src/lock{n}.ts", hunks=f.hunks) for f in load("js_swallowed_release")]
    assert len(scan(files, [])) == MAX_FINDINGS


def test_only_added_lines_are_reported():
    """The old, unfixed code in context lines is not the PR's fault."""
    text = """\
diff --git a/src/lock.ts b/src/lock.ts
index 1111111..2222222 100644
--- a/src/lock.ts
+++ b/src/lock.ts
@@ -1,5 +1,6 @@
 export async function save(path: string) {
   const release = await lockfile.lock(path);
   await write(path);
+  log("saved");
   await release();
 }
"""
    assert [f.rule for f in scan(parse_unified_diff(text), ["test/lock.test.ts"])] == []


def test_lockish_identifiers_are_case_sensitive():
    """`clock(`, `unblock(` and `Block` are not locks; a release of them is not a lock release."""
    text = """\
diff --git a/src/timer.ts b/src/timer.ts
index 1111111..2222222 100644
--- a/src/timer.ts
+++ b/src/timer.ts
@@ -1,2 +1,5 @@
 export function tick() {
+  const t = clock();
+  unblock(queue);
+  renderBlock(t);
 }
"""
    assert scan(parse_unified_diff(text), []) == []


# --- the diff parser ---------------------------------------------------------------------------


def test_parser_line_numbers_and_statuses():
    files = {f.path: f for f in load("parser_mixed")}
    assert set(files) == {
        "assets/logo.png",
        "lib/lock_helpers.py",
        "lib/moved_lock.py",
        "src/keep.py",
        "src/new_file.ts",
        "src/old.js",
    }

    keep = files["src/keep.py"]
    assert keep.status == "modified" and keep.language == "python"
    assert [(line.number, line.text) for line in keep.added_lines] == [(3, "B = 2.5"), (10, "I = 8.5")]
    assert [line.number for line in keep.context_lines] == [1, 2, 4, 5, 6, 7, 8, 9, 11, 12]

    new = files["src/new_file.ts"]
    assert new.status == "added" and new.old_path is None and new.language == "js"
    assert [(line.number, line.text) for line in new.added_lines] == [
        (1, "export const x = 1;"),
        (2, "export const y = 2;"),
    ]

    old = files["src/old.js"]
    assert old.status == "deleted" and old.added_lines == [] and old.hunks[0].removed == ["module.exports = 1;"]

    # production diffs with --no-renames: a moved file is a deletion plus an addition of every line
    gone, moved = files["lib/lock_helpers.py"], files["lib/moved_lock.py"]
    assert gone.status == "deleted" and gone.added_lines == [] and len(gone.hunks[0].removed) == 20
    assert moved.status == "added" and moved.old_path is None
    assert [line.number for line in moved.added_lines] == list(range(1, 22))
    assert moved.added_lines[-1].text == "lock = None"

    logo = files["assets/logo.png"]
    assert logo.binary and logo.hunks == [] and logo.language is None


def test_parser_no_newline_marker_between_removed_and_added():
    text = """\
diff --git a/a.py b/a.py
index 1111111..2222222 100644
--- a/a.py
+++ b/a.py
@@ -1,2 +1,3 @@
 x = 1
-y = 2
\\ No newline at end of file
+y = 3
+z = 4
\\ No newline at end of file
diff --git a/b.mts b/b.mts
index 1111111..2222222 100644
--- a/b.mts
+++ b/b.mts
@@ -10 +10 @@ function f() {
--- a decremented comment line
+--- still a diff body line, not a header
"""
    a, b = parse_unified_diff(text)
    assert [(line.number, line.text, line.added) for hunk in a.hunks for line in hunk.lines] == [
        (1, "x = 1", False),
        (2, "y = 3", True),
        (3, "z = 4", True),
    ]
    assert a.hunks[0].removed == ["y = 2"]
    assert b.path == "b.mts" and b.language == "js" and b.hunks[0].section == "function f() {"
    assert [(line.number, line.text) for line in b.added_lines] == [(10, "--- still a diff body line, not a header")]
    assert b.hunks[0].removed == ["-- a decremented comment line"]


def test_parser_multiple_hunks_quoted_and_plain_paths():
    text = """\
diff --git "a/src/caf\\303\\251 lock.py" "b/src/caf\\303\\251 lock.py"
index 1111111..2222222 100644
--- "a/src/caf\\303\\251 lock.py"
+++ "b/src/caf\\303\\251 lock.py"
@@ -1,2 +1,3 @@
 a = 1
+b = 2
 c = 3
@@ -40,2 +41,3 @@ def tail():
 y = 1
+z = 2
 w = 3
--- old/README
+++ new/README
@@ -1 +1 @@
-hi
+hello
"""
    cafe, readme = parse_unified_diff(text)
    assert cafe.path == "src/café lock.py" and len(cafe.hunks) == 2
    assert [(line.number, line.text) for line in cafe.added_lines] == [(2, "b = 2"), (42, "z = 2")]
    assert readme.path == "new/README" and readme.language is None


@pytest.mark.parametrize(
    ("path", "lang"),
    [
        ("a.py", "python"),
        ("a.js", "js"),
        ("a.mjs", "js"),
        ("a.cjs", "js"),
        ("a.jsx", "js"),
        ("a.ts", "js"),
        ("a.mts", "js"),
        ("a.cts", "js"),
        ("a.tsx", "js"),
        ("a.pyc", None),
        ("README.md", None),
        ("dir.py/Makefile", None),
        ("yarn.lock", None),
    ],
)
def test_language_from_extension(path, lang):
    assert language_of(path) == lang


# --- small inline cases: a whole new file, so every line is added -------------------------------


def new_file_diff(path: str, code: str) -> list[FileDiff]:
    lines = dedent(code).strip("\n").splitlines()
    body = "".join(f"+{line}\n" for line in lines)
    return parse_unified_diff(
        f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


QUIET_CODE = {
    "src/file-lock.ts: class with acquire/release methods, wx create, close before unlink": """
        export class FileLock {
          constructor(private lockPath: string) {}

          async acquire(timeoutMs = 5000): Promise<void> {
            const deadline = Date.now() + timeoutMs;
            for (;;) {
              try {
                this.handle = await fs.open(this.lockPath, "wx");
                await this.handle.writeFile(JSON.stringify({ pid: process.pid, hostname: os.hostname() }));
                return;
              } catch (err) {
                if (err.code !== "EEXIST" || Date.now() > deadline) throw err;
                await sleep(50);
              }
            }
          }

          async release(): Promise<void> {
            await this.handle?.close();
            await fs.unlink(this.lockPath);
          }
        }
    """,
    "app/file_lock.py: O_EXCL with a deadline, release in its own method": """
        class FileLock:
            def __init__(self, lock_path, timeout=10.0):
                self.lock_path = lock_path
                self.timeout = timeout

            def acquire(self):
                deadline = time.monotonic() + self.timeout
                while True:
                    try:
                        self.fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                        return
                    except FileExistsError:
                        if time.monotonic() > deadline:
                            raise TimeoutError(self.lock_path)
                        time.sleep(0.05)

            def release(self):
                os.close(self.fd)
                os.unlink(self.lock_path)

            def __enter__(self):
                self.acquire()
                return self

            def __exit__(self, *exc):
                self.release()
    """,
    "src/update.js: proper-lockfile with retries and finally": """
        async function update(file) {
          const release = await lockfile.lock(file, { retries: { retries: 5, maxTimeout: 1000 }, stale: 10000 });
          try {
            await doWork(file);
          } finally {
            await release();
          }
        }
    """,
    "src/stale.ts: stale break that checks the owner pid": """
        export async function breakStaleLock(lockPath: string): Promise<boolean> {
          const info = await readLockInfo(lockPath);
          if (!info || Date.now() - info.createdAt < STALE_MS) return false;
          if (isProcessAlive(info.pid)) return false;
          await fs.rm(lockPath, { force: true });
          return true;
        }
    """,
    "app/worker.py: bounded waits under locks, LOCK_NB, a pool is not a lock": """
        class Worker:
            async def tick(self):
                async with self._lock:
                    await asyncio.sleep(0.1)
                    self.count += 1

            def flock_it(self, lock_path):
                with open(lock_path, "a") as handle:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    try:
                        self.run()
                    finally:
                        fcntl.flock(handle, fcntl.LOCK_UN)

            def fetch(self):
                with self._lock:
                    reply = requests.get(self.url,
                                         timeout=5)
                conn = self.pool.acquire()
                self.pool.release(conn)
    """,
    "app/critical.py: release in except + re-raise, then on the normal path": """
        def critical(lock):
            lock.acquire(timeout=3)
            try:
                step()
            except Exception:
                lock.release()
                raise
            lock.release()
    """,
    "src/session.ts: helper with finally, caller writes temp then renames": """
        export async function withSessionLock<T>(sessionFile: string, fn: () => Promise<T>): Promise<T> {
          const lock = await acquireSessionWriteLock({ sessionFile, timeoutMs: LOCK_TIMEOUT_MS });
          try {
            return await fn();
          } finally {
            await lock.release();
          }
        }

        export async function save(sessionFile: string, data: string) {
          await withSessionLock(sessionFile, async () => {
            const tmp = `${sessionFile}.tmp`;
            await fs.writeFile(tmp, data);
            await fs.rename(tmp, sessionFile);
          });
        }
    """,
    "src/render.js: clock, unblock, pools, regex exec and package-lock are not locks": """
        const clock = require("./clock");
        async function render(block) {
          const unlockedAt = clock();
          db.release(conn);
          pool.acquire().then(use);
          await regex.exec(text);
          fs.writeFileSync("package-lock.json", json);
        }
    """,
    "app/cleanup.py: only a missing lock file is ignored": """
        def cleanup(lock_path):
            try:
                os.unlink(lock_path)
            except FileNotFoundError:
                pass
    """,
    "src/acquire.ts: retry loop with wx, returns a release closure": """
        async function acquireLock(lockPath: string, opts: LockOptions): Promise<Release> {
          const started = Date.now();
          while (true) {
            try {
              const handle = await fs.open(lockPath, "wx");
              await handle.writeFile(JSON.stringify({ pid: process.pid, startedAt: started }));
              await handle.close();
              return async () => {
                await fs.unlink(lockPath);
              };
            } catch (err) {
              if (err.code !== "EEXIST") throw err;
              if (Date.now() - started > opts.timeoutMs) throw new Error("lock timeout");
              await sleep(25);
            }
          }
        }
    """,
    "src/bounded.ts: a wait under the lock that has a timer": """
        export async function settle(queue: Queue) {
          await withQueueLock(queue, async () => {
            await new Promise((resolve) => {
              const timer = setTimeout(resolve, 1_000);
              queue.once("drain", () => { clearTimeout(timer); resolve(); });
            });
            const reply = await fetch(url, { signal: AbortSignal.timeout(5_000) });
          });
        }
    """,
    "src/messages.ts: lock calls inside strings and comments": """
        // Note: we call lock.acquire() then lock.release() here
        const hint = "lock.acquire(); fs.unlink(lockPath)";
    """,
}


@pytest.mark.parametrize("case", list(QUIET_CODE), ids=[c.split(":")[0] for c in QUIET_CODE])
def test_quiet_on_correct_inline_code(case):
    path = case.split(":")[0]
    assert (
        scan(
            new_file_diff(path, QUIET_CODE[case]),
            ["tests/test_everything.py", "test/everything.test.ts", f"tests/test_{path.rsplit('/', 1)[-1]}"],
        )
        == []
    )


FIRING_CODE = [
    (
        "src/force.ts",
        """
        export async function forceRelease(lockPath: string) {
          await fs.rm(lockPath, { force: true });
        }
     """,
        {("force-release-without-owner-check", 2, "P1")},
    ),
    (
        "app/mirror.py",
        """
        def update(self):
            with self._state_lock:
                out = subprocess.check_output(
                    ["git", "fetch"],
                )
     """,
        {("lock-held-across-unbounded-await", 3, "P1")},
    ),
    (
        "src/run.ts",
        """
        async function run(lockPath: string) {
          await lock.acquire();
          try {
            const child = await execa("npm", ["test"]);
          } finally {
            lock.release();
          }
        }
     """,
        {("lock-held-across-unbounded-await", 4, "P1"), ("acquire-without-timeout", 2, "P2")},
    ),
    (
        "src/wait.ts",
        """
        export async function drain(queue: Queue) {
          await withQueueLock(queue, async () => {
            await new Promise((resolve) => queue.once("drain", resolve));
            execSync("sync");
          });
        }
     """,
        {("lock-held-across-unbounded-await", 3, "P1"), ("lock-held-across-unbounded-await", 4, "P1")},
    ),
    (
        "src/stop.js",
        """
        async function stop() {
          try { await fs.promises.unlink(lockPath) } catch {}
        }
     """,
        {("swallowed-release-error", 2, "P2")},
    ),
    (
        "app/stop.py",
        """
        def stop(lock_path):
            with contextlib.suppress(Exception):
                os.remove(lock_path)
     """,
        {("swallowed-release-error", 3, "P2")},
    ),
    (
        "app/touch.py",
        """
        def write_pid(lock_path):
            if not os.path.exists(lock_path):
                Path(lock_path).touch()
     """,
        {("check-then-create", 3, "P1")},
    ),
    (
        "app/plain.py",
        """
        def run(self):
            self._lock.acquire()
            self.step()
            self._lock.release()
     """,
        {("release-not-guaranteed", 4, "P1"), ("acquire-without-timeout", 2, "P2")},
    ),
]


@pytest.mark.parametrize(("path", "code", "expected"), FIRING_CODE, ids=[c[0] for c in FIRING_CODE])
def test_fires_on_inline_code(path, code, expected):
    found = {(f.rule, f.line, f.priority.value) for f in scan(new_file_diff(path, code), [f"tests/{path}"])}
    assert found == expected


def test_parser_pure_rename_and_mode_change_have_no_hunks():
    text = """\
diff --git a/src/old lock.ts b/src/new lock.ts
similarity index 100%
rename from src/old lock.ts
rename to src/new lock.ts
diff --git a/bin/run.py b/bin/run.py
old mode 100644
new mode 100755
"""
    renamed, mode = parse_unified_diff(text)
    assert (renamed.path, renamed.old_path, renamed.status, renamed.hunks) == (
        "src/new lock.ts",
        "src/old lock.ts",
        "renamed",
        [],
    )
    assert (mode.path, mode.status, mode.added_lines) == ("bin/run.py", "modified", [])
    assert scan([renamed, mode], []) == []


# tox-dev/filelock 03b0ab7 (#408), src/filelock/_unix.py: the sticky-bit fallback re-opens an
# existing lock file with O_CREAT cleared; `flags & ~os.O_CREAT` creates nothing, so no race
FILELOCK_CLEARED_O_CREAT = """\
diff --git a/src/filelock/_unix.py b/src/filelock/_unix.py
--- a/src/filelock/_unix.py
+++ b/src/filelock/_unix.py
@@ -42,9 +42,18 @@ else:  # pragma: win32 no cover
             o_nofollow = getattr(os, "O_NOFOLLOW", None)
             if o_nofollow is not None:
                 open_flags |= o_nofollow
-            if not Path(self.lock_file).exists():
-                open_flags |= os.O_CREAT
-            fd = os.open(self.lock_file, open_flags, self._context.mode)
+            open_flags |= os.O_CREAT
+            try:
+                fd = os.open(self.lock_file, open_flags, self._context.mode)
+            except PermissionError:
+                # Sticky-bit dirs (e.g. /tmp): O_CREAT fails if the file is owned by another user (#317).
+                # Fall back to opening the existing file without O_CREAT.
+                if not Path(self.lock_file).exists():
+                    raise
+                try:
+                    fd = os.open(self.lock_file, open_flags & ~os.O_CREAT, self._context.mode)
+                except FileNotFoundError:
+                    return
             with suppress(PermissionError):  # fchmod fails if the lock file is not owned by this UID
                 os.fchmod(fd, self._context.mode)
"""


@pytest.mark.parametrize(
    "cleared",
    ["open_flags & ~os.O_CREAT", "open_flags & ~(os.O_CREAT)", "open_flags & ~ os.O_CREAT", "~O_CREAT & open_flags"],
)
def test_check_then_create_ignores_an_open_that_clears_o_creat(cleared: str) -> None:
    diff = FILELOCK_CLEARED_O_CREAT.replace("open_flags & ~os.O_CREAT", cleared)
    rules = [f.rule for f in scan(parse_unified_diff(diff), ["tests/test_filelock.py"])]
    assert "check-then-create" not in rules


def test_check_then_create_still_fires_when_the_open_sets_o_creat() -> None:
    # the same hunk with the flag set instead of cleared is the race the rule is for
    diff = FILELOCK_CLEARED_O_CREAT.replace("open_flags & ~os.O_CREAT", "open_flags | os.O_CREAT")
    found = [
        (f.rule, f.priority)
        for f in scan(parse_unified_diff(diff), ["tests/test_filelock.py"])
        if f.priority <= Priority.P1
    ]
    assert found == [("check-then-create", Priority.P1)]
