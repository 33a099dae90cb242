"""The git side against real repositories: mirror, narrow fetch, merge-base, exports, and host git hardening."""

from __future__ import annotations

import contextlib
import functools
import http.server
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from reviewbot.proof.host_git import GitTimedOut, HostGit
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


def test_a_revision_expression_is_fetched_by_its_name_and_walked_locally(tmp_path: Path, upstream: git.Repo) -> None:
    """`review --base main~1 --head fix~1`: git cannot fetch `main~1`, so the mirror fetches `main`."""
    mirror = Workspace(tmp_path / "data").mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=("main~1", "fix^"))
    assert mirror.resolve("main~1") == upstream.commit("main~1").hexsha
    assert mirror.resolve("fix^") == upstream.commit("fix~1").hexsha


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
    with pytest.raises(RuntimeError), mirror.worktree(head, tmp_path / "runs", "head") as tree:
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


def test_describe_gives_the_nearest_tag_and_the_distance(tmp_path: Path, upstream: git.Repo) -> None:
    mirror = Workspace(tmp_path / "data").mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=("main", "fix"))
    assert mirror.describe(mirror.resolve("fix")) == (None, 0)  # no tag anywhere yet
    upstream.create_tag("v1.2.0", ref="main~1")  # the fork point
    upstream.create_tag("release-2-rc", ref="main")  # only on main: not in fix's history
    mirror.fetch(wanted=("main", "fix"))  # tags on the fetched history come along
    assert mirror.describe(mirror.resolve("fix")) == ("v1.2.0", 1)
    assert mirror.describe(mirror.resolve("main")) == ("release-2-rc", 0)  # a tag with "-2-" in its name


def test_fetch_takes_only_the_wanted_refs_not_every_pull_ref(tmp_path: Path, upstream: git.Repo) -> None:
    for number in range(1, 4):
        upstream.git.update_ref(f"refs/pull/{number}/head", "fix")
    upstream.git.update_ref("refs/heads/unrelated", "main")
    mirror = Workspace(tmp_path / "data").mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=("main", "refs/pull/2/head"))
    refs = mirror.git.text("for-each-ref", "--format=%(refname)").splitlines()
    assert sorted(refs) == ["refs/reviewbot/extra/main", "refs/reviewbot/extra/refs/pull/2/head"]
    assert mirror.resolve("refs/pull/2/head") == upstream.commit("fix").hexsha


# -- hostile: what the host's git reads and shows ------------------------------------------------

TOKEN = "Basic eC1hY2Nlc3MtdG9rZW46Z2hzX3NlY3JldA=="  # x-access-token:ghs_secret


class _GitOverHttp(http.server.SimpleHTTPRequestHandler):
    """A dumb-HTTP git remote that wants TOKEN and can hold a request until the test says go."""

    hold: threading.Event | None = None
    held = threading.Event()

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != TOKEN:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.end_headers()
            return
        if self.hold is not None and "info/refs" in self.path:
            type(self).held.set()
            self.hold.wait(30)
        super().do_GET()


@contextlib.contextmanager
def git_over_http(bare: Path, hold: threading.Event | None = None) -> Iterator[str]:
    subprocess.run(["git", "--git-dir", str(bare), "update-server-info"], check=True)
    handler = functools.partial(_GitOverHttp, directory=str(bare.parent))
    _GitOverHttp.hold, _GitOverHttp.held = hold, threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{bare.name}"
    finally:
        if hold is not None:
            hold.set()
        server.shutdown()
        server.server_close()


def git_cmdlines() -> dict[int, bytes]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (entry / "cmdline").read_bytes()
                if cmdline.split(b"\0", 1)[0].rsplit(b"/", 1)[-1].startswith(b"git"):
                    found[int(entry.name)] = cmdline
    return found


def test_the_token_never_appears_in_any_git_command_line(tmp_path: Path, upstream: git.Repo) -> None:
    """While an authenticated fetch runs, no git process shows the token in /proc/<pid>/cmdline."""
    bare = tmp_path / "served" / "repo.git"
    upstream.clone(str(bare), bare=True)
    argv, env = HostGit(tmp_path).command(["fetch", "x"], auth_header=f"Authorization: {TOKEN}")
    assert not any(TOKEN in arg for arg in argv) and env["GIT_CONFIG_VALUE_0"] == f"Authorization: {TOKEN}"
    mirror = Workspace(tmp_path / "data").mirror(str(bare), key="owner/repo")
    go = threading.Event()
    with git_over_http(bare, hold=go) as url:
        mirror.source = url
        with pytest.raises(WorkspaceError, match="fetch"):  # no token: the server says 401
            mirror.fetch(wanted=("main",))
        fetching = threading.Thread(
            target=mirror.fetch, kwargs={"wanted": ("main", "fix"), "auth_header": f"Authorization: {TOKEN}"}
        )
        fetching.start()
        assert _GitOverHttp.held.wait(30), "the authenticated fetch never reached the server"
        seen = git_cmdlines()  # git fetch and its remote helper are both alive now, held by the server
        go.set()
        fetching.join(60)
    assert any(b"fetch" in cmdline for cmdline in seen.values()) and any(b"remote-http" in c for c in seen.values())
    assert not [cmdline for cmdline in seen.values() if TOKEN.encode() in cmdline or b"ghs_" in cmdline]
    assert mirror.resolve("fix") == upstream.commit("fix").hexsha  # and authentication worked


def test_a_hung_git_is_killed_with_its_helpers_and_named(tmp_path: Path, upstream: git.Repo) -> None:
    bare = tmp_path / "served" / "repo.git"
    upstream.clone(str(bare), bare=True)
    mirror = Workspace(tmp_path / "data").mirror(str(bare), key="owner/repo")
    runner = HostGit(mirror.path, timeout=1.0)
    with (
        git_over_http(bare, hold=threading.Event()) as url,
        pytest.raises(GitTimedOut, match=r"git fetch .*timed out after 1s"),
    ):  # the timeout fired
        runner.run("fetch", url, "+refs/heads/main:refs/heads/main", auth_header=f"Authorization: {TOKEN}")
    assert not [c for c in git_cmdlines().values() if url.encode() in c]  # the remote helper died too


def test_the_operators_global_git_config_never_runs_on_pr_content(
    tmp_path: Path, upstream: git.Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A global filter/textconv on the bot's machine plus a PR's .gitattributes naming it: nothing runs."""
    marker = tmp_path / f"PWNED-{uuid.uuid4().hex}"
    upstream.git.checkout("fix")
    commit(upstream, {".gitattributes": "* filter=lfs diff=x\n*.py filter=x\n", "src/lock.py": "v3\n"}, "attrs")
    upstream.git.checkout("main")
    home = tmp_path / "operator-home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        f'[filter "lfs"]\n\tsmudge = touch {marker} && cat\n'  # pass the content through: only the marker tells
        f'[filter "x"]\n\tsmudge = touch {marker} && cat\n\tclean = touch {marker} && cat\n'
        f'[diff "x"]\n\ttextconv = touch {marker} && cat\n'
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    mirror = Workspace(tmp_path / "data").mirror(upstream.working_tree_dir)
    mirror.fetch(wanted=("main", "fix"))
    revs = mirror.revisions("main", "fix")
    with mirror.worktree(revs.head, tmp_path / "runs", "head") as tree:
        assert not marker.exists() and (tree / "src" / "lock.py").read_text() == "v3\n"
    assert "+v3" in mirror.diff(revs.merge_base, revs.head)
    assert "src/lock.py" in mirror.changed_files(revs.merge_base, revs.head)[0]
    assert mirror.read_file(revs.head, "src/lock.py") == b"v3\n"
    assert not marker.exists()


def test_git_settings_left_in_the_services_environment_are_ignored(
    tmp_path: Path, upstream: git.Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / f"PWNED-{uuid.uuid4().hex}"
    mirror = Workspace(tmp_path / "data").mirror(upstream.working_tree_dir)
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'diff.external'='touch {marker}'")
    monkeypatch.setenv("GIT_DIR", upstream.git_dir)  # another repository: git would work on it instead
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "foreign-index"))
    mirror.fetch(wanted=("main", "fix"))
    revs = mirror.revisions("main", "fix")
    assert "+v2" in mirror.diff(revs.merge_base, revs.head)
    with mirror.worktree(revs.head, tmp_path / "runs", "head") as tree:
        assert (tree / "tests" / "test_lock.py").exists()
    assert not marker.exists() and not (tmp_path / "foreign-index").exists()
    assert mirror.git.text("rev-parse", "--absolute-git-dir") == str(mirror.path)
