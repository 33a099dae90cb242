"""A lock whose race shows on some runs only: real lock files, real competing processes.

`acquire()` on base checks for the lock file and then creates it, so two
processes that both pass the check both "hold" the lock. The regression test
starts two processes against one lock file; which scenario it contends comes
from a counter the test keeps in the worktree (it persists across repeats of a
side), so the race shows on a known share of runs and the fixture is
repeatable: every `period`-th run contends the plain path, every
`wait_period`-th run the waiting path. The fixed head uses O_CREAT|O_EXCL on
both paths; the "partial fix" only on the plain one.

The files are trees under `tests/fixtures/repos/racelock/` and `.../contention/`
(`base/`, then one folder per branch); `templates/` holds the files a builder's
arguments fill in (`{name}` in the config, `__NAME__` in the test).
"""

from __future__ import annotations

from pathlib import Path

from reviewbot.samples.repos import RepoWriter

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
RACELOCK = FIXTURES / "racelock"
CONTENTION = FIXTURES / "contention"
RACELOCK_NODE = FIXTURES / "racelock_node"


def _template(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def build_race_repo(
    root: Path,
    *,
    period: int,
    wait_period: int,
    max_runs: int,
    threshold: float,
    budget_s: int = 300,
    confidence: float = 0.95,
) -> RepoWriter:
    """Base fails every `period`-th run; branches `fix` (never fails) and `partial` (every `wait_period`-th)."""
    writer = RepoWriter(root)
    test = (
        _template(RACELOCK / "templates" / "test_contention.py")
        .replace("__WAIT__", str(wait_period))
        .replace("__PERIOD__", str(period))
    )
    config = _template(RACELOCK / "templates" / "reviewbot.yml").format(
        max_runs=max_runs, budget_s=budget_s, threshold=threshold, confidence=confidence
    )
    writer.copy_tree(RACELOCK / "base")
    writer.write({".github/reviewbot.yml": config})
    writer.commit("A lock file for the state directory")
    for branch in ("fix", "partial"):
        writer.branch(branch)
        writer.copy_tree(RACELOCK / branch)
        writer.write({"tests/test_contention.py": test})
        writer.commit(f"Create the lock file atomically ({branch})")
        writer.checkout("main")
    return writer


def build_contention_repo(root: Path, *, copies: int) -> RepoWriter:
    """A race that needs a second process: idle, base passes; with `copies` >= 2 at once it fails.

    Every copy of the test takes one lock file in the sandbox's shared `/tmp`.
    """
    writer = RepoWriter(root)
    amplify = f"\n  amplify:\n    copies: {copies}\n    stressors: 1" if copies > 1 else ""
    writer.copy_tree(CONTENTION / "base")
    writer.write(
        {".github/reviewbot.yml": _template(CONTENTION / "templates" / "reviewbot.yml").format(amplify=amplify)}
    )
    writer.commit("A lock file for the state directory")
    writer.branch("fix")
    writer.copy_tree(CONTENTION / "fix")
    writer.commit("Create the lock file atomically")
    writer.checkout("main")
    return writer


def build_node_race_repo(
    root: Path, *, period: int, wait_period: int, max_runs: int, threshold: float, budget_s: int = 300
) -> RepoWriter:
    """The Node twin of `build_race_repo` (`tests/fixtures/repos/racelock_node/`): `node --test`, real
    child processes racing for a real lock file."""
    writer = RepoWriter(root)
    test = (
        _template(RACELOCK_NODE / "templates" / "contention.test.js")
        .replace("__WAIT__", str(wait_period))
        .replace("__PERIOD__", str(period))
    )
    config = _template(RACELOCK_NODE / "templates" / "reviewbot.yml").format(
        max_runs=max_runs, budget_s=budget_s, threshold=threshold
    )
    writer.copy_tree(RACELOCK_NODE / "base")
    writer.write({".github/reviewbot.yml": config})
    writer.commit("A lock file for the state directory")
    for branch in ("fix", "partial"):
        writer.branch(branch)
        writer.copy_tree(RACELOCK_NODE / branch)
        writer.write({"test/contention.test.js": test})
        writer.commit(f"Create the lock file atomically ({branch})")
        writer.checkout("main")
    return writer
