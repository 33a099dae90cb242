"""Escaping primitives: untrusted text stays text wherever the comment puts it."""

from __future__ import annotations

import pytest

from reviewbot.review.markdown import ZERO_WIDTH, code_span, escape_inline, fence


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a|b\n@c <i>", f"a\\|b @{ZERO_WIDTH}c &lt;i&gt;", id="pipe-newline-mention-html"),
        pytest.param("[link](javascript:x)", "\\[link\\](javascript:x)", id="link"),
        pytest.param("![img](x)", "!\\[img\\](x)", id="image"),
        pytest.param("**bold** _it_ `code`", "\\*\\*bold\\*\\* \\_it\\_ \\`code\\`", id="emphasis-and-code"),
        pytest.param("<!-- reviewbot:review {} -->", "&lt;!-- reviewbot:review {} --&gt;", id="marker"),
        pytest.param("plain words, 4/4 pass.", "plain words, 4/4 pass.", id="plain-is-unchanged"),
        pytest.param(
            "fails (or hangs) in fix(lock), see #2!",
            "fails (or hangs) in fix(lock), see #2!",
            id="parentheses-hashes-bangs-unchanged",
        ),
        pytest.param("snake_case_name", "snake_case_name", id="intraword-underscore-unchanged"),
        pytest.param("# not a heading", "\\# not a heading", id="heading-at-start"),
        pytest.param("- not a list", "\\- not a list", id="bullet-at-start"),
        pytest.param("1. not a list", "1\\. not a list", id="ordered-at-start"),
        pytest.param("~~gone~~", "\\~\\~gone\\~\\~", id="strikethrough"),
    ],
)
def test_escape_inline(text: str, expected: str) -> None:
    assert escape_inline(text) == expected


def test_contributor_prose_keeps_its_emphasis_but_not_links() -> None:
    assert escape_inline("the *older* [copy](x)", emphasis=True) == "the *older* \\[copy\\](x)"


@pytest.mark.parametrize(
    ("text", "in_table", "expected"),
    [
        pytest.param("plain", False, "`plain`", id="plain"),
        pytest.param("a `b` c", False, "``a `b` c``", id="longer-fence"),
        pytest.param("`x`", False, "`` `x` ``", id="padded-when-edge-backtick"),
        pytest.param("a|b", True, "`a\\|b`", id="pipe-in-table"),
        pytest.param("a|b", False, "`a|b`", id="pipe-outside-table"),
        pytest.param("<!-- x", False, f"`<{ZERO_WIDTH}!-- x`", id="marker-defused"),
        pytest.param("", False, "` `", id="empty"),
    ],
)
def test_code_span(text: str, in_table: bool, expected: str) -> None:
    assert code_span(text, in_table) == expected


def test_fence_outlives_backticks_and_defuses_markers() -> None:
    text = fence("```\n</details>\n<!-- reviewbot:review {} -->")
    assert text.startswith("````text\n") and text.endswith("\n````")
    assert "<!-- reviewbot" not in text
