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
                    budget_s: int = 300, confidence: float = 0.95) -> RepoWriter:
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
          confidence: {confidence}
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


NODE_BUGGY = dedent('''
    const fs = require("node:fs");

    class Busy extends Error {}
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

    async function create(path) {
      if (fs.existsSync(path)) throw new Busy(path);
      await sleep(200); // the window between the check and the create
      fs.writeFileSync(path, String(process.pid));
    }

    async function acquire(path, { wait = false } = {}) {
      if (!wait) return create(path);
      const deadline = Date.now() + 600;
      for (;;) { // wait for the holder, then take the lock
        try {
          return await create(path);
        } catch (error) {
          if (!(error instanceof Busy) || Date.now() > deadline) throw error;
          await sleep(50);
        }
      }
    }

    module.exports = { acquire, Busy };
''')
NODE_ATOMIC = '''
async function createAtomic(path) {
  try {
    fs.writeFileSync(path, String(process.pid), { flag: "wx" });
  } catch (error) {
    if (error.code === "EEXIST") throw new Busy(path);
    throw error;
  }
}
'''
NODE_FIXED = NODE_BUGGY.replace("return create(path)", "return createAtomic(path)").replace(
    "return await create(path)", "return await createAtomic(path)") + NODE_ATOMIC
NODE_PARTIAL = NODE_BUGGY.replace("if (!wait) return create(path);", "if (!wait) return createAtomic(path);") \
    + NODE_ATOMIC  # the waiting path still checks, then creates

NODE_CONTENDER = dedent('''
    // One competing process: waits for the shared start time, then tries the lock.
    const { acquire, Busy } = require("../racelock");

    const [path, wait, startAt] = process.argv.slice(2);
    setTimeout(async () => {
      try {
        await acquire(path, { wait: wait === "1" });
        console.log("held");
      } catch (error) {
        if (!(error instanceof Busy)) throw error;
        console.log("busy");
      }
    }, Math.max(0, Number(startAt) - Date.now()));
''')

NODE_TEST = dedent('''
    const test = require("node:test");
    const assert = require("node:assert");
    const fs = require("node:fs");
    const os = require("node:os");
    const path = require("node:path");
    const { spawn } = require("node:child_process");

    const COUNTER = ".race-counter";

    function contend(lock, wait, startAt) {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [path.join(__dirname, "contender.js"), lock, wait ? "1" : "0",
          String(startAt)], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        child.stdout.on("data", (chunk) => { out += chunk; });
        child.on("close", () => resolve(out.trim()));
      });
    }

    test("two processes never both hold the lock", async () => {
      const run = fs.existsSync(COUNTER) ? Number(fs.readFileSync(COUNTER, "utf8")) + 1 : 1;
      fs.writeFileSync(COUNTER, String(run));
      const wait = run % __WAIT__ === 0;
      const together = wait || run % __PERIOD__ === 0;
      const lock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "racelock-")), "state.lock");
      let held;
      if (together) {
        const startAt = Date.now() + 300;
        held = await Promise.all([contend(lock, wait, startAt), contend(lock, wait, startAt)]);
      } else { // one after the other: no contention, no race
        held = [await contend(lock, false, 0), await contend(lock, false, 0)];
      }
      assert.strictEqual(held.filter((h) => h === "held").length, 1, JSON.stringify(held));
    });
''')


def build_node_race_repo(root: Path, *, period: int, wait_period: int, max_runs: int, threshold: float,
                         budget_s: int = 300) -> RepoWriter:
    """The Node twin of `build_race_repo`: `node --test`, real child processes, a real lock file."""
    writer = RepoWriter(root)
    test = NODE_TEST.replace("__WAIT__", str(wait_period)).replace("__PERIOD__", str(period))
    config = dedent(f'''
        suites:
          - name: racelock contention
            run: node --test test/contention.test.js
            paths: ["racelock.js", "test/**"]
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
    writer.write({"racelock.js": NODE_BUGGY, ".gitignore": ".race-counter\n", ".github/reviewbot.yml": config,
                  "package.json": '{"name": "racelock", "version": "1.0.0", "private": true}\n'})
    writer.commit("A lock file for the state directory")
    for branch, code in (("fix", NODE_FIXED), ("partial", NODE_PARTIAL)):
        writer.branch(branch)
        writer.write({"racelock.js": code, "test/contention.test.js": test, "test/contender.js": NODE_CONTENDER})
        writer.commit(f"Create the lock file atomically ({branch})")
        writer.checkout("main")
    return writer
