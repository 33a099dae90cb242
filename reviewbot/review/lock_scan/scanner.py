"""Running the scan: every rule over every scannable hunk, then dedupe, rank and cap."""

from __future__ import annotations

from reviewbot.model import Finding
from reviewbot.review.diff import FileDiff
from reviewbot.review.lock_scan.diff_rules import inconsistent_lock_order, lock_change_without_test, scannable
from reviewbot.review.lock_scan.rules import WINDOW_RULES
from reviewbot.review.lock_scan.shape import Window

MAX_FINDINGS = 50


def scan(files: list[FileDiff], changed_tests: list[str]) -> list[Finding]:
    """Run every rule; dedupe, rank by priority then path then line, and cap the output.

    `changed_tests` are the PR's test files as the proof engine classified them
    (`ChangedFiles.tests`): they are not scanned, only counted as evidence.
    """
    tests = set(changed_tests)
    windows = [
        Window(f.path, f.language, hunk.lines, hunk.section)  # type: ignore[arg-type]
        for f in files
        if scannable(f, tests)
        for hunk in f.hunks
    ]
    findings: list[Finding] = []
    for window in windows:
        for rule in WINDOW_RULES:
            findings.extend(rule(window))
    findings.extend(inconsistent_lock_order(windows))
    findings.extend(lock_change_without_test(files, changed_tests))
    return _rank(findings)


def _rank(findings: list[Finding]) -> list[Finding]:
    seen: dict[tuple[str, str, int], Finding] = {}
    for finding in findings:
        key = (finding.rule, finding.path, finding.line)
        if key not in seen or finding.priority < seen[key].priority:
            seen[key] = finding
    creates = {(f.path, f.line) for f in seen.values() if f.rule == "check-then-create"}
    kept = [f for f in seen.values() if not (f.rule == "non-atomic-lock-write" and (f.path, f.line) in creates)]
    kept.sort(key=lambda f: (f.priority.value, f.path, f.line, f.rule))
    return kept[:MAX_FINDINGS]
