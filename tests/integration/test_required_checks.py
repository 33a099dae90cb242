"""Which checks a merge requires, read by the GitHub edge from the fake GitHub over HTTP.

Rulesets (`GET /rules/branches/{branch}`) and classic branch protection (`GET /branches/{branch}`)
together; None when either cannot be read, so automerge falls back to "every other check" and
says so instead of calling every failing check required.
"""

from __future__ import annotations

import pytest

from reviewbot.github.client import Connection, GitHubEdge, default_retry
from reviewbot.github.merging import required_checks
from tests.fakegithub import FakeGitHub

OWNER = "acme"


@pytest.fixture(scope="module")
def fake():
    with FakeGitHub() as server:
        yield server
        server.assert_contract_clean()


@pytest.fixture(scope="module")
def setup(fake: FakeGitHub) -> tuple[str, Connection]:
    app = fake.create_app()
    fake.add_org(OWNER)
    repo = fake.create_repo(OWNER, "locks")
    fake.commit_to_branch(repo, "main", {"README.md": "locks\n"}, message="Start")
    fake.commit_to_branch(repo, "release/1.x", {"README.md": "locks 1.x\n"}, message="Branch")
    installation = fake.install(app.app_id, OWNER, ["locks"])
    edge = GitHubEdge(
        fake.url,
        app_id=app.app_id,
        private_key=app.private_key_pem,
        retry=default_retry(total=2, backoff_factor=0.01, max_wait_s=1),
        throttle=False,
    )
    return repo, edge.connection(installation)


def test_an_unprotected_branch_requires_nothing(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    assert required_checks(connection, repo, "main") == []


def test_classic_protection_and_rulesets_together(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    fake.require_checks(repo, "release/1.x", ["ci/build"], via="protection")
    assert required_checks(connection, repo, "release/1.x") == ["ci/build"]
    fake.require_checks(repo, "release/1.x", ["ci/lint", "ci/build"], via="ruleset")
    assert required_checks(connection, repo, "release/1.x") == ["ci/build", "ci/lint"]
    assert fake.count("GET", "/repos/*/rules/branches/*") >= 2 and fake.count("GET", "/repos/*/branches/*") >= 2


def test_what_cannot_be_read_is_unknown_not_empty(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    assert required_checks(connection, repo, "gone") is None  # GET /branches/gone: 404
