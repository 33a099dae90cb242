"""The rule catalogue is the one source of each finding's words and rank.

Every rule the scan can emit must have a record, and a finding must carry exactly
that record's title, explanation, per-language fix and priority (escalation aside),
so the docs table, the comment and the check run never disagree.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from reviewbot.model import Priority
from reviewbot.review.diff import parse_unified_diff
from reviewbot.review.lock_scan import RULES, rules_markdown, scan

DIFFS = Path(__file__).resolve().parents[1] / "data" / "diffs"


def all_fixture_findings():
    for path in sorted(DIFFS.glob("*.diff")):
        files = parse_unified_diff(path.read_text())
        yield from ((f, files) for f in scan(files, []))


def test_every_finding_uses_its_catalogue_record() -> None:
    seen = set()
    for finding, files in all_fixture_findings():
        rule = RULES[finding.rule]
        lang = next(f.language for f in files if f.path == finding.path)
        assert finding.title == rule.title or finding.title.startswith(rule.title + " (")
        assert finding.why == rule.why
        assert finding.suggestion == rule.suggestion(lang)  # type: ignore[arg-type]
        assert finding.priority == rule.priority or (rule.escalation and finding.priority == Priority.P0)
        seen.add(finding.rule)
    assert seen == set(RULES), "every catalogue rule is exercised by a fixture diff"


def test_rules_are_frozen_records_and_the_table_follows_them() -> None:
    rule = RULES["force-release-without-owner-check"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.priority = Priority.P0  # type: ignore[misc]
    table = rules_markdown()
    assert f"| `{rule.id}` | P1 ({rule.escalation}) | {rule.title} |" in table
    assert table.count("\n") == len(RULES) + 2
