"""A lock whose race shows on some runs only: real lock files, real competing processes.

`acquire()` on base checks for the lock file and then creates it, so two
processes that both pass the check both "hold" the lock. The regression test
starts two processes against one lock file; which scenario it contends comes
from a counter the test keeps in the worktree (it persists across repeats of a
side), so the race shows on a known share of runs and the fixture is
repeatable: every `period`-th run contends the plain path, every
`wait_period`-th run the waiting path. The fixed head uses O_CREAT|O_EXCL on
both paths; the "partial fix" only on the plain one.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from reviewbot.samples.repos import RepoWriter

BUGGY = dedent('''
    import os
    import time


    class Busy(Exception):
        pass


    def _create(path):
        if os.path.exists(path):
            raise Busy(path)
        time.sleep(0.2)  # the window between the check and the create
        with open(path, "w") as handle:
            handle.write(str(os.getpid()))


    def acquire(path, wait=False):
        if not wait:
            return _create(path)
        deadline = time.monotonic() + 0.6
        while True:  # wait for the holder, then take the lock
            try:
                return _create(path)
            except Busy:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
''')
ATOMIC = '''

def _create_atomic(path):
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        raise Busy(path) from None
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
'''
FIXED = BUGGY.replace("return _create(path)", "return _create_atomic(path)") + ATOMIC
PARTIAL = BUGGY.replace("if not wait:\n        return _create(path)", "if not wait:\n        return _create_atomic(path)") \
    + ATOMIC  # the waiting path still checks, then creates

TEST = dedent('''
    import multiprocessing
    from pathlib import Path

    from racelock import Busy, acquire

    COUNTER = Path(".race-counter")


    def _contend(path, wait, barrier, results):
        barrier.wait()
        try:
            acquire(path, wait=wait)
            results.put("held")
        except Busy:
            results.put("busy")


    def _run(path, wait, together):
        barrier = multiprocessing.Barrier(2 if together else 1)
        results = multiprocessing.Queue()
        held = []
        if together:
            workers = [multiprocessing.Process(target=_contend, args=(path, wait, barrier, results)) for _ in "ab"]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        else:  # one after the other: no contention, no race
            for _ in "ab":
                worker = multiprocessing.Process(target=_contend, args=(path, False, barrier, results))
                worker.start()
                worker.join()
        while not results.empty():
            held.append(results.get())
        return held


    def test_two_processes_never_both_hold_the_lock(tmp_path):
        run = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
        COUNTER.write_text(str(run))
        wait = run % __WAIT__ == 0
        together = wait or run % __PERIOD__ == 0
        held = _run(str(tmp_path / "state.lock"), wait, together)
        assert held.count("held") == 1, held
''')


def build_race_repo(root: Path, *, period: int, wait_period: int, max_runs: int, threshold: float,
                    budget_s: int = 300) -> RepoWriter:
    """Base fails every `period`-th run; branches `fix` (never fails) and `partial` (every `wait_period`-th)."""
    writer = RepoWriter(root)
    test = TEST.replace("__WAIT__", str(wait_period)).replace("__PERIOD__", str(period))
    config = dedent(f'''
        suites:
          - name: racelock contention
            run: python -m pytest -q -p no:cacheprovider tests/test_contention.py
            paths: ["racelock.py", "tests/**"]
            kind: integration
            repeat: 2
            timeout: 60
        changed_tests: off
        proof:
          confidence: 0.95
          max_runs: {max_runs}
          budget_s: {budget_s}
          threshold: {threshold}
    ''')
    writer.write({"racelock.py": BUGGY, ".gitignore": ".race-counter\n", ".github/reviewbot.yml": config,
                  "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n"})
    writer.commit("A lock file for the state directory")
    for branch, code in (("fix", FIXED), ("partial", PARTIAL)):
        writer.branch(branch)
        writer.write({"racelock.py": code, "tests/test_contention.py": test})
        writer.commit(f"Create the lock file atomically ({branch})")
        writer.checkout("main")
    return writer


SHARED_TEST = dedent('''
    import os
    import time

    from racelock import acquire

    LOCK = "/tmp/racelock-shared.lock"
    HOLDER = "/tmp/racelock-holder"


    def test_only_one_holder_at_a_time():
        acquire(LOCK, wait=True)
        try:
            with open(HOLDER, "w") as handle:
                handle.write(str(os.getpid()))
            time.sleep(0.4)
            with open(HOLDER) as handle:
                assert handle.read() == str(os.getpid()), "another process held the lock at the same time"
        finally:
            os.unlink(LOCK)
''')


def build_contention_repo(root: Path, *, copies: int) -> RepoWriter:
    """A race that needs a second process: idle, base passes; with `copies` >= 2 at once it fails.

    Every copy of the test takes one lock file in the sandbox's shared `/tmp`.
    """
    writer = RepoWriter(root)
    amplify = f"\n  amplify:\n    copies: {copies}\n    stressors: 1" if copies > 1 else ""
    config = dedent('''
        suites:
          - name: racelock regression
            run: python -m pytest -q -p no:cacheprovider tests/test_shared.py
            paths: ["racelock.py", "tests/**"]
            repeat: 2
            timeout: 60
        changed_tests: off
        proof:
          max_runs: 10
          threshold: 0.9''') + amplify + "\n"
    writer.write({"racelock.py": BUGGY.replace("deadline = time.monotonic() + 0.6", "deadline = time.monotonic() + 5")
                  .replace("time.sleep(0.2)  # the window", "time.sleep(0.5)  # the window"),
                  ".github/reviewbot.yml": config, "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n"})
    writer.commit("A lock file for the state directory")
    writer.branch("fix")
    writer.write({"racelock.py": FIXED.replace("deadline = time.monotonic() + 0.6", "deadline = time.monotonic() + 5"),
                  "tests/test_shared.py": SHARED_TEST})
    writer.commit("Create the lock file atomically")
    writer.checkout("main")
    return writer
