"""Who may run which maintainer command: every row × every permission × author or not, and bots."""

from __future__ import annotations

import itertools

import pytest

from reviewbot.bot.permissions import (
    BOT_REASON,
    PERMISSION_TABLE,
    SELF_REASON,
    Actor,
    Decision,
    Permission,
    decide,
    table_markdown,
)

SELF = "reviewbot[bot]"
AUTHOR = "alice"
WRITERS = {Permission.WRITE, Permission.MAINTAIN, Permission.ADMIN}
LEVELS = [*Permission, None]  # None: the lookup failed

# The rules, written out independently of the code's table.
EXPECTED_WHO = {
    "re-review": "author-or-write",
    "automerge": "write",
    "stop": "write",
    "resume": "write",
    "status": "anyone",
    "help": "anyone",
}


def expected(command: str, level: Permission | None, is_author: bool) -> bool:
    rule = EXPECTED_WHO.get(command, "anyone")  # unknown commands get the help answer
    if rule == "anyone":
        return True
    if rule == "author-or-write" and is_author:
        return True
    return level in WRITERS


def run(
    command: str | None,
    login: str = "bob",
    *,
    level: Permission | None = Permission.NONE,
    author: str = AUTHOR,
    kind: str = "User",
    allowed_bots: frozenset[str] = frozenset(),
) -> Decision:
    return decide(command, Actor(login, kind), author, level, allowed_bots, self_login=SELF)


# -- the table ----------------------------------------------------------------------------------


def test_the_table_has_the_rows_in_order() -> None:
    assert [command for command, _ in PERMISSION_TABLE] == list(EXPECTED_WHO)


@pytest.mark.parametrize(
    ("command", "level", "is_author"),
    list(itertools.product([*EXPECTED_WHO, "", None, "frobnicate"], LEVELS, [True, False])),
)
def test_every_row_every_level_author_or_not(command: str | None, level: Permission | None, is_author: bool) -> None:
    login = AUTHOR if is_author else "bob"
    decision = run(command, login, level=level)
    assert decision.allowed is expected(command or "", level, is_author)
    assert decision.reason and decision.reason.endswith(".") and "\n" not in decision.reason


@pytest.mark.parametrize("command", ["automerge", "stop", "resume"])
def test_the_refusal_names_the_command_and_who_may_run_it(command: str) -> None:
    decision = run(command, level=Permission.TRIAGE)
    assert decision == Decision(
        False, f"`@reviewbot {command}` can be run by collaborators with write, maintain or admin access."
    )


def test_re_review_refusal_mentions_the_author() -> None:
    decision = run("re-review", level=Permission.READ)
    assert not decision.allowed
    assert decision.reason == (
        "`@reviewbot re-review` can be run by the PR's author, or collaborators with write, maintain or admin access."
    )


def test_the_author_gets_no_more_than_re_review() -> None:
    assert run("re-review", AUTHOR).allowed
    for command in ("automerge", "stop", "resume"):
        assert not run(command, AUTHOR).allowed


def test_unknown_permission_counts_as_none() -> None:
    assert run("automerge", level=None) == run("automerge", level=Permission.NONE)
    assert not run("re-review", level=None).allowed
    assert run("re-review", AUTHOR, level=None).allowed


def test_commands_are_matched_without_case_or_padding() -> None:
    assert not run(" AutoMerge ", level=Permission.READ).allowed
    assert run("Re-Review", AUTHOR).allowed


def test_no_author_never_makes_an_empty_login_the_author() -> None:
    assert not run("re-review", "", author="").allowed


# -- logins -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("login", "author"), [("ALICE", "alice"), ("alice", "Alice"), ("AlIcE", "aLiCe")])
def test_the_author_is_matched_case_insensitively(login: str, author: str) -> None:
    assert run("re-review", login, author=author).allowed


# -- bots ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [*EXPECTED_WHO, "", None])
@pytest.mark.parametrize(
    ("login", "kind"),
    [("dependabot[bot]", "Bot"), ("renovate[bot]", "User"), ("ci-robot", "Bot"), ("Some-App[BOT]", "User")],
)
def test_bots_are_ignored_for_everything(command: str | None, login: str, kind: str) -> None:
    decision = run(command, login, kind=kind, level=Permission.ADMIN, author=login)
    assert decision == Decision(False, BOT_REASON)
    assert "allow" in decision.reason and "bot" in decision.reason


@pytest.mark.parametrize("command", [*EXPECTED_WHO, ""])
@pytest.mark.parametrize("level", LEVELS)
def test_an_allow_listed_bot_is_held_to_the_rules(command: str, level: Permission | None) -> None:
    decision = run(command, "Renovate[bot]", kind="Bot", level=level, allowed_bots=frozenset({"renovate[BOT]"}))
    assert decision.allowed is expected(command, level, is_author=False)


def test_an_allow_listed_bot_may_re_review_its_own_pr() -> None:
    allowed = frozenset({"renovate[bot]"})
    assert run("re-review", "renovate[bot]", kind="Bot", author="renovate[bot]", allowed_bots=allowed).allowed
    assert not run("re-review", "renovate[bot]", kind="Bot", author="renovate[bot]").allowed


def test_the_allow_list_names_bots_not_people() -> None:
    """Listing one bot lets no other bot through, and means nothing for a person."""
    allowed = frozenset({"renovate[bot]"})
    assert not run("status", "dependabot[bot]", kind="Bot", allowed_bots=allowed).allowed
    assert not run("automerge", "renovate", allowed_bots=allowed).allowed


@pytest.mark.parametrize("command", [*EXPECTED_WHO, "", None])
@pytest.mark.parametrize("login", [SELF, "ReviewBot[BOT]"])
def test_the_bot_itself_is_never_allowed(command: str | None, login: str) -> None:
    everything = frozenset({SELF, login})
    decision = run(command, login, kind="Bot", level=Permission.ADMIN, author=login, allowed_bots=everything)
    assert decision == Decision(False, SELF_REASON)


def test_a_token_bot_user_is_never_allowed_either() -> None:
    """With a token, the bot comments as a plain user: refused by its login, not its type."""
    decision = decide(
        "status", Actor("Lock-Review-Bot", "User"), AUTHOR, Permission.WRITE, self_login="lock-review-bot"
    )
    assert decision == Decision(False, SELF_REASON)


# -- the docs table -----------------------------------------------------------------------------


def test_table_markdown_has_one_row_per_command() -> None:
    lines = table_markdown().splitlines()
    assert lines[:2] == ["| Command | Who may run it |", "| --- | --- |"]
    rows = lines[2:]
    assert len(rows) == len(PERMISSION_TABLE) == len(EXPECTED_WHO)
    for row, command in zip(rows, EXPECTED_WHO, strict=True):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[0] == f"`@reviewbot {command}`"
        who = cells[1]
        if EXPECTED_WHO[command] == "anyone":
            assert who == "anyone"
        else:
            assert "write, maintain or admin" in who
            assert ("author" in who) is (EXPECTED_WHO[command] == "author-or-write")


def test_table_markdown_ends_with_a_newline_and_has_no_stray_pipes() -> None:
    text = table_markdown()
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert all(line.count("|") == 3 for line in text.splitlines())
