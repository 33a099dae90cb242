"""Small sample repositories for the test-suite, one per verdict path.

Each builder makes a real git repository at `root`: `main` (the base), a PR
branch off it, and one unrelated commit on `main` after the branch point, so
the merge-base is not main's tip. `expected_verdict` is what a correct bot
concludes. Python fixtures run `python -m pytest` (the sandbox's python has
pytest); Node fixtures use `node --test` and no npm packages.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from reviewbot.samples.repos import BASE_BRANCH, RepoWriter, SampleRepo


def _d(text: str) -> str:
    return dedent(text).lstrip("\n")


def _sample(root: Path, head: str, verdict: str, description: str, title: str = "", body: str = "") -> SampleRepo:
    return SampleRepo(
        path=Path(root), base=BASE_BRANCH, head=head, expected_verdict=verdict, description=description, title=title,
        body=body,
    )


# PR descriptions as contributors write them: the review checks their claims against what it runs.
BODY_PYTHON_PROVEN = _d(
    """
    ## Summary

    `locked()` left `<path>.lock` behind when the body raised, so the next caller waited forever.
    The release now happens in `finally`.

    ## Real behavior proof

    Reproduced on `main`: after a `RuntimeError` inside `locked()`, the lock file stays and a second
    `locked()` call times out.

    ## Test plan

    - [x] `python -m pytest -q -p no:cacheprovider tests/test_lockfile.py`: 1 passed
    - [x] `python -m pytest -q -p no:cacheprovider tests/test_lockfile_integration.py`: 2/2 pass

    ## What was not tested

    NFS mounts.
    """
)
BODY_PYTHON_FAILS = _d(
    """
    Release the lock file on I/O errors.

    **Test plan**

    ```sh
    python -m pytest -q -p no:cacheprovider tests/test_lockfile.py
    ```

    All tests pass.
    """
)
BODY_NODE_WEAK = _d(
    """
    ### Summary
    `Mutex.runExclusive` now releases when the body throws.

    ### Testing
    `node --test test/mutex.test.mjs` → 1/1 pass

    <img width="600" alt="second caller no longer hangs" src="https://github.com/user-attachments/assets/0f8e0c1e-1111-4222-8333-944455556666">
    """
)


PYPROJECT = _d(
    """
    [project]
    name = "locky"
    version = "0.1.0"
    requires-python = ">=3.9"

    [tool.pytest.ini_options]
    pythonpath = ["."]
    """
)

PACKAGE_JSON = _d(
    """
    {
      "name": "locky",
      "version": "0.1.0",
      "private": true,
      "type": "module",
      "scripts": {
        "test": "node --test"
      }
    }
    """
)

GITIGNORE_PY = "__pycache__/\n.pytest_cache/\n"
GITIGNORE_NODE = "node_modules/\n"

FOLLOWUP = {"CHANGELOG.md": "# Changelog\n\n## Unreleased\n\n- Docs: describe the lock file format.\n"}


def _pytest_suite(name: str, test_file: str, kind: str = "regression", *, paths: str, timeout: int = 60) -> str:
    return (
        f"  - name: {name}\n"
        f"    run: python -m pytest -q -p no:cacheprovider {test_file}\n"
        f"    paths: {paths}\n"
        f"    kind: {kind}\n"
        f"    timeout: {timeout}\n"
    )


# -- Python lock file module, buggy and fixed -------------------------------------------

LOCKFILE_BUGGY = _d(
    '''
    """A lock file next to the guarded file: `<path>.lock`, created with O_EXCL."""

    import contextlib
    import os
    import time


    class LockTimeout(TimeoutError):
        """The lock stayed held for the whole timeout."""


    def acquire(path, timeout=5.0, poll=0.01):
        """Create `<path>.lock` (holding our pid); retry until `timeout` seconds."""
        lock = f"{path}.lock"
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"{lock} is held") from None
                time.sleep(poll)
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\\n")
            return lock


    def release(lock):
        try:
            os.unlink(lock)
        except FileNotFoundError:
            pass


    @contextlib.contextmanager
    def locked(path, timeout=5.0):
        """Hold the lock on `path` for the body of a `with` block."""
        lock = acquire(path, timeout)
        yield lock
        release(lock)
    '''
)

LOCKFILE_FIXED = LOCKFILE_BUGGY.replace(
    "    lock = acquire(path, timeout)\n    yield lock\n    release(lock)\n",
    "    lock = acquire(path, timeout)\n    try:\n        yield lock\n    finally:\n        release(lock)\n",
)

# A "fix" that only releases on OSError: a body raising anything else still leaks the lock.
LOCKFILE_NOT_FIXED = LOCKFILE_BUGGY.replace(
    "    lock = acquire(path, timeout)\n    yield lock\n    release(lock)\n",
    "    lock = acquire(path, timeout)\n    try:\n        yield lock\n    except OSError:\n"
    "        release(lock)\n        raise\n    release(lock)\n",
)
assert LOCKFILE_FIXED != LOCKFILE_BUGGY and LOCKFILE_NOT_FIXED != LOCKFILE_BUGGY

LOCKFILE_REGRESSION_TEST = _d(
    """
    import pytest

    import lockfile


    def test_lock_released_when_body_raises(tmp_path):
        target = tmp_path / "state.json"
        with pytest.raises(RuntimeError):
            with lockfile.locked(target):
                raise RuntimeError("boom")
        # Held forever without the fix: a short timeout fails fast instead of hanging.
        with lockfile.locked(target, timeout=0.2):
            pass
    """
)

LOCKFILE_INTEGRATION_TEST = _d(
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    import pytest

    import lockfile

    ROOT = Path(__file__).resolve().parents[1]


    def test_lock_file_is_gone_from_disk_after_error(tmp_path):
        target = tmp_path / "state.json"
        with pytest.raises(ValueError):
            with lockfile.locked(target) as lock:
                assert os.path.exists(lock)
                raise ValueError("bad state")
        assert not os.path.exists(f"{target}.lock")


    def test_another_process_can_take_the_lock_after_error(tmp_path):
        target = tmp_path / "state.json"
        with pytest.raises(KeyError):
            with lockfile.locked(target):
                raise KeyError("missing")
        code = "import sys, lockfile; lockfile.release(lockfile.acquire(sys.argv[1], timeout=0.3))"
        result = subprocess.run(
            [sys.executable, "-c", code, str(target)], cwd=ROOT, capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
    """
)


def build_python_proven(root: Path) -> SampleRepo:
    head = "fix/lockfile-release-on-error"
    config = "suites:\n" + _pytest_suite(
        "lockfile regression", "tests/test_lockfile.py", paths='["lockfile.py", "tests/**"]'
    ) + _pytest_suite(
        "lockfile real-fs integration",
        "tests/test_lockfile_integration.py",
        "integration",
        paths='["lockfile.py", "tests/**"]',
    )
    writer = RepoWriter(root)
    writer.pull_request(
        head=head,
        base_files={
            "pyproject.toml": PYPROJECT,
            ".gitignore": GITIGNORE_PY,
            "README.md": "# locky\n\n`lockfile.locked(path)` guards a file with `<path>.lock`.\n",
            "lockfile.py": LOCKFILE_BUGGY,
            ".github/reviewbot.yml": config,
        },
        pr_files={
            "lockfile.py": LOCKFILE_FIXED,
            "tests/test_lockfile.py": LOCKFILE_REGRESSION_TEST,
            "tests/test_lockfile_integration.py": LOCKFILE_INTEGRATION_TEST,
        },
        pr_message="Release the lock file when the body raises",
        followup_files=FOLLOWUP,
    )
    return _sample(
        root,
        head,
        "proven",
        "Python: locked() leaks <path>.lock when the body raises; fixed with try/finally; "
        "regression + real-filesystem tests added by the PR fail on base, pass on head.",
        "Release the lock file when the body raises",
        BODY_PYTHON_PROVEN,
    )


def build_python_fails(root: Path) -> SampleRepo:
    head = "fix/lockfile-release-on-oserror"
    config = "suites:\n" + _pytest_suite(
        "lockfile regression", "tests/test_lockfile.py", paths='["lockfile.py", "tests/**"]'
    )
    writer = RepoWriter(root)
    writer.pull_request(
        head=head,
        base_files={
            "pyproject.toml": PYPROJECT,
            ".gitignore": GITIGNORE_PY,
            "lockfile.py": LOCKFILE_BUGGY,
            ".github/reviewbot.yml": config,
        },
        pr_files={"lockfile.py": LOCKFILE_NOT_FIXED, "tests/test_lockfile.py": LOCKFILE_REGRESSION_TEST},
        pr_message="Release the lock file on I/O errors",
        followup_files=FOLLOWUP,
    )
    return _sample(
        root,
        head,
        "fails",
        "Python: the 'fix' only releases the lock on OSError; the PR's own test (a RuntimeError "
        "in the body) still leaks the lock, so it fails on head.",
        "Release the lock file on I/O errors",
        BODY_PYTHON_FAILS,
    )


# -- Python: stale lock detection, with a test helper and a dev dependency ----------------

STALE_LOCK_BUGGY = _d(
    '''
    """Lock files that name their owner's pid; a lock whose owner is gone is stale."""

    import os
    import time


    def owner_alive(pid):
        try:
            os.kill(pid, 0)
        except OSError:
            return True  # cannot tell: assume alive
        return True


    def is_stale(lock):
        try:
            with open(lock) as fh:
                pid = int(fh.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            return False
        return pid > 0 and not owner_alive(pid)


    def acquire(path, timeout=5.0, poll=0.01):
        lock = f"{path}.lock"
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if is_stale(lock):
                    os.unlink(lock)
                    continue
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"{lock} is held")
                time.sleep(poll)
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\\n")
            return lock
    '''
)

STALE_LOCK_FIXED = STALE_LOCK_BUGGY.replace(
    "    except OSError:\n        return True  # cannot tell: assume alive\n",
    "    except ProcessLookupError:\n        return False\n    except PermissionError:\n"
    "        return True  # exists, owned by another user\n",
)
assert STALE_LOCK_FIXED != STALE_LOCK_BUGGY

LOCK_HELPERS = _d(
    '''
    """Helpers for lock tests: make locks owned by processes that no longer exist."""

    import subprocess
    import sys


    def dead_pid():
        """The pid of a process that has exited (and been reaped)."""
        child = subprocess.Popen([sys.executable, "-c", "pass"])
        child.wait()
        return child.pid


    def write_lock(lock_path, pid):
        with open(lock_path, "w") as fh:
            fh.write(f"{pid}\\n")
        return lock_path
    '''
)

STALE_LOCK_TEST = _d(
    """
    import os

    from lock_helpers import dead_pid, write_lock

    import stale_lock


    def test_lock_of_a_dead_process_is_stale(tmp_path):
        lock = write_lock(tmp_path / "db.lock", dead_pid())
        assert stale_lock.is_stale(lock)


    def test_acquire_reclaims_a_dead_process_lock(tmp_path):
        write_lock(tmp_path / "db.lock", dead_pid())
        lock = stale_lock.acquire(tmp_path / "db", timeout=0.2)
        with open(lock) as fh:
            assert int(fh.read()) == os.getpid()


    def test_lock_of_a_live_process_is_not_stale(tmp_path):
        lock = write_lock(tmp_path / "db.lock", os.getpid())
        assert not stale_lock.is_stale(lock)
    """
)


def build_python_test_dependency(root: Path) -> SampleRepo:
    head = "fix/stale-lock-dead-owner"
    config = "suites:\n" + _pytest_suite(
        "stale lock regression", "tests/test_stale_lock.py", paths='["stale_lock.py", "tests/**"]'
    )
    writer = RepoWriter(root)
    writer.pull_request(
        head=head,
        base_files={
            "pyproject.toml": PYPROJECT.replace('pythonpath = ["."]', 'pythonpath = [".", "tests"]'),
            ".gitignore": GITIGNORE_PY,
            "requirements-dev.txt": "# Development dependencies: pip install -r requirements-dev.txt\n",
            "stale_lock.py": STALE_LOCK_BUGGY,
            ".github/reviewbot.yml": config,
        },
        pr_files={
            "stale_lock.py": STALE_LOCK_FIXED,
            "tests/lock_helpers.py": LOCK_HELPERS,
            "tests/test_stale_lock.py": STALE_LOCK_TEST,
            "requirements-dev.txt": "# Development dependencies: pip install -r requirements-dev.txt\npytest>=7.0\n",
        },
        pr_message="Treat a lock whose owner process is gone as stale",
        followup_files=FOLLOWUP,
    )
    return _sample(
        root,
        head,
        "proven",
        "Python: a lock owned by a dead pid is never considered stale; the PR adds a test that "
        "imports a helper module it also adds (tests/lock_helpers.py) and a dev dependency "
        "(pytest, in requirements-dev.txt). Base fails by assertion only when the helper is laid "
        "over too; otherwise it is a collection error.",
        "Treat a lock whose owner process is gone as stale",
    )


# -- Python without config --------------------------------------------------------------

PIDLOCK_BUGGY = _d(
    '''
    """A pid lock file as a context manager."""

    import os


    class PidLock:
        def __init__(self, path):
            self.path = f"{path}.pid"

        def __enter__(self):
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\\n")
            return self

        def __exit__(self, exc_type, exc, tb):
            if exc_type is not None:
                return False  # propagate the error
            os.unlink(self.path)
            return False
    '''
)

PIDLOCK_FIXED = PIDLOCK_BUGGY.replace(
    "        if exc_type is not None:\n            return False  # propagate the error\n"
    "        os.unlink(self.path)\n",
    "        try:\n            os.unlink(self.path)\n        except FileNotFoundError:\n            pass\n",
)
assert PIDLOCK_FIXED != PIDLOCK_BUGGY

PIDLOCK_BASIC_TEST = _d(
    """
    import os

    from pidlock import PidLock


    def test_pid_file_holds_our_pid(tmp_path):
        with PidLock(tmp_path / "daemon") as lock:
            with open(lock.path) as fh:
                assert int(fh.read()) == os.getpid()
        assert not os.path.exists(lock.path)
    """
)

PIDLOCK_RELEASE_TEST = _d(
    """
    import os

    import pytest

    from pidlock import PidLock


    def test_pid_file_removed_when_body_raises(tmp_path):
        lock = PidLock(tmp_path / "daemon")
        with pytest.raises(RuntimeError):
            with lock:
                raise RuntimeError("crash")
        assert not os.path.exists(lock.path)
        with PidLock(tmp_path / "daemon"):
            pass
    """
)


def build_python_no_config(root: Path) -> SampleRepo:
    head = "fix/pidlock-release-on-error"
    writer = RepoWriter(root)
    writer.pull_request(
        head=head,
        base_files={
            "pyproject.toml": PYPROJECT,
            ".gitignore": GITIGNORE_PY,
            "pidlock.py": PIDLOCK_BUGGY,
            "tests/test_pidlock.py": PIDLOCK_BASIC_TEST,
        },
        pr_files={"pidlock.py": PIDLOCK_FIXED, "tests/test_pidlock_release.py": PIDLOCK_RELEASE_TEST},
        pr_message="Remove the pid file when the body raises",
        followup_files=FOLLOWUP,
    )
    return _sample(
        root,
        head,
        "proven",
        "Python, no .github/reviewbot.yml (pytest detected from pyproject/tests): PidLock keeps "
        "its pid file when the body raises; the PR's new test fails on base, passes on head. "
        "An existing test passes on both.",
        "Remove the pid file when the body raises",
    )


def build_no_tests(root: Path) -> SampleRepo:
    head = "fix/lockfile-release-on-error-untested"
    writer = RepoWriter(root)
    writer.pull_request(
        head=head,
        base_files={
            "pyproject.toml": PYPROJECT,
            ".gitignore": GITIGNORE_PY,
            "lockfile.py": LOCKFILE_BUGGY,
            "tests/test_lockfile_basic.py": _d(
                """
                import os

                import lockfile


                def test_lock_file_exists_while_held(tmp_path):
                    with lockfile.locked(tmp_path / "f") as lock:
                        assert os.path.exists(lock)
                    assert not os.path.exists(lock)
                """
            ),
        },
        pr_files={"lockfile.py": LOCKFILE_FIXED},
        pr_message="Release the lock file when the body raises",
        followup_files=FOLLOWUP,
    )
    return _sample(
        root,
        head,
        "no_tests",
        "Python, no config: the PR only changes lockfile.py (adds try/finally) and adds or changes "
        "no tests; the existing test file is untouched, so there is nothing of the PR's to run.",
        "Release the lock file when the body raises",
    )


# -- Node fixtures -------------------------------------------------------------------

MUTEX_BUGGY = _d(
    """
    // A promise-based mutex.
    export class Mutex {
      #locked = false;
      #waiters = [];

      get locked() {
        return this.#locked;
      }

      async acquire() {
        if (!this.#locked) {
          this.#locked = true;
          return;
        }
        await new Promise((resolve) => this.#waiters.push(resolve));
      }

      release() {
        const next = this.#waiters.shift();
        if (next) next();
        else this.#locked = false;
      }

      async runExclusive(fn) {
        await this.acquire();
        const result = await fn();
        this.release();
        return result;
      }
    }
    """
)

MUTEX_FIXED = MUTEX_BUGGY.replace(
    "    await this.acquire();\n    const result = await fn();\n    this.release();\n    return result;\n",
    "    await this.acquire();\n    try {\n      return await fn();\n    } finally {\n      this.release();\n    }\n",
)
assert MUTEX_FIXED != MUTEX_BUGGY

MUTEX_HAPPY_PATH_TEST = _d(
    """
    import assert from 'node:assert/strict';
    import { test } from 'node:test';

    import { Mutex } from '../src/mutex.mjs';

    test('runExclusive runs bodies one at a time, in order', async () => {
      const mutex = new Mutex();
      const order = [];
      const body = (name) => async () => {
        order.push(`${name}:start`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(`${name}:end`);
        return name;
      };
      const results = await Promise.all([mutex.runExclusive(body('a')), mutex.runExclusive(body('b'))]);
      assert.deepEqual(results, ['a', 'b']);
      assert.deepEqual(order, ['a:start', 'a:end', 'b:start', 'b:end']);
      assert.equal(mutex.locked, false);
    });
    """
)


def _node_config(name: str, test_file: str, *, timeout: int = 60, repeat: int = 1) -> str:
    return _d(
        f"""
        suites:
          - name: {name}
            run: node --test {test_file}
            paths: ["src/**", "test/**"]
            kind: regression
            timeout: {timeout}
            repeat: {repeat}
        """
    )


def build_node_weak(root: Path) -> SampleRepo:
    head = "fix/mutex-release-on-throw"
    writer = RepoWriter(root)
    writer.pull_request(
        head=head,
        base_files={
            "package.json": PACKAGE_JSON,
            ".gitignore": GITIGNORE_NODE,
            "src/mutex.mjs": MUTEX_BUGGY,
            ".github/reviewbot.yml": _node_config("mutex regression", "test/mutex.test.mjs"),
        },
        pr_files={"src/mutex.mjs": MUTEX_FIXED, "test/mutex.test.mjs": MUTEX_HAPPY_PATH_TEST},
        pr_message="Release the mutex when the body throws",
        followup_files=FOLLOWUP,
    )
    return _sample(
        root,
        head,
        "weak",
        "Node: the PR fixes Mutex.runExclusive (release on throw) but its test only covers the "
        "happy path, which passes on base too.",
        "Release the mutex when the body throws",
        BODY_NODE_WEAK,
    )


POLLING_LOCK_BUGGY = _d(
    """
    // An in-process lock whose waiters poll until it is free.
    export class PollingLock {
      #held = false;

      acquire() {
        if (!this.#held) {
          this.#held = true;
          return Promise.resolve();
        }
        return new Promise((resolve) => {
          const timer = setInterval(() => {
            if (!this.#held) {
              clearInterval(timer);
              this.#held = true;
              resolve();
            }
          }, 10);
        });
      }

      release() {
        this.#held = false;
      }
    }

    export async function withLock(lock, fn) {
      await lock.acquire();
      const result = await fn();
      lock.release();
      return result;
    }
    """
)

POLLING_LOCK_FIXED = POLLING_LOCK_BUGGY.replace(
    "  await lock.acquire();\n  const result = await fn();\n  lock.release();\n  return result;\n",
    "  await lock.acquire();\n  try {\n    return await fn();\n  } finally {\n    lock.release();\n  }\n",
)
assert POLLING_LOCK_FIXED != POLLING_LOCK_BUGGY

POLLING_LOCK_TEST = _d(
    """
    import assert from 'node:assert/strict';
    import { test } from 'node:test';

    import { PollingLock, withLock } from '../src/polling-lock.mjs';

    test('withLock releases the lock when the body throws', async () => {
      const lock = new PollingLock();
      await assert.rejects(withLock(lock, async () => { throw new Error('boom'); }), /boom/);
      // Without the fix this waits forever: the lock is never released and the
      // waiter's setInterval keeps node alive (a deadlock, not a quick failure).
      const value = await withLock(lock, async () => 42);
      assert.equal(value, 42);
    });
    """
)


def build_node_hangs_on_base(root: Path) -> SampleRepo:
    head = "fix/polling-lock-release-on-throw"
    writer = RepoWriter(root)
    writer.pull_request(
        head=head,
        base_files={
            "package.json": PACKAGE_JSON,
            ".gitignore": GITIGNORE_NODE,
            "src/polling-lock.mjs": POLLING_LOCK_BUGGY,
            ".github/reviewbot.yml": _node_config("polling lock regression", "test/polling-lock.test.mjs", timeout=5),
        },
        pr_files={"src/polling-lock.mjs": POLLING_LOCK_FIXED, "test/polling-lock.test.mjs": POLLING_LOCK_TEST},
        pr_message="Release the polling lock when the body throws",
        followup_files=FOLLOWUP,
    )
    return _sample(
        root,
        head,
        "proven",
        "Node: on base the PR's test deadlocks (waits forever for a lock never released; a "
        "setInterval keeps node alive) until the 5 s suite timeout kills it; on head it passes. "
        "A hang on base counts as failing on base.",
        "Release the polling lock when the body throws",
    )


ASYNC_LOCK_BUGGY = _d(
    """
    // An in-process async lock.
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

    export class AsyncLock {
      #held = false;

      async acquire({ timeoutMs = 5000 } = {}) {
        const deadline = Date.now() + timeoutMs;
        while (this.#held) {
          if (Date.now() >= deadline) throw new Error(`lock not acquired within ${timeoutMs} ms`);
          await sleep(1);
        }
        this.#held = true;
      }

      release() {
        this.#held = false;
      }

      async runExclusive(fn, options) {
        await this.acquire(options);
        const result = await fn();
        this.release();
        return result;
      }
    }
    """
)

# Fixes the release-on-throw bug, but adds a yield between the check and the set:
# two acquirers that start in the same tick both get the lock.
ASYNC_LOCK_RACY = ASYNC_LOCK_BUGGY.replace(
    "      await sleep(1);\n    }\n    this.#held = true;\n",
    "      await sleep(1);\n    }\n    await Promise.resolve(); // let pending writers flush first\n"
    "    this.#held = true;\n",
).replace(
    "    await this.acquire(options);\n    const result = await fn();\n    this.release();\n    return result;\n",
    "    await this.acquire(options);\n    try {\n      return await fn();\n    } finally {\n      this.release();\n    }\n",
)
assert ASYNC_LOCK_RACY.count("try {") == 1 and "Promise.resolve()" in ASYNC_LOCK_RACY

FLAKY_COUNTER = ".flaky-counter"

ASYNC_LOCK_RACE_TEST = _d(
    """
    import assert from 'node:assert/strict';
    import { existsSync, readFileSync, writeFileSync } from 'node:fs';
    import { test } from 'node:test';

    import { AsyncLock } from '../src/async-lock.mjs';

    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

    // Which interleaving this run gets stands in for a scheduler race, made
    // deterministic: a run counter in the working directory alternates it
    // (first run: contenders start in the same tick; second run: staggered; ...).
    function nextRun() {
      const file = '.flaky-counter';
      const run = existsSync(file) ? Number(readFileSync(file, 'utf8')) || 0 : 0;
      writeFileSync(file, `${run + 1}\\n`);
      return run;
    }

    test('runExclusive: released after a throw, and never two holders at once', async () => {
      const run = nextRun();
      const lock = new AsyncLock();
      await assert.rejects(lock.runExclusive(async () => { throw new Error('boom'); }), /boom/);

      let inside = 0;
      let most = 0;
      const body = async () => {
        inside += 1;
        most = Math.max(most, inside);
        await sleep(5);
        inside -= 1;
      };
      const options = { timeoutMs: 200 };
      if (run % 2 === 0) {
        await Promise.all([lock.runExclusive(body, options), lock.runExclusive(body, options)]);
      } else {
        let settled = false;
        const first = lock.runExclusive(body, options).finally(() => { settled = true; });
        while (inside === 0 && !settled) await sleep(1);
        await Promise.all([first, lock.runExclusive(body, options)]);
      }
      assert.equal(most, 1, `two holders at once (run ${run})`);
    });
    """
)


def build_node_flaky(root: Path) -> SampleRepo:
    head = "fix/async-lock-release-on-throw"
    writer = RepoWriter(root)
    writer.pull_request(
        head=head,
        base_files={
            "package.json": PACKAGE_JSON,
            ".gitignore": GITIGNORE_NODE + FLAKY_COUNTER + "\n",
            "src/async-lock.mjs": ASYNC_LOCK_BUGGY,
            ".github/reviewbot.yml": _node_config("async lock race", "test/async-lock.test.mjs", repeat=3),
        },
        pr_files={"src/async-lock.mjs": ASYNC_LOCK_RACY, "test/async-lock.test.mjs": ASYNC_LOCK_RACE_TEST},
        pr_message="Release the async lock when the body throws",
        followup_files=FOLLOWUP,
    )
    return _sample(
        root,
        head,
        "flaky",
        "Node: the fix releases on throw but leaves a check-then-set race. The PR's test picks "
        f"the interleaving from a run counter in {FLAKY_COUNTER} (working directory, git-ignored): "
        "on head repeats alternate fail, pass, fail; on base every run fails (200 ms acquire timeout).",
        "Release the async lock when the body throws",
    )


FILE_LOCK_BUGGY = _d(
    """
    // A lock file `<path>.lock`, created atomically, for the duration of fn.
    import { open, rm } from 'node:fs/promises';

    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

    export async function acquire(path, { timeoutMs = 5000 } = {}) {
      const lockPath = `${path}.lock`;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const fh = await open(lockPath, 'wx');
          await fh.writeFile(`${process.pid}\\n`);
          await fh.close();
          return lockPath;
        } catch (err) {
          if (err.code !== 'EEXIST') throw err;
        }
        if (Date.now() >= deadline) throw new Error(`timed out waiting for ${lockPath}`);
        await sleep(10);
      }
    }

    export async function withFileLock(path, fn, options) {
      const lockPath = await acquire(path, options);
      const result = await fn();
      await rm(lockPath, { force: true });
      return result;
    }
    """
)

FILE_LOCK_FIXED = FILE_LOCK_BUGGY.replace(
    "  const result = await fn();\n  await rm(lockPath, { force: true });\n  return result;\n",
    "  try {\n    return await fn();\n  } finally {\n    await rm(lockPath, { force: true });\n  }\n",
)
assert FILE_LOCK_FIXED != FILE_LOCK_BUGGY

FILE_LOCK_BASIC_TEST = _d(
    """
    import assert from 'node:assert/strict';
    import { existsSync } from 'node:fs';
    import { mkdtemp, rm } from 'node:fs/promises';
    import { tmpdir } from 'node:os';
    import { join } from 'node:path';
    import { test } from 'node:test';

    import { withFileLock } from '../src/file-lock.mjs';

    test('the lock file exists while held and is removed after', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'file-lock-'));
      try {
        const target = join(dir, 'state.json');
        await withFileLock(target, async () => assert.ok(existsSync(`${target}.lock`)));
        assert.equal(existsSync(`${target}.lock`), false);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
    """
)

FILE_LOCK_RELEASE_TEST = _d(
    """
    import assert from 'node:assert/strict';
    import { existsSync } from 'node:fs';
    import { mkdtemp, rm } from 'node:fs/promises';
    import { tmpdir } from 'node:os';
    import { join } from 'node:path';
    import { test } from 'node:test';

    import { withFileLock } from '../src/file-lock.mjs';

    test('the lock file is removed when the body throws', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'file-lock-'));
      try {
        const target = join(dir, 'state.json');
        await assert.rejects(withFileLock(target, async () => { throw new Error('boom'); }), /boom/);
        assert.equal(existsSync(`${target}.lock`), false, 'lock file left behind');
        await withFileLock(target, async () => {}, { timeoutMs: 200 });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
    """
)


def build_node_no_config(root: Path) -> SampleRepo:
    head = "fix/file-lock-release-on-throw"
    writer = RepoWriter(root)
    writer.pull_request(
        head=head,
        base_files={
            "package.json": PACKAGE_JSON,
            ".gitignore": GITIGNORE_NODE,
            "src/file-lock.mjs": FILE_LOCK_BUGGY,
            "test/file-lock.test.mjs": FILE_LOCK_BASIC_TEST,
        },
        pr_files={"src/file-lock.mjs": FILE_LOCK_FIXED, "test/file-lock-release.test.mjs": FILE_LOCK_RELEASE_TEST},
        pr_message="Remove the lock file when the body throws",
        followup_files=FOLLOWUP,
    )
    return _sample(
        root,
        head,
        "proven",
        "Node, no .github/reviewbot.yml (package.json test script is `node --test`): withFileLock "
        "leaves <path>.lock behind when the body throws; the PR's new test fails on base, passes "
        "on head. An existing test passes on both.",
        "Remove the lock file when the body throws",
    )


ALL_BUILDERS = {
    "python_proven": build_python_proven,
    "node_weak": build_node_weak,
    "python_fails": build_python_fails,
    "node_hangs_on_base": build_node_hangs_on_base,
    "node_flaky": build_node_flaky,
    "python_test_dependency": build_python_test_dependency,
    "python_no_config": build_python_no_config,
    "node_no_config": build_node_no_config,
    "no_tests": build_no_tests,
}
