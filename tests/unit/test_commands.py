"""Comment commands: `parse_command` reads the first `@reviewbot <command>` line a maintainer wrote."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.review.commands import (
    ALIASES,
    DEFAULT_HANDLES,
    MAX_BODY,
    MAX_FOCUS,
    MAX_WORD,
    Command,
    CommandName,
    handles_for,
    parse_command,
)

R, A, S, P, T, H = (
    CommandName.REREVIEW,
    CommandName.AUTOMERGE,
    CommandName.STOP,
    CommandName.RESUME,
    CommandName.STATUS,
    CommandName.HELP,
)


def cmd(name: CommandName | None, word: str, line: int = 1, focus: str = "", truncated: bool = False) -> Command:
    return Command(name=name, word=word, focus=focus, focus_truncated=truncated, line=line)


# --------------------------------------------------------------------------- aliases

ALIAS_TABLE = [
    ("re-review", R),
    ("rereview", R),
    ("review again", R),
    ("rerun", R),
    ("re-run", R),
    ("review", R),
    ("automerge", A),
    ("auto-merge", A),
    ("auto merge", A),
    ("merge when ready", A),
    ("stop", S),
    ("pause", S),
    ("human review", S),
    ("resume", P),
    ("approve", P),
    ("status", T),
    ("help", H),
]


def test_the_alias_table_is_exported_as_documented() -> None:
    assert dict(ALIAS_TABLE) == ALIASES
    assert list(ALIASES) == [alias for alias, _ in ALIAS_TABLE]  # the docs print them in this order
    assert [name.value for name in CommandName] == ["re-review", "automerge", "stop", "resume", "status", "help"]
    assert DEFAULT_HANDLES == ("@reviewbot", "@reviewbot[bot]", "/reviewbot")


@pytest.mark.parametrize(("alias", "name"), ALIAS_TABLE, ids=[alias for alias, _ in ALIAS_TABLE])
def test_every_alias(alias: str, name: CommandName) -> None:
    assert parse_command(f"@reviewbot {alias}") == cmd(name, alias)
    assert parse_command(f"@ReviewBot {alias.upper()}") == cmd(name, alias)
    assert parse_command(f"/reviewbot   {alias.replace(' ', '   ')}.") == cmd(name, alias)


# --------------------------------------------------------------------------- the table

CASES: list[tuple[str, str | None, Command | None]] = [
    # case, spacing, punctuation
    ("upper case", "@REVIEWBOT STATUS", cmd(T, "status")),
    ("mixed case words", "@ReviewBot Review Again", cmd(R, "review again")),
    ("spaces between words", "@reviewbot   auto    merge", cmd(A, "auto merge")),
    ("tab between words", "@reviewbot\tmerge \t when  ready", cmd(A, "merge when ready")),
    ("three leading spaces", "   @reviewbot status", cmd(T, "status")),
    ("trailing spaces", "@reviewbot stop   ", cmd(S, "stop")),
    ("trailing full stop", "@reviewbot status.", cmd(T, "status")),
    ("trailing bang", "@reviewbot stop!", cmd(S, "stop")),
    ("trailing punctuation run", "@reviewbot help?!...", cmd(H, "help")),
    ("punctuation on the last alias word", "@reviewbot human review!", cmd(S, "human review")),
    ("punctuation inside an alias breaks it", "@reviewbot review, again", cmd(R, "review", focus="again")),
    ("longest alias first", "@reviewbot review again", cmd(R, "review again")),
    ("human review is not review", "@reviewbot human review please", cmd(S, "human review")),
    # handles
    ("bot handle", "@reviewbot[bot] approve", cmd(P, "approve")),
    ("bot handle upper case", "@REVIEWBOT[BOT] resume", cmd(P, "resume")),
    ("slash handle", "/reviewbot pause", cmd(S, "pause")),
    ("handle with a suffix", "@reviewbotx status", None),
    ("handle with a dash suffix", "@reviewbot-ci status", None),
    ("handle with a colon", "@reviewbot: status", cmd(T, "status")),
    ("handle with a comma", "@reviewbot, status", cmd(T, "status")),
    ("handle with a colon and no space", "@reviewbot:status", None),
    ("handle with two colons", "@reviewbot:: status", None),
    ("slash handle with a suffix", "/reviewbots status", None),
    ("bot handle with a suffix", "@reviewbot[bot]x status", None),
    # where the line is
    ("mid sentence", "please ask @reviewbot status", None),
    ("after a sentence on the same line", "Thanks. @reviewbot stop", cmd(S, "stop")),
    (
        "after an exclamation, with focus",
        "Thanks! @reviewbot re-review the retry loop",
        cmd(R, "re-review", focus="the retry loop"),
    ),
    ("after a question, with a colon", "Ready? @reviewbot: automerge", cmd(A, "automerge")),
    ("after a sentence, in inline code", "Thanks! `@reviewbot stop`", None),
    ("after a sentence, in emphasis", "Thanks! *@reviewbot stop*", None),
    ("after a sentence, in link text", "Thanks! [@reviewbot stop](https://example.com)", None),
    ("after a sentence, in a quote", "> Thanks! @reviewbot stop", None),
    ("after a sentence, in a code block", "```\nThanks! @reviewbot stop\n```", None),
    ("after a sentence in a list item", "- Looks right. @reviewbot automerge", cmd(A, "automerge")),
    ("a later sentence of a line that starts with text", "I read it. Tests pass. @reviewbot stop", cmd(S, "stop")),
    ("second line", "Thanks!\n@reviewbot stop", cmd(S, "stop", line=2)),
    ("after a blank line", "Thanks!\n\n@reviewbot stop", cmd(S, "stop", line=3)),
    ("four spaces: indented code", "    @reviewbot stop", None),
    ("a tab: indented code", "\t@reviewbot stop", None),
    ("four spaces on a paragraph continuation line", "intro\n    @reviewbot stop", None),
    ("ATX heading", "# @reviewbot stop", None),
    ("setext heading", "@reviewbot stop\n---", cmd(S, "stop")),
    # code
    ("backtick fence", "```\n@reviewbot stop\n```", None),
    ("tilde fence", "~~~markdown\n@reviewbot stop\n~~~", None),
    ("indented fence", "  ```\n  @reviewbot stop\n  ```", None),
    ("short fence does not close a long one", "````\n```\n@reviewbot stop\n````", None),
    ("unclosed fence runs to the end", "```\nlog\n\n@reviewbot stop\n\n@reviewbot approve", None),
    ("after a closed fence", "```\nlog\n```\n@reviewbot stop", cmd(S, "stop", line=4)),
    ("backtick info string is not a fence", "```js `x`\n@reviewbot stop", cmd(S, "stop", line=2)),
    ("inline code", "`@reviewbot stop`", None),
    ("inline code after text", "run `@reviewbot stop` to pause", None),
    ("code span over lines", "see `x\n@reviewbot stop` here", None),
    # quotes
    ("quote", "> @reviewbot stop", None),
    ("quote without a space", "  >@reviewbot stop", None),
    ("nested quote", "> > @reviewbot stop", None),
    ("nested quote without spaces", ">>@reviewbot stop", None),
    ("lazy quote continuation", "> I think\n@reviewbot stop", None),
    ("lazy nested quote continuation", "> > I think\n@reviewbot stop", None),
    ("after a quote and a blank line", "> I think\n\n@reviewbot stop", cmd(S, "stop", line=3)),
    ("quote in a list item", "- > @reviewbot stop", None),
    # HTML
    ("HTML comment", "<!-- @reviewbot re-review -->", None),
    ("HTML comment over lines", "<!--\n@reviewbot re-review\n-->", None),
    ("inline HTML comment over lines", "LGTM <!--\n@reviewbot approve\n-->", None),
    ("HTML block", "<details>\n@reviewbot stop\n</details>", None),
    ("after an HTML comment", "<!-- template -->\n\n@reviewbot stop", cmd(S, "stop", line=3)),
    # other inline markup
    ("emphasis over lines", "*a\n@reviewbot stop*", None),
    ("link text over lines", "[see\n@reviewbot stop](https://example.com)", None),
    # lists
    ("bullet list item", "- @reviewbot status", cmd(T, "status")),
    ("star list item", "* @reviewbot status", cmd(T, "status")),
    ("ordered list item", "1. @reviewbot stop", cmd(S, "stop")),
    ("list item continuation line", "- intro\n  @reviewbot status", cmd(T, "status", line=2)),
    ("list item lazy line", "- intro\n@reviewbot status", cmd(T, "status", line=2)),
    ("nested list item", "- a\n  - @reviewbot help", cmd(H, "help", line=2)),
    ("two markers on one line", "- 1. @reviewbot help", cmd(H, "help")),
    ("list item paragraph after a blank first line", "-\n  @reviewbot stop", cmd(S, "stop", line=2)),
    ("list item continuation indented 4 past the content", "- a\n      @reviewbot stop", None),
    ("code in a list item", "- ```\n  @reviewbot stop\n  ```", None),
    ("indented code in a list item", "-     @reviewbot stop", None),
    # first command wins
    ("first of two", "@reviewbot stop\n@reviewbot approve", cmd(S, "stop")),
    ("a paragraph before a list item", "@reviewbot status\n\n- @reviewbot stop", cmd(T, "status")),
    ("an unknown first command wins", "@reviewbot frobnicate\n@reviewbot stop", cmd(None, "frobnicate")),
    ("quoted then real", "> @reviewbot approve\n\n@reviewbot stop", cmd(S, "stop", line=3)),
    ("lazy quoted then real", "> @reviewbot approve\n@reviewbot approve\n\n/reviewbot stop", cmd(S, "stop", line=4)),
    ("fenced then real", "```\n@reviewbot approve\n```\n\n@reviewbot stop", cmd(S, "stop", line=5)),
    ("code span then real", "`x\n@reviewbot approve`\n@reviewbot stop", cmd(S, "stop", line=3)),
    # focus
    (
        "focus on the same line",
        "@reviewbot re-review the unlock path in pool.c",
        cmd(R, "re-review", focus="the unlock path in pool.c"),
    ),
    ("focus after punctuation", "@reviewbot review again: teardown", cmd(R, "review again", focus="teardown")),
    (
        "focus on the following lines",
        "@reviewbot rerun\nLook at:\n\n- pool.c\n```\nfree(p);\n```\n",
        cmd(R, "rerun", focus="Look at:\n\n- pool.c\n```\nfree(p);\n```"),
    ),
    (
        "focus on both",
        "Thanks.\n@reviewbot review  the lock order \n  and the retry loop\n",
        cmd(R, "review", line=2, focus="the lock order \n  and the retry loop"),
    ),
    (
        "focus keeps later commands as text",
        "@reviewbot review\n@reviewbot stop",
        cmd(R, "review", focus="@reviewbot stop"),
    ),
    ("no focus for other commands", "@reviewbot stop until Monday\nthanks", cmd(S, "stop")),
    ("no focus for unknown commands", "@reviewbot frobnicate the lock\nthanks", cmd(None, "frobnicate")),
    # unknown and bare
    ("unknown word", "@reviewbot frobnicate", cmd(None, "frobnicate")),
    ("unknown word with punctuation", "@reviewbot Frobnicate!", cmd(None, "frobnicate")),
    ("only punctuation", "@reviewbot ???", cmd(None, "???")),
    ("polite word is unknown", "@reviewbot please review", cmd(None, "please")),
    ("alias prefix is unknown", "@reviewbot reviewing", cmd(None, "reviewing")),
    ("long unknown word is cut", "@reviewbot " + "x" * 500, cmd(None, "x" * MAX_WORD)),
    ("bare handle", "@reviewbot", cmd(None, "")),
    ("bare handle with spaces", "@reviewbot   ", cmd(None, "")),
    ("bare bot handle on line 2", "hi\n@REVIEWBOT[BOT]", cmd(None, "", line=2)),
    # line endings and odd input
    ("CRLF", "Thanks!\r\n\r\n@reviewbot re-review\r\nthe lock\r\n", cmd(R, "re-review", line=3, focus="the lock")),
    ("CRLF focus lines", "@reviewbot review\r\na\r\nb", cmd(R, "review", focus="a\nb")),
    ("lone CR ends a line", "hi\r@reviewbot stop", cmd(S, "stop", line=2)),
    ("NUL in the focus", "@reviewbot review a\0b", cmd(R, "review", focus="a\ufffdb")),
    ("NUL after the handle", "@reviewbot\0stop", None),
    ("None", None, None),
    ("empty", "", None),
    ("no command", "You are totally right! I'll get this fixed right away.", None),
    ("unbalanced everything", "```\n> <!--\n`@reviewbot stop", None),
]


@pytest.mark.parametrize(("body", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_parse_command(body: str | None, expected: Command | None) -> None:
    assert parse_command(body) == expected


def test_case_ids_are_unique() -> None:
    assert len({case[0] for case in CASES}) == len(CASES)


# --------------------------------------------------------------------------- focus limits


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("@reviewbot review " + "x" * MAX_FOCUS, cmd(R, "review", focus="x" * MAX_FOCUS)),
        ("@reviewbot review " + "x" * (MAX_FOCUS + 1), cmd(R, "review", focus="x" * MAX_FOCUS, truncated=True)),
        (
            "@reviewbot review\n" + "y\n" * 4000,
            cmd(R, "review", focus="\n".join(["y"] * (MAX_FOCUS // 2)), truncated=True),
        ),
        ("@reviewbot review " + "z" * 200_000, cmd(R, "review", focus="z" * MAX_FOCUS, truncated=True)),
    ],
    ids=["exactly the limit", "one over", "cut at a line end is stripped", "huge"],
)
def test_focus_is_cut_at_the_limit(body: str, expected: Command) -> None:
    assert parse_command(body) == expected


def test_the_body_is_cut_before_parsing() -> None:
    padding = "x\n" * (MAX_BODY // 2)
    assert parse_command(padding + "@reviewbot stop") is None  # past the cut
    assert parse_command(padding[:-4] + "@reviewbot stop") is None  # only "@rev" is left
    assert parse_command(padding[:-12] + "@reviewbot stop") == cmd(None, "s", line=MAX_BODY // 2 - 5)  # "top" is cut
    assert parse_command(padding[:-20] + "@reviewbot stop") == cmd(S, "stop", line=MAX_BODY // 2 - 9)


# --------------------------------------------------------------------------- handles


def test_handles_for() -> None:
    assert handles_for("reviewbot") == DEFAULT_HANDLES
    assert handles_for("lockbot") == ("@lockbot", "@lockbot[bot]", "/lockbot")
    assert handles_for(" @LockBot[bot] ") == ("@lockbot", "@lockbot[bot]", "/lockbot")
    assert handles_for("/lockbot") == ("@lockbot", "@lockbot[bot]", "/lockbot")
    for bad in ("", "  ", "@", "[bot]", "lock bot"):
        with pytest.raises(ValueError):
            handles_for(bad)


LOCKBOT = handles_for("lockbot")


@pytest.mark.parametrize(
    ("body", "handles", "expected"),
    [
        ("@lockbot stop", LOCKBOT, cmd(S, "stop")),
        ("@LockBot[bot] status", LOCKBOT, cmd(T, "status")),
        ("/lockbot review the mutex", LOCKBOT, cmd(R, "review", focus="the mutex")),
        ("@reviewbot stop", LOCKBOT, None),
        ("@lockbots stop", LOCKBOT, None),
        ("!lock retry", ("!lock",), cmd(None, "retry")),
        ("@reviewbot stop", "@reviewbot", cmd(S, "stop")),  # a single handle passed as a string
        ("@reviewbot stop", (), None),
        ("@reviewbot stop", ("", "  "), None),
        ("@review stop\n@review bot stop", ("@review", "@review bot"), cmd(S, "stop")),
        ("@review bot stop", ("@review", "@review bot"), cmd(S, "stop")),  # longest handle first
    ],
    ids=[
        "custom",
        "custom bot handle",
        "custom slash handle",
        "default handle not a custom one",
        "custom with suffix",
        "other prefix",
        "string handle",
        "no handles",
        "blank handles",
        "shorter handle",
        "longer handle",
    ],
)
def test_custom_handles(body: str, handles: tuple[str, ...], expected: Command | None) -> None:
    assert parse_command(body, handles) == expected


# --------------------------------------------------------------------------- properties

FRAGMENTS = st.sampled_from(
    [
        "@reviewbot",
        "@reviewbot[bot]",
        "/reviewbot",
        "@ReviewBot",
        " ",
        "   ",
        "    ",
        "\t",
        "\n",
        "\n\n",
        "\r\n",
        "\r",
        "> ",
        ">",
        "- ",
        "* ",
        "1. ",
        "```",
        "~~~",
        "<!--",
        "-->",
        "<div>",
        "`",
        "*",
        "_",
        "[",
        "](",
        ")",
        "\\",
        "#",
        "---",
        "===",
        "re-review",
        "review",
        "again",
        "auto",
        "merge",
        "stop",
        "status",
        ".",
        "!",
        ":",
        "\0",
        "x",
        "\u2028",
        "\x85",
        "\ufffd",
        "\U000f0000",
        "ß",
        "İ",
    ]
)
MARKDOWNISH = st.lists(st.one_of(FRAGMENTS, st.text(max_size=4)), max_size=60).map("".join)


def check(body: str, result: Command | None) -> None:
    if result is None:
        return
    assert isinstance(result, Command)
    assert result.name is None or isinstance(result.name, CommandName)
    assert result.name is None or ALIASES[result.word] is result.name
    assert 1 <= result.line <= body.count("\n") + body.count("\r") + 1
    assert len(result.focus) <= MAX_FOCUS and len(result.word) <= MAX_WORD
    assert result.focus == "" or result.name is CommandName.REREVIEW
    assert result.focus == result.focus.strip()


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), MARKDOWNISH))
def test_any_text_never_raises(body: str) -> None:
    check(body, parse_command(body))
    check(body, parse_command(body, handles_for("lockbot")))


@settings(max_examples=200, deadline=None)
@given(MARKDOWNISH.filter(lambda body: "\r" not in body))
def test_crlf_bodies_parse_like_lf_bodies(body: str) -> None:
    assert parse_command(body.replace("\n", "\r\n")) == parse_command(body)


@settings(max_examples=200, deadline=None)
@given(MARKDOWNISH, st.sampled_from(["> ", ">", "> > ", "    ", "\t"]))
def test_a_quoted_or_indented_body_has_no_command(body: str, prefix: str) -> None:
    # Quoting every line or indenting it as code hides whatever the lines say.
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert parse_command("\n".join(prefix + line for line in lines)) is None


def test_every_command_is_described_with_an_example_that_parses_to_it() -> None:
    from reviewbot.review.commands import DESCRIPTIONS
    from reviewbot.review.status_comments import help_text

    assert set(DESCRIPTIONS) == set(CommandName)
    for name, (what, example) in DESCRIPTIONS.items():
        parsed = parse_command(example)
        assert parsed is not None and parsed.name is name, example
        assert what.endswith(".")
    text = help_text("| Command | Who may run it |\n| --- | --- |\n", {"approve": "resume"})
    assert all(f"`{example}`" in text for _, example in DESCRIPTIONS.values())
    assert "Who may run each:" in text
