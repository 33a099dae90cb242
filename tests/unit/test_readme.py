"""The README's rule tables are the code's: a change to either shows up here."""

from __future__ import annotations

from pathlib import Path

from reviewbot.review import lock_scan, ranks

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def test_rank_rule_table_is_the_one_in_the_code() -> None:
    assert ranks.rules_markdown() in README


def test_lock_scan_rule_table_is_the_one_in_the_code() -> None:
    assert lock_scan.rules_markdown() in README


def test_command_permission_table_is_the_one_in_the_code() -> None:
    from reviewbot.bot.permissions import table_markdown

    assert table_markdown() in README


def test_every_command_alias_is_documented() -> None:
    from reviewbot.review.commands import ALIASES

    assert all(f"`{alias}`" in README for alias in ALIASES)
