"""What a killed worker leaves on disk, and how the next one cleans it (the crash test's unit-sized half).

The end-to-end proof with real SIGKILLs is `tests/e2e/test_crash.py`; here each leftover is
made by hand so every branch of the cleanup is exercised quickly.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import git

from reviewbot.proof.liveness import pid_alive
from reviewbot.proof.workspace import Workspace
from tests.integration.test_workspace import upstream  # noqa: F401 - the fixture

__all__ = ["upstream"]


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_dead_workers_run_folder_worktrees_and_git_locks_are_removed(tmp_path: Path,
                                                                        upstream: git.Repo) -> None:  # noqa: F811
    workspace = Workspace(tmp_path / "data")
    mirror = workspace.mirror(upstream.working_tree_dir)
    mirror.fetch()
    head = mirror.resolve("fix")
    dead = workspace.runs_dir / f"{head[:12]}-0badf00d-{dead_pid()}-deadbeef"
    dead.mkdir()
    mirror.git.worktree("add", "--detach", str(dead / "head-1"), head)  # as the dead worker made it
    mirror.git.worktree("add", "--detach", str(dead / "base-1"), head)
    (mirror.path / "worktrees" / "base-1" / "locked").write_text("initializing")  # killed mid `worktree add`
    for lock in ("packed-refs.lock", "refs/heads/fix.lock", "config.lock"):  # killed mid fetch
        (mirror.path / lock).write_text("")
    with workspace.run_dir("alive") as alive:  # a live worker's run is left alone
        mirror.git.worktree("add", "--detach", str(alive / "head-2"), head)
        assert workspace.recover() == [dead]
        assert alive.exists() and not dead.exists()
        assert sorted(p.name for p in (mirror.path / "worktrees").iterdir()) == ["head-2"]
        assert list(mirror.path.glob("*.lock")) == [] and list((mirror.path / "refs").rglob("*.lock")) == []
        mirror.fetch()  # and git works again
    assert pid_alive(dead_pid()) is False


def test_a_fetch_after_a_killed_fetch_does_not_trip_over_its_lock(tmp_path: Path,
                                                                  upstream: git.Repo) -> None:  # noqa: F811
    workspace = Workspace(tmp_path / "data")
    mirror = workspace.mirror(upstream.working_tree_dir)
    mirror.fetch()
    (mirror.path / "refs" / "heads" / "main.lock").write_text("")  # a live worker's git died holding it
    Path(upstream.working_tree_dir, "README.md").write_text("z\n")
    upstream.index.add(["README.md"])
    tip = upstream.index.commit("newer main").hexsha
    mirror.fetch()  # with the mirror lock held, the stale lock is known to be a dead git's
    assert mirror.resolve("main") == tip
