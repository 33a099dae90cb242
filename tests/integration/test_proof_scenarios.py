"""End to end through `reviewbot review --format json`: every fixture gives its verdict.

Real git repositories, the real sandbox, the real CLI entry point.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from textwrap import dedent

import pytest

from reviewbot.cli import main
from reviewbot.proof.branches import Identity
from reviewbot.proof.fixes import FixResult, apply_fixes
from reviewbot.proof.sandbox import Sandbox
from reviewbot.proof.workspace import Mirror, Workspace
from reviewbot.repo_config import FixCommand
from reviewbot.samples.repos import BASE_BRANCH, RepoWriter, SampleRepo
from reviewbot.samples.session_lock import build_session_lock_demo
from tests.hostile import LoopbackListener, processes_with
from tests.repos import ALL_BUILDERS

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reviewbot-data")


def review_json(sample: SampleRepo, data_dir: Path, out: Path, *extra: str) -> dict:
    code = main(
        [
            "--data-dir",
            str(data_dir),
            "review",
            "--repo",
            str(sample.path),
            "--base",
            sample.base,
            "--head",
            sample.head,
            "--format",
            "json",
            "--out",
            str(out),
            *extra,
        ]
    )
    result = json.loads(out.read_text())
    assert code == (3 if result["proof"]["verdict"] == "error" else 0)
    return result


def test_demo_proof_details(tmp_path: Path, data_dir: Path) -> None:
    sample = build_session_lock_demo(tmp_path / "demo")
    proof = review_json(sample, data_dir, tmp_path / "out.json")["proof"]
    assert proof["merge_base_sha"] != proof["base_sha"]  # base means the real merge-base
    assert proof["config_source"] == "base:.github/reviewbot.yml"
    kinds = {suite["kind"] for suite in proof["suites"]}
    assert kinds == {"regression", "integration"}
    for suite in proof["suites"]:
        assert suite["base"]["status"] == "failed" and suite["base"]["failing_tests"]
        assert suite["head"]["status"] == "passed" and suite["head"]["failed"] == 0
        assert suite["head"]["repeats"] == 2
    assert sorted(proof["overlaid"]) == sorted(proof["changed"]["tests"])


def test_json_carries_the_review_beside_the_proof(tmp_path: Path, data_dir: Path) -> None:
    sample = build_session_lock_demo(tmp_path / "demo")
    body = tmp_path / "body.md"
    body.write_text(sample.body)
    result = review_json(
        sample, data_dir, tmp_path / "out.json", "--body", str(body), "--number", "7", "--repo-name", "o/r"
    )
    review, proof = result["review"], result["proof"]
    assert review["outcome"]["kind"] == "passed" and review["marker"]["verdict"] == proof["verdict"] == "proven"
    assert review["rating"]["overall"]["tier"] == "S" and review["rating"]["egg"]["hatched"] is True
    assert [label["name"] for label in review["labels"]] == ["status: passed", "proof: proven", "rating: S"]
    assert all(label["justification"] for label in review["labels"])
    assert review["findings"] == [] and review["touches_lock_code"] is True
    assert review["reproducible"]["answer"] == "yes"
    assert [(c["command"], c["match"]) for c in review["claims"]] == [
        ("npm ci", "not run"),
        ("node --test test/session-lock.test.mjs", "reproduced"),
        ("node --test test/session-lock.integration.test.mjs", "reproduced"),
    ]
    assert [c["command"] for c in proof["claims"] if c["status"] == "passed"] == [
        "node --test test/session-lock.test.mjs",
        "node --test test/session-lock.integration.test.mjs",
    ]
    assert review["related_people"][0]["name"] == "Sample Maintainer"


def test_claimed_commands_run_in_the_sandbox_like_suites(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Test plan is PR text: its commands get the suites' sandbox, so the bot's secrets stay out."""
    secret = "s3cr3t-" + uuid.uuid4().hex
    monkeypatch.setenv("REVIEWBOT_TEST_SECRET", secret)
    sample = ALL_BUILDERS["python_proven"](tmp_path / "r")
    body = tmp_path / "body.md"
    body.write_text(
        "## Test plan\n\n```sh\nenv; cat /proc/1/environ; python -m pytest -q -p no:cacheprovider "
        "tests/test_lockfile.py\n```\n\n1 passed\n"
    )
    result = review_json(sample, data_dir, tmp_path / "out.json", "--body", str(body))
    claim = result["proof"]["claims"][0]
    assert claim["status"] == "passed" and claim["passed"] == 1
    assert secret not in (tmp_path / "out.json").read_text()
    assert result["review"]["claims"][0]["match"] == "reproduced"


def test_hang_on_base_is_shown_as_timeout(tmp_path: Path, data_dir: Path) -> None:
    sample = ALL_BUILDERS["node_hangs_on_base"](tmp_path / "hang")
    proof = review_json(sample, data_dir, tmp_path / "out.json")["proof"]
    assert proof["verdict"] == "proven"
    assert any(s["base"]["status"] == "timeout" for s in proof["suites"])
    assert "hung on base" in proof["reason"]


def test_flaky_repeats_are_reported(tmp_path: Path, data_dir: Path) -> None:
    sample = ALL_BUILDERS["node_flaky"](tmp_path / "flaky")
    proof = review_json(sample, data_dir, tmp_path / "out.json")["proof"]
    head = proof["suites"][0]["head"]
    assert head["flaky"] and len(set(head["statuses"])) == 2


def test_added_test_dependency_is_laid_over_and_said(tmp_path: Path, data_dir: Path) -> None:
    sample = ALL_BUILDERS["python_test_dependency"](tmp_path / "dep")
    proof = review_json(sample, data_dir, tmp_path / "out.json")["proof"]
    assert "requirements-dev.txt" in proof["overlaid"]
    assert any("requirements-dev.txt" in note for note in proof["notes"])


def test_markdown_output_and_stderr_progress(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture) -> None:
    sample = build_session_lock_demo(tmp_path / "demo")
    code = main(
        [
            "--data-dir",
            str(data_dir),
            "review",
            "--repo",
            str(sample.path),
            "--base",
            sample.base,
            "--head",
            sample.head,
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.startswith("## ✅ reviewbot: passed")
    assert "| suite | kind | base + PR tests | head |" in captured.out
    assert "fetching" in captured.err and "fetching" not in captured.out


def test_usage_errors_exit_2_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["review", "--repo", str(tmp_path / "missing"), "--base", "main", "--head", "x"]) == 2
    assert "no such repository" in capsys.readouterr().err
    bad = tmp_path / "bad.yml"
    bad.write_text("suites:\n  - name: a\n    run: x\n    bogus: 1\n")
    sample = ALL_BUILDERS["no_tests"](tmp_path / "r")
    assert (
        main(["review", "--repo", str(sample.path), "--base", "main", "--head", sample.head, "--config", str(bad)]) == 2
    )
    assert "line 4: `suites.0.bogus`: unknown key" in capsys.readouterr().err


def test_unknown_ref_is_an_infrastructure_error(tmp_path: Path, data_dir: Path) -> None:
    sample = ALL_BUILDERS["no_tests"](tmp_path / "r")
    broken = SampleRepo(path=sample.path, base="main", head="no-such-branch", expected_verdict="error", description="")
    proof = review_json(broken, data_dir, tmp_path / "out.json")["proof"]
    assert proof["verdict"] == "error" and "no-such-branch" in proof["reason"]


def test_config_override_and_broken_base_config(tmp_path: Path, data_dir: Path) -> None:
    sample = ALL_BUILDERS["python_no_config"](tmp_path / "r")
    override = tmp_path / "override.yml"
    override.write_text("changed_tests: auto\nsuites: []\n")
    proof = review_json(sample, data_dir, tmp_path / "o1.json", "--config", str(override))["proof"]
    assert proof["config_source"] == f"file:{override}" and proof["verdict"] == "proven"

    writer = RepoWriter(sample.path)
    writer.checkout(BASE_BRANCH)
    writer.write({".github/reviewbot.yml": "suites:\n  - name: x\n    runn: typo\n"})
    writer.commit("broken config on base")
    proof = review_json(sample, data_dir, tmp_path / "o2.json")["proof"]
    assert proof["verdict"] == "proven"  # fell back to the detected runner
    assert any("line 3" in note and "runn" in note for note in proof["notes"])


# -- a hostile PR: its test passes only if every escape attempt is contained --------------------


def build_hostile(root: Path, secret_file: Path, port: int, outside: Path) -> SampleRepo:
    writer = RepoWriter(root)
    writer.write(
        {
            "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
            "lockfile.py": "def acquire():\n    return True\n",
        }
    )
    writer.commit("base")
    writer.branch("hostile")
    test = dedent(f"""
        import os, socket, subprocess, sys


        def test_secret_env_is_absent():
            assert not any("TOKEN" in k or "SECRET" in k for k in os.environ)


        def test_host_file_is_unreadable():
            try:
                data = open({str(secret_file)!r}).read()
            except OSError:
                return
            raise AssertionError("read host file: " + data)


        def test_host_loopback_is_unreachable():
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2)
            except OSError:
                return
            raise AssertionError("connected to the host")


        def test_cannot_write_outside():
            try:
                open({str(outside)!r}, "w").write("escaped")
            except OSError:
                return
            raise AssertionError("wrote outside")


        def test_symlink_does_not_escape():
            os.symlink({str(secret_file)!r}, "leak")
            try:
                open("leak").read()
            except OSError:
                return
            raise AssertionError("symlink escaped")


        def test_orphan_left_behind():
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "hostile-orphan"],
                             start_new_session=True)
    """)
    writer.write({"tests/test_hostile.py": test, "lockfile.py": "def acquire():\n    return 1\n"})
    writer.commit("hostile tests")
    return SampleRepo(path=root, base="main", head="hostile", expected_verdict="weak", description="hostile")


def test_hostile_pr_is_contained(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "ghs_" + uuid.uuid4().hex + uuid.uuid4().hex[:4]
    monkeypatch.setenv("GITHUB_TOKEN", secret)
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(secret)
    outside = tmp_path / "outside.txt"
    with LoopbackListener() as listener:
        sample = build_hostile(tmp_path / "hostile", secret_file, listener.port, outside)
        out = tmp_path / "out.json"
        proof = review_json(sample, data_dir, out)["proof"]
    assert proof["verdict"] == "weak", json.dumps(proof, indent=1)[:3000]  # every attempt failed on both sides
    assert proof["suites"][0]["head"]["passed"] == 6
    assert secret not in out.read_text()
    assert not outside.exists() and listener.accepted == []
    assert processes_with("hostile-orphan") == []


def test_a_pr_cannot_switch_its_own_checks_off(tmp_path: Path, data_dir: Path) -> None:
    sample = ALL_BUILDERS["python_proven"](tmp_path / "r")
    writer = RepoWriter(sample.path)
    writer.checkout(sample.head)
    writer.write({".github/reviewbot.yml": "changed_tests: off\nsuites: []\n"})
    writer.commit("Turn the lock suites off")
    proof = review_json(sample, data_dir, tmp_path / "out.json")["proof"]
    assert proof["config_source"] == "base:.github/reviewbot.yml" and proof["verdict"] == "proven"
    assert any("This PR edits `.github/reviewbot.yml`" in note for note in proof["notes"])


def test_git_hooks_and_config_in_a_pr_never_run_outside_the_sandbox(tmp_path: Path, data_dir: Path) -> None:
    """A PR can carry files that name git filters, hooks and config; git never obeys tracked files."""
    marker = tmp_path / f"PWNED-{uuid.uuid4().hex}"
    sample = ALL_BUILDERS["python_proven"](tmp_path / "r")
    writer = RepoWriter(sample.path)
    writer.checkout(sample.head)
    writer.write(
        {
            ".gitattributes": "* filter=pwn diff=pwn\n",
            ".gitconfig": f'[filter "pwn"]\n\tsmudge = touch {marker}\n\tclean = touch {marker}\n'
            f'[diff "pwn"]\n\ttextconv = touch {marker}\n[core]\n\thooksPath = hooks\n',
            ".lfsconfig": f"[lfs]\n\turl = file://{marker}\n",
            "hooks/post-checkout": f"#!/bin/sh\ntouch {marker}\n",
            ".husky/pre-commit": f"#!/bin/sh\ntouch {marker}\n",
        }
    )
    (sample.path / "hooks" / "post-checkout").chmod(0o755)
    writer.commit("Carry git filters, hooks and config")
    result = review_json(sample, data_dir, tmp_path / "out.json")
    assert result["proof"]["verdict"] == "proven" and not marker.exists()
    assert any(".husky/pre-commit" in note["paths"] for note in result["review"]["security"])


# -- fix: commands: the sandbox's tree is data, the commit is built by host git ---------------------


def fix_repo(root: Path, files: dict[str, str]) -> tuple[Mirror, str]:
    """A repository whose head carries `files` (plus a symlink), fetched into a fresh mirror; (mirror, head)."""
    writer = RepoWriter(root / "repo")
    writer.write(
        {"src/app.py": "x=1\n", "old.txt": "old\n", "scripts/run.sh": "#!/bin/sh\n", ".gitignore": "build/\n", **files}
    )
    (root / "repo" / "link").symlink_to("old.txt")
    head = writer.commit("Code to format")
    mirror = Workspace(root / "data").mirror(str(root / "repo"))
    mirror.fetch(wanted=(head,))
    return mirror, head


def run_fix(root: Path, mirror: Mirror, head: str, command: str) -> FixResult:
    return apply_fixes(
        Sandbox(root / "sandbox"),
        mirror,
        head,
        [FixCommand(run=command)],
        root / "scratch",
        Identity("reviewbot", "bot@example.invalid"),
        "Apply the fix commands\n",
    )


def tree_of(mirror: Mirror, sha: str) -> dict[str, tuple[str, bytes]]:
    listing = mirror.git.text("ls-tree", "-r", "-z", sha).split("\0")
    entries = {}
    for record in filter(None, listing):
        meta, path = record.split("\t", 1)
        mode, _, oid = meta.split(" ")
        entries[path] = (mode, mirror.git.run("cat-file", "blob", oid))
    return entries


def test_fix_commands_changes_deletions_modes_and_symlinks_become_one_commit(tmp_path: Path) -> None:
    mirror, head = fix_repo(tmp_path, {})
    result = run_fix(
        tmp_path,
        mirror,
        head,
        "printf 'x = 1\\n' > src/app.py && rm old.txt && chmod +x scripts/run.sh"
        " && mkdir -p build && echo o > build/out.o && echo new > added.txt && ln -sf src/app.py link"
        " && mkdir -p vendor/.git && echo '[core]' > vendor/.git/config && mkfifo pipe",
    )
    assert result.failed == "" and result.sha is not None
    assert result.changed == ["added.txt", "link", "old.txt", "scripts/run.sh", "src/app.py"]
    tree = tree_of(mirror, result.sha)
    assert tree["src/app.py"] == ("100644", b"x = 1\n") and tree["scripts/run.sh"] == ("100755", b"#!/bin/sh\n")
    assert tree["link"] == ("120000", b"src/app.py") and tree["added.txt"] == ("100644", b"new\n")
    assert sorted(tree) == [".gitignore", "added.txt", "link", "scripts/run.sh", "src/app.py"]  # no build/, .git
    assert mirror.git.text("rev-parse", f"{result.sha}^") == head
    assert run_fix(tmp_path / "again", *fix_repo(tmp_path / "again", {}), "true") == FixResult(None)


def test_a_git_dir_written_by_fix_commands_never_runs_on_the_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fix command that leaves a `.git` with an fsmonitor and hooks (and `.git` files) gets nothing run.

    The operator's global git config defines a filter the PR's `.gitattributes` names: that never runs either.
    """
    marker = tmp_path / f"PWNED-{uuid.uuid4().hex}"
    payload = dedent(f"""\
        rm -rf .git && mkdir -p .git/objects .git/refs .git/hooks sub
        printf 'ref: refs/heads/main\\n' > .git/HEAD
        printf '[core]\\n\\trepositoryformatversion = 0\\n\\tbare = false\\n\\tfsmonitor = touch {marker}\\n' > .git/config
        printf '#!/bin/sh\\ntouch {marker}\\n' > .git/hooks/post-index-change
        cp .git/hooks/post-index-change .git/hooks/pre-commit && chmod +x .git/hooks/*
        printf 'gitdir: ../.git\\n' > sub/.git
        printf 'x = 2\\n' > src/app.py
        """)
    mirror, head = fix_repo(tmp_path, {"scripts/pwn.sh": payload, ".gitattributes": "*.py filter=x\n"})
    home = tmp_path / "operator-home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        f'[filter "x"]\n\tclean = touch {marker} && cat\n\tsmudge = touch {marker} && cat\n'
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    try:
        result = run_fix(tmp_path, mirror, head, "sh scripts/pwn.sh")
    finally:
        assert not marker.exists(), "host git ran the fix command's fsmonitor or hook"
    assert result.failed == "" and result.changed == ["src/app.py"]
    assert tree_of(mirror, result.sha)["src/app.py"] == ("100644", b"x = 2\n")  # type: ignore[arg-type]
