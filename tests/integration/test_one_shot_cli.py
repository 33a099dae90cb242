"""`reviewbot review --pr owner/repo#N`: the real CLI against the fake GitHub, as workflows/review.yml runs it.

A workflow's GITHUB_TOKEN is a token (no App, no installation), it cannot read `GET /user`
(so the bot's login is given), and it publishes a commit status rather than a check run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.review.markers import parse_marker
from tests.fakegithub import FakeGitHub
from tests.repos import build_python_proven

pytestmark = pytest.mark.sandbox
BOT = "github-actions[bot]"


@pytest.fixture
def github(tmp_path: Path):
    sample = build_python_proven(tmp_path / "sample")
    fake = FakeGitHub(root=tmp_path / "github").start()
    repo = fake.create_repo("acme", "locky", source=sample.path, private=False)
    number = fake.open_pull_request(repo, head=sample.head, title=sample.title, body=sample.body, user="alice")
    token = fake.add_user(BOT)
    fake.set_permission(repo, BOT, "write")
    marks = fake.contract_marks()
    yield fake, repo, number, token
    fake.assert_contract_clean(since=marks)
    fake.stop()


def reviewbot(tmp_path: Path, fake: FakeGitHub, token: str, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("REVIEWBOT_", "OPENAI_"))}
    env |= {
        "REVIEWBOT_TOKEN": token,
        "REVIEWBOT_GITHUB_API_URL": fake.url,
        "REVIEWBOT_BOT_LOGIN": BOT,
        "REVIEWBOT_DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "reviewbot.cli", "review", *args], capture_output=True, text=True, env=env, timeout=240
    )


def bot_comments(fake: FakeGitHub, repo: str, number: int) -> list:
    return [c for c in fake.comments(repo, number) if c.user.login == BOT]


def test_a_published_review_is_one_comment_a_status_and_labels_and_a_rerun_edits_it(github, tmp_path: Path) -> None:
    fake, repo, number, token = github
    head = fake.pull_request(repo, number).head_sha
    first = reviewbot(
        tmp_path,
        fake,
        token,
        "--pr",
        f"{repo}#{number}",
        "--expect-head",
        head,
        "--publish",
        "--out",
        str(tmp_path / "review.md"),
    )
    assert first.returncode == 0, first.stderr
    comments = bot_comments(fake, repo, number)
    assert len(comments) == 1
    marker = parse_marker(comments[0].body)
    assert marker is not None and marker.head == head and marker.verdict == "proven"
    assert (tmp_path / "review.md").read_text() == comments[0].body
    assert [(s.context, s.state) for s in fake.statuses(repo, head)] == [("reviewbot / lock proof", "success")]
    assert "proof: proven" in fake.labels(repo, number)

    again = reviewbot(tmp_path, fake, token, "--pr", f"{repo}#{number}", "--publish")
    assert again.returncode == 0, again.stderr
    comments_after = bot_comments(fake, repo, number)
    assert [c.id for c in comments_after] == [comments[0].id]  # edited in place, never a second comment
    assert parse_marker(comments_after[0].body).head == head


def test_without_publish_it_prints_and_writes_nothing(github, tmp_path: Path) -> None:
    fake, repo, number, token = github
    result = reviewbot(tmp_path, fake, token, "--pr", f"{repo}#{number}")
    assert result.returncode == 0, result.stderr
    assert "<!-- reviewbot:review " in result.stdout and "proven" in result.stdout
    assert bot_comments(fake, repo, number) == []
    assert fake.labels(repo, number) == []


def test_a_moved_head_publishes_nothing(github, tmp_path: Path) -> None:
    fake, repo, number, token = github
    result = reviewbot(tmp_path, fake, token, "--pr", f"{repo}#{number}", "--expect-head", "0" * 40, "--publish")
    assert result.returncode == 0 and "head moved" in result.stderr
    assert bot_comments(fake, repo, number) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pr", "acme/locky"], "owner/repo#NUMBER"),
        (["--pr", "acme/locky#1; rm -rf /"], "owner/repo#NUMBER"),
        ([], "--repo, --base, --head"),
    ],
)
def test_usage_errors_say_what_to_write(args: list[str], message: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reviewbot.cli", "review", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "REVIEWBOT_DATA_DIR": str(tmp_path)},
        timeout=60,
    )
    assert result.returncode == 2 and message in result.stderr


def test_an_app_without_an_installation_is_told_to_use_a_token(github, tmp_path: Path) -> None:
    fake, repo, number, _ = github
    identity = fake.create_app()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("REVIEWBOT_", "OPENAI_"))}
    env |= {
        "REVIEWBOT_APP_ID": str(identity.app_id),
        "REVIEWBOT_PRIVATE_KEY": identity.private_key_pem,
        "REVIEWBOT_GITHUB_API_URL": fake.url,
        "REVIEWBOT_DATA_DIR": str(tmp_path / "data"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "reviewbot.cli", "review", "--pr", f"{repo}#{number}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 3 and "needs a token" in result.stderr
