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


def test_every_test_security_md_names_exists() -> None:
    """SECURITY.md points at tests for its claims; a renamed or deleted test must show up here."""
    import re

    root = Path(__file__).parents[2]
    security = (root / "SECURITY.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`(tests/[\w/]+\.py)", security))
    assert paths and all((root / path).is_file() for path in paths)
    sources = "\n".join((root / path).read_text(encoding="utf-8") for path in paths)
    names = set(re.findall(r"(?:::|`)(test_\w+)`", security))
    assert names and [name for name in names if f"def {name}(" not in sources] == []
