"""A malformed `.github/reviewbot.yml` on the base branch is explained on the PR, and the review still runs.

One row per kind of mistake maintainers make: wrong types, unknown keys, impossible
timeouts, globs that can never match (and broken YAML). Each must show up in the published
review comment naming the key and its line, and the proof must fall back to the defaults
(detecting the runner and running the PR's changed tests) rather than to no review.
"""

from __future__ import annotations

import pytest

from reviewbot.review.markers import parse_marker
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.queue import REREVIEW
from tests.e2e.world import World

# What this file checks does not depend on the database (the queue and service tests run on both): SQLite only.
pytestmark = [pytest.mark.sandbox, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

SUITE = "suites:\n  - name: lock\n    run: python -m pytest -q tests\n"
MALFORMED = [  # (kind, file text, what the comment must say)
    ("wrong type", SUITE + "    repeat: three\n", ["line 4", "`suites.0.repeat`", "valid integer"]),
    ("unknown key", SUITE + "    timout: 30\n", ["line 4", "`suites.0.timout`", "unknown key"]),
    ("impossible timeout", SUITE + "    timeout: 0\n", ["line 4", "`suites.0.timeout`", "greater than or equal to 1"]),
    (
        "impossible timeout (too long)",
        SUITE + "    timeout: 86400\n",
        ["`suites.0.timeout`", "less than or equal to 3600"],
    ),
    ("invalid glob", SUITE + "    paths: ['src/[lock']\n", ["`suites.0.paths`", "never closed"]),
    ("glob leaving the repository", SUITE + "    paths: ['../secrets/**']\n", ["`suites.0.paths`", "`..`"]),
    ("wrong type at the top", "suites: tests/\n", ["line 1", "`suites`", "valid list"]),
    ("broken YAML", "suites:\n  - name: [lock\n", ["YAML syntax error"]),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    from tests.repos import build_python_proven

    with World(tmp_path_factory.mktemp("config-errors"), build_python_proven) as built:
        yield built


@pytest.mark.parametrize(("kind", "text", "expected"), MALFORMED, ids=[row[0] for row in MALFORMED])
def test_a_malformed_config_is_explained_in_the_review_which_runs_on_defaults(
    world: World, kind: str, text: str, expected: list[str]
) -> None:
    world.fake.commit_to_branch(
        world.repo, "main", {".github/reviewbot.yml": text}, message=f"reviewbot config: {kind}", author="maintainer"
    )
    head = world.head_sha()
    world.service.queue.enqueue(
        JobSpec(
            kind=JobKind.REVIEW,
            repo=world.repo,
            pr_number=world.number,
            head_sha=head,
            installation_id=world.installation,
            reason=REREVIEW,
            payload={},
        )
    )
    assert world.work() == 1
    [comment] = world.bot_comments("<!-- reviewbot:review")
    marker = parse_marker(comment.body)
    assert marker is not None and marker.head == head
    assert marker.verdict == "proven", f"{kind}: the review did not run on defaults"
    assert "Config error, so the bot fell back to detecting the test runner" in comment.body
    assert "`.github/reviewbot.yml` is invalid:\n  - `" in comment.body  # each problem on a line of its own
    for needle in expected:
        assert needle in comment.body, f"{kind}: {needle!r} missing from the comment"
