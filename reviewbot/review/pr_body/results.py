"""Pass/fail counts a line claims ("4/4 pass", "12 passed, 1 failed", TAP `# pass 3`)."""

from __future__ import annotations

import re

from reviewbot.review.pr_body.records import MAX_RESULT_TEXT, ClaimedResult, collapse

_N = r"\b(\d{1,9})\b"
_PASS_WORD = r"(?:pass(?:ed|ing|es)?|green|ok|succeed(?:ed|s)?|successful)\b"
_RATIO = re.compile(rf"{_N}\s*(?:/|\s+of\s+)\s*{_N}\s+(?:[a-z-]+\s+){{0,2}}?(?:are\s+|were\s+)?{_PASS_WORD}", re.I)
_RATIO_AFTER = re.compile(rf"\bpass(?:ed|ing|es)?\s*:?\s*\(?{_N}\s*/\s*{_N}", re.I)
_COUNT = re.compile(
    rf"{_N}\s+(?:(?:unit|integration|e2e|new|existing)\s+)?(?:(?:tests?|specs?|cases?)\s+)?"
    r"(passed|passing|pass|passes|failed|failing|fail|fails|failures?|errors?|errored|skipped|pending)\b",
    re.I,
)
_TOTAL = re.compile(rf"{_N}\s+total\b", re.I)
_ALL_N = re.compile(rf"(?<!not\s)\ball\s+{_N}\s+(?:[a-z-]+\s+){{0,2}}?(?:(?:now|still|are|were)\s+)*{_PASS_WORD}", re.I)
_ALL = re.compile(
    rf"(?<!not\s)\ball\s+(?:[a-z-]+\s+){{0,2}}?(?:tests?|specs?)\s+(?:(?:now|still|are|were)\s+)*{_PASS_WORD}",
    re.I,
)
_CHECKMARK = re.compile(rf"(?:✅|✔️?|✓|☑️?|🟢)\s*{_N}\s+(?:tests?|specs?)\b", re.I)
_PAIR = re.compile(rf"\b(tests|pass|fail|skipped)\s+{_N}", re.I)
TAP_LINE = re.compile(r"^(?:#|ℹ)\s*(?:tests|suites|pass|fail|cancelled|skipped|todo|duration_ms)\s+\d", re.I)
_NOT_A_RESULT = re.compile(r"^(?:Test Suites|Snapshots|Time):", re.I)
_PAIR_FIELDS = {"tests": "total", "pass": "passed", "fail": "failed", "skipped": "skipped"}

_Counts = dict[str, int]


def _fill(counts: _Counts, **values: int | None) -> None:
    """Earlier, more specific rules win: only fill what is still unknown."""
    for name, value in values.items():
        if value is not None and name not in counts:
            counts[name] = value


def _tap_counts(text: str, counts: _Counts) -> None:
    pairs = _PAIR.findall(text)
    if len(pairs) >= 2 or (pairs and TAP_LINE.match(text)):
        for word, number in pairs:
            _fill(counts, **{_PAIR_FIELDS[word.lower()]: int(number)})


def _ratio_counts(text: str, counts: _Counts) -> None:
    match = _RATIO.search(text) or _RATIO_AFTER.search(text)
    if match and int(match[1]) <= int(match[2]):
        passed, total = int(match[1]), int(match[2])
        _fill(counts, passed=passed, total=total, failed=total - passed)


def _word_counts(text: str, counts: _Counts) -> None:
    found: _Counts = {}
    for number, word in _COUNT.findall(text):
        word = word.lower()
        name = "skipped" if word in ("skipped", "pending") else "passed" if word.startswith("pass") else "failed"
        found[name] = found.get(name, 0) + int(number)
    total = _TOTAL.search(text)
    _fill(counts, **found, total=int(total[1]) if total else None)


def _all_pass_counts(text: str, counts: _Counts) -> None:
    match = _ALL_N.search(text)
    if match:
        _fill(counts, passed=int(match[1]), total=int(match[1]), failed=0)
    elif _ALL.search(text):
        _fill(counts, failed=0)
    check = _CHECKMARK.search(text)
    if check:
        _fill(counts, passed=int(check[1]))


def _derive(counts: _Counts) -> None:
    """Fill total/failed when the other numbers pin them down."""
    passed, failed, total = counts.get("passed"), counts.get("failed"), counts.get("total")
    skipped = counts.get("skipped", 0)
    if total is None and passed is not None and failed is not None:
        counts["total"] = passed + failed + skipped
    elif failed is None and passed is not None and total is not None and total >= passed + skipped:
        counts["failed"] = total - passed - skipped


def claimed_result(line: str) -> ClaimedResult | None:
    """The pass/fail claim a line makes, if any."""
    text = collapse(line)
    if not text or _NOT_A_RESULT.match(text):
        return None
    counts: _Counts = {}
    for rule in (_tap_counts, _ratio_counts, _word_counts, _all_pass_counts):
        rule(text, counts)
    if not counts.keys() & {"passed", "failed", "total"}:
        return None
    _derive(counts)
    return ClaimedResult(
        text=text[:MAX_RESULT_TEXT],
        passed=counts.get("passed"),
        failed=counts.get("failed"),
        total=counts.get("total"),
    )
