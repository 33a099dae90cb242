"""Small sample repositories for the test-suite, one per verdict path.

Each builder makes a real git repository at `root` from a file tree under
`tests/fixtures/repos/<name>/`: `base/` is committed on `main`, `pr/` on the PR
branch off it, then `_followup/` as one unrelated commit on `main` after the
branch point, so the merge-base is not main's tip. `PR_BODY.md`, where there
is one, is the PR description as a contributor wrote it (the review checks its
claims). A leading `dot_` in a path becomes `.` (`dot_github` -> `.github`), as
in `reviewbot/samples/`. `expected_verdict` is what a correct bot concludes.
Python fixtures run `python -m pytest` (the sandbox's python has pytest); Node
fixtures use `node --test` and no npm packages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewbot.samples.repos import BASE_BRANCH, CONTRIBUTOR, RepoWriter, SampleRepo

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
FOLLOWUP = FIXTURES / "_followup"
FLAKY_COUNTER = ".flaky-counter"  # node_flaky's run counter, git-ignored in its tree


@dataclass(frozen=True)
class Fixture:
    """What a tree does not say: its PR branch, the PR's title (also its commit message), the verdict."""

    name: str
    head: str
    title: str
    verdict: str
    description: str


def build(fixture: Fixture, root: Path) -> SampleRepo:
    """Commit `base/`, the PR (`pr/`) on its branch, and the follow-up on main; leaves main checked out."""
    tree = FIXTURES / fixture.name
    writer = RepoWriter(root)
    writer.copy_tree(tree / "base")
    writer.commit("Initial import")
    writer.branch(fixture.head)
    writer.copy_tree(tree / "pr")
    writer.commit(fixture.title, author=CONTRIBUTOR)
    writer.checkout(BASE_BRANCH)
    writer.copy_tree(FOLLOWUP)
    writer.commit("docs: unrelated follow-up on main")
    body = tree / "PR_BODY.md"
    return SampleRepo(
        path=Path(root),
        base=BASE_BRANCH,
        head=fixture.head,
        expected_verdict=fixture.verdict,
        description=fixture.description,
        title=fixture.title,
        body=body.read_text(encoding="utf-8") if body.is_file() else "",
    )


FIXTURE_LIST = [
    Fixture(
        "python_proven",
        "fix/lockfile-release-on-error",
        "Release the lock file when the body raises",
        "proven",
        "Python: locked() leaks <path>.lock when the body raises; fixed with try/finally; "
        "regression + real-filesystem tests added by the PR fail on base, pass on head.",
    ),
    Fixture(
        "node_weak",
        "fix/mutex-release-on-throw",
        "Release the mutex when the body throws",
        "weak",
        "Node: the PR fixes Mutex.runExclusive (release on throw) but its test only covers the "
        "happy path, which passes on base too.",
    ),
    Fixture(
        "python_fails",
        "fix/lockfile-release-on-oserror",
        "Release the lock file on I/O errors",
        "fails",
        "Python: the 'fix' only releases the lock on OSError; the PR's own test (a RuntimeError "
        "in the body) still leaks the lock, so it fails on head.",
    ),
    Fixture(
        "node_hangs_on_base",
        "fix/polling-lock-release-on-throw",
        "Release the polling lock when the body throws",
        "proven",
        "Node: on base the PR's test deadlocks (waits forever for a lock never released; a "
        "setInterval keeps node alive) until the 5 s suite timeout kills it; on head it passes. "
        "A hang on base counts as failing on base.",
    ),
    Fixture(
        "node_flaky",
        "fix/async-lock-release-on-throw",
        "Release the async lock when the body throws",
        "flaky",
        "Node: the fix releases on throw but leaves a check-then-set race. The PR's test picks "
        f"the interleaving from a run counter in {FLAKY_COUNTER} (working directory, git-ignored): "
        "on head repeats alternate fail, pass, fail; on base every run fails (200 ms acquire timeout).",
    ),
    Fixture(
        "python_test_dependency",
        "fix/stale-lock-dead-owner",
        "Treat a lock whose owner process is gone as stale",
        "proven",
        "Python: a lock owned by a dead pid is never considered stale; the PR adds a test that "
        "imports a helper module it also adds (tests/lock_helpers.py) and a dev dependency "
        "(pytest, in requirements-dev.txt). Base fails by assertion only when the helper is laid "
        "over too; otherwise it is a collection error.",
    ),
    Fixture(
        "python_no_config",
        "fix/pidlock-release-on-error",
        "Remove the pid file when the body raises",
        "proven",
        "Python, no .github/reviewbot.yml (pytest detected from pyproject/tests): PidLock keeps "
        "its pid file when the body raises; the PR's new test fails on base, passes on head. "
        "An existing test passes on both.",
    ),
    Fixture(
        "node_no_config",
        "fix/file-lock-release-on-throw",
        "Remove the lock file when the body throws",
        "proven",
        "Node, no .github/reviewbot.yml (package.json test script is `node --test`): withFileLock "
        "leaves <path>.lock behind when the body throws; the PR's new test fails on base, passes "
        "on head. An existing test passes on both.",
    ),
    Fixture(
        "no_tests",
        "fix/lockfile-release-on-error-untested",
        "Release the lock file when the body raises",
        "no_tests",
        "Python, no config: the PR only changes lockfile.py (adds try/finally) and adds or changes "
        "no tests; the existing test file is untouched, so there is nothing of the PR's to run.",
    ),
]
FIXTURES_BY_NAME = {fixture.name: fixture for fixture in FIXTURE_LIST}


def build_python_proven(root: Path) -> SampleRepo:
    return build(FIXTURES_BY_NAME["python_proven"], root)


def build_node_weak(root: Path) -> SampleRepo:
    return build(FIXTURES_BY_NAME["node_weak"], root)


def build_python_fails(root: Path) -> SampleRepo:
    return build(FIXTURES_BY_NAME["python_fails"], root)


def build_node_hangs_on_base(root: Path) -> SampleRepo:
    return build(FIXTURES_BY_NAME["node_hangs_on_base"], root)


def build_node_flaky(root: Path) -> SampleRepo:
    return build(FIXTURES_BY_NAME["node_flaky"], root)


def build_python_test_dependency(root: Path) -> SampleRepo:
    return build(FIXTURES_BY_NAME["python_test_dependency"], root)


def build_python_no_config(root: Path) -> SampleRepo:
    return build(FIXTURES_BY_NAME["python_no_config"], root)


def build_node_no_config(root: Path) -> SampleRepo:
    return build(FIXTURES_BY_NAME["node_no_config"], root)


def build_no_tests(root: Path) -> SampleRepo:
    return build(FIXTURES_BY_NAME["no_tests"], root)


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
