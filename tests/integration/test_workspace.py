"""The git side against real repositories: mirror, incremental fetch, merge-base, worktrees."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from reviewbot.proof.workspace import Workspace, WorkspaceError


def commit(repo: git.Repo, files: dict[str, str], message: str) -> str:
    for path, text in files.items():
        target = Path(repo.working_tree_dir) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        repo.index.add([path])
    return repo.index.commit(message).hexsha


@pytest.fixture
def upstream(tmp_path: Path) -> git.Repo:
    repo = git.Repo.init(tmp_path / "upstream", initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test").set_value("user", "email", "t@example.invalid")
    commit(repo, {"src/lock.py": "v1\n", "README.md": "x\n"}, "initial")
    repo.git.checkout("-b", "fix")
    commit(repo, {"src/lock.py": "v2\n", "tests/test_lock.py": "def test(): pass\n"}, "fix lock")
    repo.git.checkout("main")
    commit(repo, {"README.md": "y\n"}, "unrelated change on main")
    return repo


def test_merge_base_is_the_real_fork_point_not_the_base_tip(tmp_path: Path, upstream: git.Repo) -> None:
    mirror = Workspace(tmp_path / "data").mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=("main", "fix"))
    revs = mirror.revisions("main", "fix")
    assert revs.base_tip == upstream.commit("main").hexsha
    assert revs.merge_base == upstream.commit("main~1").hexsha
    assert revs.head == upstream.commit("fix").hexsha
    assert mirror.changed_files(revs.merge_base, revs.head) == (["src/lock.py", "tests/test_lock.py"], [])


def test_mirror_is_bare_and_fetched_incrementally(tmp_path: Path, upstream: git.Repo) -> None:
    workspace = Workspace(tmp_path / "data")
    mirror = workspace.mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=("main", "fix"))
    assert mirror.git.text("rev-parse", "--is-bare-repository") == "true"
    marker = mirror.path / "objects" / "reviewbot-marker"
    marker.write_text("the same mirror is reused, not re-cloned")
    upstream.git.checkout("fix")
    new_head = commit(upstream, {"tests/test_more.py": "def test(): pass\n"}, "more tests")
    upstream.git.checkout("main")
    again = workspace.mirror(upstream.working_tree_dir)
    assert again.path == mirror.path
    again.fetch(wanted=("main", "fix"))
    assert marker.exists()
    assert again.resolve("fix") == new_head


def test_deleted_files_are_listed_apart(tmp_path: Path, upstream: git.Repo) -> None:
    upstream.git.checkout("fix")
    upstream.index.remove(["README.md"], working_tree=True)
    upstream.index.commit("drop readme")
    upstream.git.checkout("main")
    mirror = Workspace(tmp_path / "data").mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=("main", "fix"))
    revs = mirror.revisions("main", "fix")
    changed, deleted = mirror.changed_files(revs.merge_base, revs.head)
    assert deleted == ["README.md"] and "README.md" not in changed


def test_worktree_is_removed_even_when_the_run_fails(tmp_path: Path, upstream: git.Repo) -> None:
    mirror = Workspace(tmp_path / "data").mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=("main", "fix"))
    head = mirror.resolve("fix")
    seen: list[Path] = []
    with pytest.raises(RuntimeError):
        with mirror.worktree(head, tmp_path / "runs", "head") as tree:
            seen.append(tree)
            assert (tree / "tests" / "test_lock.py").exists()
            raise RuntimeError("suite crashed")
    assert not seen[0].exists()
    assert mirror.git.text("worktree", "list").count("\n") == 0  # only the bare mirror itself


def test_unknown_ref_and_unrelated_history_are_clear_errors(tmp_path: Path, upstream: git.Repo) -> None:
    mirror = Workspace(tmp_path / "data").mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=("main", "fix"))
    with pytest.raises(WorkspaceError, match="unknown revision 'nope'"):
        mirror.resolve("nope")
    upstream.git.checkout("--orphan", "other")
    commit(upstream, {"x": "1"}, "unrelated root")
    mirror.fetch(wanted=("main", "other"))
    with pytest.raises(WorkspaceError, match="share no history"):
        mirror.revisions("main", "other")


def test_no_credential_is_stored_in_the_mirror(tmp_path: Path, upstream: git.Repo) -> None:
    mirror = Workspace(tmp_path / "data").mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=("main", "fix"), auth_header="Authorization: Basic c2VjcmV0LXRva2Vu")
    config = (mirror.path / "config").read_text()
    assert "c2VjcmV0LXRva2Vu" not in config and "extraHeader" not in config
    with mirror.worktree(mirror.resolve("fix"), tmp_path / "runs", "head") as tree:
        assert not (tree / ".git").exists()  # an export: nothing in it points back at the mirror
        assert not any("c2VjcmV0LXRva2Vu" in path.read_text() for path in tree.rglob("*") if path.is_file())


def test_fetch_by_sha_that_no_branch_points_to(tmp_path: Path, upstream: git.Repo) -> None:
    upstream.git.checkout("fix")
    dangling = commit(upstream, {"tests/test_x.py": "x"}, "detached work")
    upstream.git.reset("--hard", "HEAD~1")
    upstream.git.checkout("main")
    mirror = Workspace(tmp_path / "data").mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=(dangling,))
    assert mirror.resolve(dangling) == dangling


def test_blob_gives_bytes_and_mode_and_read_file_only_regular_files(tmp_path: Path, upstream: git.Repo) -> None:
    root = Path(upstream.working_tree_dir)
    upstream.git.checkout("fix")
    (root / "tests" / "link").symlink_to("/etc/passwd")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    upstream.index.add(["tests/link", "run.sh"])
    upstream.index.commit("link and script")
    upstream.git.checkout("main")
    mirror = Workspace(tmp_path / "data").mirror(str(root))
    mirror.fetch(wanted=("main", "fix"))
    head = mirror.resolve("fix")
    assert mirror.blob(head, "tests/link") == (b"/etc/passwd", "120000")
    assert mirror.blob(head, "run.sh") == (b"#!/bin/sh\n", "100755")
    assert mirror.read_file(head, "tests/link") is None  # a symlink is never read as content
    assert mirror.read_file(head, "src/lock.py") == b"v2\n"
    assert mirror.blob(head, "tests") is None and mirror.blob(head, "missing") is None
