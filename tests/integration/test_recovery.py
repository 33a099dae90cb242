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
from tests.integration.test_workspace import upstream

__all__ = ["upstream"]


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_dead_workers_run_folder_and_git_locks_are_removed(tmp_path: Path, upstream: git.Repo) -> None:
    workspace = Workspace(tmp_path / "data")
    mirror = workspace.mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=("main", "fix"))
    head = mirror.resolve("fix")
    dead = workspace.runs_dir / f"{head[:12]}-0badf00d-{dead_pid()}-deadbeef"
    dead.mkdir()
    with mirror.worktree(head, dead, "head"):  # exports are plain folders: the dead run's go with it
        pass
    (dead / "head-1").mkdir()
    for lock in ("packed-refs.lock", "refs/heads/fix.lock", "config.lock"):  # killed mid fetch
        (mirror.path / lock).parent.mkdir(parents=True, exist_ok=True)
        (mirror.path / lock).write_text("")
    # a live worker's run is left alone
    with workspace.run_dir("alive") as alive, mirror.worktree(head, alive, "head") as live_tree:
        assert workspace.recover() == [dead]
        assert alive.exists() and live_tree.exists() and not dead.exists()
        assert list(mirror.path.glob("*.lock")) == [] and list((mirror.path / "refs").rglob("*.lock")) == []
        mirror.fetch(wanted=("main", "fix"))  # and git works again
    assert pid_alive(dead_pid()) is False


def test_a_fetch_after_a_killed_fetch_does_not_trip_over_its_lock(tmp_path: Path, upstream: git.Repo) -> None:
    workspace = Workspace(tmp_path / "data")
    mirror = workspace.mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=("main", "fix"))
    (mirror.path / "refs" / "heads" / "main.lock").write_text("")  # a live worker's git died holding it
    Path(upstream.working_tree_dir, "README.md").write_text("z\n")
    upstream.index.add(["README.md"])
    tip = upstream.index.commit("newer main").hexsha
    mirror.fetch(wanted=("main",))  # with the mirror lock held, the stale lock is known to be a dead git's
    assert mirror.resolve("main") == tip
