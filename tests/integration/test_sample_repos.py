"""The sample repositories themselves: git facts, and (for some) that their tests
really fail on base+PR-tests and pass on head.

This checks the fixtures, not the bot: the runs here are plain subprocesses in
git worktrees, no sandbox.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from reviewbot.proof.changes import is_test_path
from reviewbot.repo_config import CONFIG_PATH, parse_config
from reviewbot.samples.repos import SampleRepo
from reviewbot.samples.session_lock import build_session_lock_demo
from tests.repos import ALL_BUILDERS, FLAKY_COUNTER

BUILDERS = {"session_lock_demo": build_session_lock_demo, **ALL_BUILDERS}
VERDICTS = {"proven", "weak", "fails", "timeout", "flaky", "no_tests", "error"}

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")


# -- helpers ------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def merge_base(sample: SampleRepo) -> str:
    return git(sample.path, "merge-base", sample.base, sample.head)


def pr_changes(sample: SampleRepo) -> dict[str, str]:
    """path -> status letter (A, M, D, ...) of the PR against the merge-base."""
    out = git(sample.path, "diff", "--name-status", "--no-renames", merge_base(sample), sample.head)
    return {line.split("\t", 1)[1]: line.split("\t", 1)[0] for line in out.splitlines()}


def pr_test_files(sample: SampleRepo) -> list[str]:
    return sorted(p for p, status in pr_changes(sample).items() if status in {"A", "M"} and is_test_path(p))


def worktree(sample: SampleRepo, rev: str, dest: Path) -> Path:
    git(sample.path, "worktree", "add", "--detach", "-q", str(dest), rev)
    return dest


def base_with_pr_tests(sample: SampleRepo, dest: Path) -> Path:
    """A worktree of the merge-base with the PR's test files (as on head) laid over it."""
    worktree(sample, merge_base(sample), dest)
    for rel in pr_test_files(sample):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(
            subprocess.run(
                ["git", "show", f"{sample.head}:{rel}"], cwd=sample.path, check=True, capture_output=True
            ).stdout
        )
    return dest


@dataclass
class Run:
    returncode: int | None  # None: killed at the timeout
    output: str

    @property
    def passed(self) -> bool:
        return self.returncode == 0


def run(command: str, cwd: Path, timeout: float = 30) -> Run:
    """Run a suite command in its own process group; kill the whole group on timeout."""
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    proc = subprocess.Popen(
        command,
        shell=True,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        return Run(proc.returncode, out)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return Run(None, out)


def suite_commands(sample: SampleRepo) -> list[str]:
    """The configured suite commands (config read from the base branch)."""
    text = git(sample.path, "show", f"{sample.base}:{CONFIG_PATH}")
    return [suite.run for suite in parse_config(text).suites]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, SampleRepo]:
    """Every sample, built once for this module."""
    root = tmp_path_factory.mktemp("samples")
    return {name: builder(root / name) for name, builder in BUILDERS.items()}


# -- git facts, every sample --------------------------------------------------------


@pytest.mark.parametrize("name", BUILDERS)
def test_git_shape(built, name):
    sample = built[name]
    assert sample.base == "main"
    assert sample.head != sample.base
    assert sample.expected_verdict in VERDICTS
    assert sample.description
    branches = set(git(sample.path, "for-each-ref", "--format=%(refname:short)", "refs/heads").split())
    assert {sample.base, sample.head} <= branches
    assert git(sample.path, "rev-parse", "--abbrev-ref", "HEAD") == sample.base
    assert git(sample.path, "status", "--porcelain") == ""

    base_tip = git(sample.path, "rev-parse", sample.base)
    head_tip = git(sample.path, "rev-parse", sample.head)
    mb = merge_base(sample)
    for tip in (base_tip, head_tip):
        subprocess.run(["git", "merge-base", "--is-ancestor", mb, tip], cwd=sample.path, check=True)
    assert mb != base_tip, "main must have moved on after the branch point"
    assert mb != head_tip, "the PR branch must have its own commit"


@pytest.mark.parametrize("name", BUILDERS)
def test_pr_test_files_in_diff(built, name):
    sample = built[name]
    changes = pr_changes(sample)
    tests = pr_test_files(sample)
    assert changes, "the PR changes something"
    if sample.expected_verdict == "no_tests":
        assert tests == []
        return
    assert tests
    for rel in tests:
        assert changes[rel] == "A", f"{rel}: the PR's tests are added by the PR"
    assert any(not is_test_path(p) for p in changes), "the PR also changes source"


@pytest.mark.parametrize("name", BUILDERS)
def test_config_from_base_is_valid(built, name):
    sample = built[name]
    listed = git(sample.path, "ls-tree", "--name-only", "-r", sample.base)
    if CONFIG_PATH not in listed.splitlines():
        assert name.endswith("no_config") or name == "no_tests"
        return
    suites = parse_config(git(sample.path, "show", f"{sample.base}:{CONFIG_PATH}")).suites
    assert suites
    assert CONFIG_PATH not in pr_changes(sample), "the PR does not edit the config"


@pytest.mark.parametrize("name", BUILDERS)
def test_builder_is_deterministic(built, tmp_path, name):
    sample = built[name]
    again = BUILDERS[name](tmp_path / name)
    for branch in (sample.base, sample.head):
        assert git(again.path, "rev-parse", branch) == git(sample.path, "rev-parse", branch)


def test_demo_shape(built):
    sample = built["session_lock_demo"]
    assert sample.expected_verdict == "proven"
    assert pr_test_files(sample) == ["test/session-lock.integration.test.mjs", "test/session-lock.test.mjs"]
    assert pr_changes(sample)["src/run-attempt.mjs"] == "M"
    config = parse_config(git(sample.path, "show", f"{sample.base}:{CONFIG_PATH}"))
    assert [(s.name, s.kind, s.timeout, s.repeat) for s in config.suites] == [
        ("session-lock regression", "regression", 60, 2),
        ("session-lock real-fs integration", "integration", 60, 2),
    ]


# -- running the fixtures' own tests ---------------------------------------------------


def _check_suites(sample: SampleRepo, tmp_path: Path, *, head_passes: bool, base_passes: bool):
    head_tree = worktree(sample, sample.head, tmp_path / "head")
    base_tree = base_with_pr_tests(sample, tmp_path / "base")
    for command in suite_commands(sample):
        on_head = run(command, head_tree)
        assert on_head.passed is head_passes, f"head: {command}\n{on_head.output}"
        on_base = run(command, base_tree)
        assert on_base.returncode is not None, f"base hung: {command}"
        assert on_base.passed is base_passes, f"base+tests: {command}\n{on_base.output}"


@needs_node
def test_demo_fails_on_base_and_passes_on_head(built, tmp_path):
    sample = built["session_lock_demo"]
    head_tree = worktree(sample, sample.head, tmp_path / "head")
    base_tree = base_with_pr_tests(sample, tmp_path / "base")
    commands = suite_commands(sample)
    assert len(commands) == 2
    for command in commands:
        for _ in range(2):  # the config repeats twice: the results must agree
            on_head = run(command, head_tree)
            assert on_head.passed, f"head: {command}\n{on_head.output}"
            on_base = run(command, base_tree)
            # None would mean killed at the timeout: base must fail, not hang
            assert on_base.returncode not in (0, None), f"base+tests: {command}\n{on_base.output}"
            assert "not ok" in on_base.output
    # Base without the PR's tests has nothing to run for these suites.
    assert not (worktree(sample, merge_base(sample), tmp_path / "bare") / "test").exists()


def test_python_proven_runs(built, tmp_path):
    _check_suites(built["python_proven"], tmp_path, head_passes=True, base_passes=False)


def test_python_fails_runs(built, tmp_path):
    _check_suites(built["python_fails"], tmp_path, head_passes=False, base_passes=False)


@needs_node
def test_node_weak_runs(built, tmp_path):
    _check_suites(built["node_weak"], tmp_path, head_passes=True, base_passes=True)


def test_python_test_dependency_runs(built, tmp_path):
    sample = built["python_test_dependency"]
    assert "tests/lock_helpers.py" in pr_test_files(sample)
    assert pr_changes(sample)["requirements-dev.txt"] == "M"
    _check_suites(sample, tmp_path, head_passes=True, base_passes=False)
    # With the helper laid over, base fails by assertion (pytest exit 1), not at collection (2).
    [command] = suite_commands(sample)
    assert run(command, tmp_path / "base").returncode == 1


@needs_node
def test_node_hangs_on_base(built, tmp_path):
    sample = built["node_hangs_on_base"]
    [command] = suite_commands(sample)
    [suite] = parse_config(git(sample.path, "show", f"{sample.base}:{CONFIG_PATH}")).suites
    assert suite.timeout <= 5
    on_head = run(command, worktree(sample, sample.head, tmp_path / "head"))
    assert on_head.passed, on_head.output
    on_base = run(command, base_with_pr_tests(sample, tmp_path / "base"), timeout=2)
    assert on_base.returncode is None, f"expected a hang on base, got exit {on_base.returncode}\n{on_base.output}"


@needs_node
def test_node_flaky_alternates_on_head(built, tmp_path):
    sample = built["node_flaky"]
    [command] = suite_commands(sample)
    [suite] = parse_config(git(sample.path, "show", f"{sample.base}:{CONFIG_PATH}")).suites
    assert suite.repeat == 3
    head_tree = worktree(sample, sample.head, tmp_path / "head")
    assert [run(command, head_tree).passed for _ in range(4)] == [False, True, False, True]
    assert git(head_tree, "status", "--porcelain") == "", f"{FLAKY_COUNTER} must be git-ignored"
    base_tree = base_with_pr_tests(sample, tmp_path / "base")
    base_runs = [run(command, base_tree) for _ in range(2)]
    assert all(r.returncode not in (0, None) for r in base_runs), base_runs[-1].output


def test_python_no_config_runs(built, tmp_path):
    sample = built["python_no_config"]
    [test_file] = pr_test_files(sample)
    command = f"python -m pytest -q -p no:cacheprovider {test_file}"
    assert run(command, worktree(sample, sample.head, tmp_path / "head")).passed
    assert not run(command, base_with_pr_tests(sample, tmp_path / "base")).passed
    assert run("python -m pytest -q -p no:cacheprovider tests/test_pidlock.py", tmp_path / "base").passed


@needs_node
def test_node_no_config_runs(built, tmp_path):
    sample = built["node_no_config"]
    [test_file] = pr_test_files(sample)
    command = f"node --test {test_file}"
    head_tree = worktree(sample, sample.head, tmp_path / "head")
    assert run(command, head_tree).passed
    assert run("npm test --silent", head_tree).passed if shutil.which("npm") else True
    base_tree = base_with_pr_tests(sample, tmp_path / "base")
    on_base = run(command, base_tree)
    assert on_base.returncode not in (0, None), on_base.output
    assert run("node --test test/file-lock.test.mjs", base_tree).passed


def test_no_tests_has_only_source_changes(built):
    sample = built["no_tests"]
    assert list(pr_changes(sample)) == ["lockfile.py"]
