"""The shared names: each written and read through one definition, so writer and reader always agree."""

from __future__ import annotations

from reviewbot.bot.replacement import replacement_body, source_of
from reviewbot.github.comments import MARKER_PREFIX, PLACEHOLDER, PLACEHOLDER_MARKER, is_bot_comment
from reviewbot.github.labels import is_managed
from reviewbot.github.pulls import PullRequestInfo
from reviewbot.names import AUTOMERGE_LABEL, HUMAN_REVIEW_LABEL, REVIEW_STARTED_TAG, noreply_email
from reviewbot.review.markers import Marker, parse_marker, render_marker

PR = PullRequestInfo(
    repo="o/r",
    number=7,
    title="t",
    body="Fixes #3",
    author="ann",
    state="open",
    merged=False,
    draft=False,
    head_sha="a" * 40,
    head_ref="fix",
    head_repo="ann/r",
    base_ref="main",
    base_sha="b" * 40,
    clone_url="https://github.com/o/r.git",
    html_url="https://github.com/o/r/pull/7",
    maintainer_can_modify=True,
)


def test_a_replacement_body_names_its_source_to_the_reader() -> None:
    assert source_of(replacement_body(PR, [("Ann", "ann@x")], "mona")) == 7
    assert source_of("Replaces #7, written by a person") is None


def test_the_review_marker_is_what_the_comment_finder_looks_for_and_parse_marker_reads() -> None:
    marker = Marker(head="c" * 40, verdict="proven", outcome="passed", rank="S")
    body = "## review\n\ntext\n\n" + render_marker(marker) + "\n"
    assert render_marker(marker).startswith(MARKER_PREFIX)
    assert parse_marker(body) == marker


def test_the_placeholder_counts_as_the_review_comment_until_the_review_replaces_it() -> None:
    placeholder = PLACEHOLDER.format(head="c" * 12)
    assert f"<!-- {REVIEW_STARTED_TAG} {'c' * 12} -->" in placeholder and PLACEHOLDER_MARKER in placeholder
    assert is_bot_comment(placeholder, "reviewbot[bot]", "reviewbot[bot]", MARKER_PREFIX)


def test_the_bot_manages_the_human_review_label_but_never_the_automerge_one() -> None:
    assert is_managed(HUMAN_REVIEW_LABEL) and is_managed("status: passed")
    assert not is_managed(AUTOMERGE_LABEL) and not is_managed("bug")


def test_a_login_gets_githubs_noreply_address() -> None:
    assert noreply_email("mona") == "mona@users.noreply.github.com"


def test_the_reef_update_tells_the_contributor_how_to_avoid_a_replacement() -> None:
    from reviewbot.review.status_comments import reef_update

    text = reef_update(
        "ann",
        "https://github.com/o/r/pull/9",
        9,
        ["Ann <ann@example.invalid>"],
        "GitHub refused to update the branch (no push rights to it)",
    )
    assert "#9" in text and "Allow edits by maintainers" in text
    assert text.rstrip().endswith("-->")  # the marker stays last
