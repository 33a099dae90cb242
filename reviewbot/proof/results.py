"""Test counts from what a runner leaves behind: JUnit XML, or its own summary lines.

The proof engine judges a suite by its exit code; these counts say *what* ran and
*which* tests failed, so the review can name them. JUnit XML is preferred when a
suite writes it; otherwise we read the closing summary the runner prints anyway.

Every format here was checked against real output captured from the tools
(tests/data/runner_output/README.md lists versions and commands). Name
extraction is best effort: counts come from the summary, names from whatever
the runner prints cheaply next to it.

The output comes from code in the pull request, so a test can print anything.
Every pattern here is anchored to a line start and matches in linear time (no
lazy group followed by an optional tail); free text is captured whole with
`(.*)` and trimmed in Python.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import NamedTuple

from reviewbot.model import TestCounts

RUNNERS: tuple[str, ...] = ("pytest", "node", "jest", "vitest", "mocha", "tap")
MAX_NAMES = 50  # failing names kept per parse; a review listing more helps no one
MAX_NAME_CHARS = 300  # a test name longer than this is cut

# CSI sequences (colours, cursor moves), OSC sequences (titles, links), lone escapes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


class _Found(NamedTuple):
    end: int  # where the summary ends in the output: the latest one wins
    counts: TestCounts


def strip_ansi(text: str) -> str:
    """Drop colour and cursor codes: runners colour their summaries even in logs."""
    return _ANSI.sub("", text)


def _clean(output: str) -> str:
    """Plain text with `\\n` line ends (progress redraws use a bare `\\r`)."""
    return strip_ansi(output).replace("\r\n", "\n").replace("\r", "\n")


def _bounded(names: Iterable[str]) -> list[str]:
    """Dedupe, keep first-seen order, cap at MAX_NAMES names of MAX_NAME_CHARS each."""
    seen: dict[str, None] = {}
    for name in names:
        name = name.strip()[:MAX_NAME_CHARS]
        if name and name not in seen:
            seen[name] = None
            if len(seen) >= MAX_NAMES:
                break
    return list(seen)


def _last(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, int]:
    """The last match, and where the text after the previous match begins.

    Names are read from that stretch only, so a repeated run (watch mode,
    retries) does not mix in the failures of an earlier pass.
    """
    previous_end, last = 0, None
    for match in pattern.finditer(text):
        if last is not None:
            previous_end = last.end()
        last = match
    return last, previous_end


_COUNT = re.compile(r"(\d+) (\w+(?: \w+)*)")


def _tally(parts: str, separator: str, kinds: dict[str, str]) -> dict[str, int]:
    """Sum "N word" parts (`1 failed, 3 passed`) into passed/failed/skipped by the runner's words."""
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for part in parts.split(separator):
        count = _COUNT.fullmatch(part.strip())
        kind = kinds.get(count[2]) if count else None
        if count and kind:
            totals[kind] += int(count[1])
    return totals


_DURATION = re.compile(r"\d+(?:\.\d+)? ?m?s\)")


def _without_duration(name: str) -> str:
    """`computes the wrong sum (0.87ms)` -> `computes the wrong sum`."""
    name = name.strip()
    head, bracket, tail = name.rpartition(" (")
    return head.rstrip() if bracket and _DURATION.fullmatch(tail) else name


# --- JUnit XML --------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_body(text: str) -> str | None:
    """The XML document inside `text`: reporters writing to stdout may have company."""
    starts = [i for i in (text.find("<?xml"), text.find("<testsuite")) if i >= 0]
    if not starts:
        return None
    body = text[min(starts) :]
    for closing in ("</testsuites>", "</testsuite>"):
        end = body.rfind(closing)
        if end >= 0:
            return body[: end + len(closing)]
    return body


def _case_name(case: ET.Element) -> str:
    name = (case.get("name") or "").strip()
    classname = (case.get("classname") or "").strip()
    # jest-junit repeats the name as the classname by default; node's junit reporter
    # writes the literal classname "test" for every case, which names nothing
    if not classname or classname == name or classname == "test":
        return name
    return f"{classname}::{name}"


def parse_junit_xml(text: str) -> TestCounts | None:
    """Counts from a JUnit XML report, or None when it is empty or not JUnit.

    Counts <testcase> elements rather than trusting suite attributes: node nests
    suites and puts bare testcases under <testsuites>, and mocha's xunit reporter
    files failures under errors="". Failures and errors both count as failed.
    """
    if not text or not text.strip():
        return None
    body = _xml_body(text)
    if body is None:
        return None
    try:
        # The stdlib parser, not defusedxml: the report comes from our own sandboxed
        # run and is size-capped before it gets here, and expat neither fetches
        # external entities nor (since 2.4.1) expands entities without bound.
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    if _local(root.tag) not in ("testsuites", "testsuite"):
        return None
    passed = failed = skipped = 0
    failing: list[str] = []
    for case in root.iter():
        if _local(case.tag) != "testcase":
            continue
        kinds = {_local(child.tag) for child in case}
        if kinds & {"failure", "error"}:
            failed += 1
            failing.append(_case_name(case))
        elif "skipped" in kinds:
            skipped += 1
        else:
            passed += 1
    return TestCounts(passed=passed, failed=failed, skipped=skipped, failing=_bounded(failing), source="junit")


# --- TAP (node's default reporter when not on a terminal, and node-tap) -------

_TAP_HEADER = re.compile(r"^([ \t]*)# Subtest: ")
_TAP_RESULT = re.compile(r"^([ \t]*)(not ok|ok)\b[ \t]*\d*[ \t]*(?:- )?(.*)$")


def _tap_failures(text: str) -> list[str]:
    """The innermost failing tests in TAP output.

    A failing suite or file repeats its children's failure, and node-tap's own
    assertion lines ("should be equal") name no test; so keep a `not ok` only if
    a `# Subtest:` header announced it and no failing subtest sits inside it.
    """
    failures: list[str] = []
    opened: dict[int, int] = {}  # indent of an open subtest -> len(failures) when it opened
    for line in text.splitlines():
        if header := _TAP_HEADER.match(line):
            opened[len(header[1])] = len(failures)
            continue
        result = _TAP_RESULT.match(line)
        if not result:
            continue
        indent = len(result[1])
        start = opened.pop(indent, None)
        if result[2] == "ok" or start is None:
            continue
        name, _, directive = result[3].partition(" # ")
        if directive.upper().startswith("TODO"):
            continue
        if len(failures) > start:  # everything recorded since its header is inside it
            continue
        failures.append(name.replace("\\#", "#"))
    return _bounded(failures)


# --- one parser per runner ------------------------------------------------------

_PYTEST_WORDS = r"(?:passed|failed|skipped|errors?|xfailed|xpassed|deselected|warnings?|rerun)"
_PYTEST_SUMMARY = re.compile(
    rf"^=*[ \t]*((?:\d+ {_PYTEST_WORDS})(?:, \d+ {_PYTEST_WORDS})*|no tests ran)"
    r" in \d+(?:\.\d+)?s\b.*$",
    re.M,
)
_PYTEST_KINDS = {
    "passed": "passed",
    "xpassed": "passed",
    "failed": "failed",
    "error": "failed",
    "errors": "failed",
    "skipped": "skipped",
    "xfailed": "skipped",
}
_PYTEST_FAILED = re.compile(r"^(?:FAILED|ERROR) (.*)$", re.M)


def _pytest(text: str) -> _Found | None:
    """`== 1 failed, 3 passed in 0.02s ==` (bare with -q). Collection errors count as failed."""
    match, start = _last(_PYTEST_SUMMARY, text)
    if not match:
        return None
    totals = _tally(match[1], ",", _PYTEST_KINDS)
    # `FAILED test_x.py::test_y - AssertionError: ...`
    names = [line.partition(" - ")[0] for line in _PYTEST_FAILED.findall(text, start, match.start())]
    return _Found(match.end(), TestCounts(**totals, failing=_bounded(names), source="pytest"))


_NODE_LINE = r"[ \t]*[#ℹ] "  # "# " in TAP, "ℹ " with the spec reporter
_NODE_SUMMARY = re.compile(
    rf"^{_NODE_LINE}tests (\d+)\n(?:{_NODE_LINE}suites \d+\n)?"
    rf"{_NODE_LINE}pass (\d+)\n{_NODE_LINE}fail (\d+)"
    rf"(?:\n{_NODE_LINE}cancelled (\d+))?(?:\n{_NODE_LINE}skipped (\d+))?(?:\n{_NODE_LINE}todo (\d+))?",
    re.M,
)
_NODE_SPEC_FAILED = re.compile(r"^[ \t]*✖ (.*)$", re.M)


def _node(text: str) -> _Found | None:
    """`# tests/pass/fail/cancelled/skipped/todo` (TAP) or the same after `ℹ` (spec).

    Cancelled tests (timeouts, a parent that failed) count as failed; todo as skipped.
    """
    match, start = _last(_NODE_SUMMARY, text)
    if not match:
        return None
    _, passed, fail, cancelled, skipped, todo = (int(group or 0) for group in match.groups())
    segment = text[start:]
    names = _tap_failures(segment)
    if not names:
        # spec reporter: prefer its closing "✖ failing tests:" list, which leaves out suites
        listed = segment.rsplit("✖ failing tests:", 1)
        found = (_without_duration(name) for name in _NODE_SPEC_FAILED.findall(listed[-1]))
        names = [name for name in found if name != "failing tests:"]
    counts = TestCounts(
        passed=passed,
        failed=fail + cancelled,
        skipped=skipped + todo,
        failing=_bounded(names),
        source="node",
    )
    return _Found(match.end(), counts)


_JEST_SUMMARY = re.compile(r"^Tests:[ \t]+((?:\d+ [a-z]+, )*)\d+ total[ \t]*$|^No tests found\b.*$", re.M)
_JEST_SUITES = re.compile(r"^Test Suites:[ \t]+(?:(\d+) failed)?", re.M)
_JEST_KINDS = {"passed": "passed", "failed": "failed", "skipped": "skipped", "todo": "skipped"}
_JEST_BULLET = re.compile(r"^[ \t]*● (.*)$|^FAIL (\S+)", re.M)
_JEST_CROSS = re.compile(r"^[ \t]*✕ (.*)$", re.M)
_JEST_NOT_TESTS = ("Validation", "Deprecation", "Cannot log after tests are done", "Console")


def _jest_names(segment: str) -> list[str]:
    """`● describe › test` headers (always printed); `✕ test` only exists in verbose mode."""
    names: list[str] = []
    current_file = ""
    for bullet, failed_file in _JEST_BULLET.findall(segment):
        bullet = bullet.strip()
        if failed_file:
            current_file = failed_file
        elif bullet == "Test suite failed to run":
            names.append(current_file or bullet)
        elif not bullet.startswith(_JEST_NOT_TESTS):
            names.append(bullet)
    return names or [_without_duration(name) for name in _JEST_CROSS.findall(segment)]


def _jest(text: str) -> _Found | None:
    """`Tests: 1 failed, 1 skipped, 3 passed, 5 total` (the order varies).

    A file that fails to load leaves no trace in the Tests line, only in
    `Test Suites: 1 failed`; with no failed test, each such file counts as one.
    """
    match, start = _last(_JEST_SUMMARY, text)
    if not match:
        return None
    totals = _tally(match[1] or "", ",", _JEST_KINDS)
    suites, _ = _last(_JEST_SUITES, text[start : match.start()])
    if not totals["failed"] and suites and suites[1]:
        totals["failed"] = int(suites[1])
    names = _jest_names(text[start : match.start()])
    return _Found(match.end(), TestCounts(**totals, failing=_bounded(names), source="jest"))


_VITEST_SUMMARY = re.compile(
    r"^[ \t]*Tests[ \t]+(?:((?:\d+ [a-z]+ \| )*\d+ [a-z]+)[ \t]+\(\d+\)|no tests)[ \t]*$"
    r"|^No test files found\b.*$",
    re.M,
)
_VITEST_FILES = re.compile(r"^[ \t]*Test Files[ \t]+(?:(\d+) failed)?", re.M)
_VITEST_ERRORS = re.compile(r"^[ \t]*Errors[ \t]+(\d+) errors?", re.M)
_VITEST_KINDS = {"passed": "passed", "failed": "failed", "skipped": "skipped", "todo": "skipped"}
_VITEST_FAILED = re.compile(r"^[ \t]*FAIL[ \t]+(.*)$", re.M)


def _vitest_name(line: str) -> str:
    """`broken.test.js > suite > test`; a file that failed to load adds ` [ file ]`."""
    line = line.strip()
    head, bracket, _ = line.rpartition(" [ ")
    return head.rstrip() if bracket and line.endswith(" ]") else line


def _vitest(text: str) -> _Found | None:
    """`Tests  1 failed | 3 passed | 1 skipped (5)` with `Test Files` and `Errors` nearby.

    As with jest, a file that fails to load shows only under Test Files, and an
    unhandled error only under Errors; with no failed test, those count instead.
    """
    match, start = _last(_VITEST_SUMMARY, text)
    if not match:
        return None
    totals = _tally(match[1] or "", "|", _VITEST_KINDS)
    # Test Files comes just before Tests; Errors just after it
    files, _ = _last(_VITEST_FILES, text[start : match.start()])
    errors = _VITEST_ERRORS.match(text, match.end() + 1)
    if not totals["failed"]:
        totals["failed"] = int(files[1] or 0) if files else 0
        totals["failed"] += int(errors[1]) if errors else 0
    names = [_vitest_name(line) for line in _VITEST_FAILED.findall(text, start, match.start())]
    return _Found(match.end(), TestCounts(**totals, failing=_bounded(names), source="vitest"))


_MOCHA_SUMMARY = re.compile(
    r"^[ \t]*(\d+) passing \([^)\n]*\)[ \t]*"
    r"(?:\n[ \t]*(\d+) pending[ \t]*)?(?:\n[ \t]*(\d+) failing[ \t]*$)?",
    re.M,
)
_MOCHA_NUMBERED = re.compile(r"^[ \t]*\d+\) (.+)$")


def _mocha_names(details: str) -> list[str]:
    """The numbered failures after `N failing`: the title path, one line per level, ending in ':'."""
    names: list[str] = []
    lines = details.splitlines()
    for i, line in enumerate(lines):
        numbered = _MOCHA_NUMBERED.match(line)
        if not numbered:
            continue
        parts = [numbered[1].strip()]
        for following in lines[i + 1 : i + 12]:
            if parts[-1].endswith(":"):
                break
            parts.append(following.strip())
        if parts[-1].endswith(":"):
            names.append(" ".join(parts)[:-1])
    return names


def _mocha(text: str) -> _Found | None:
    """`N passing (3ms)` / `N pending` / `N failing`; the failures are listed after it."""
    match, _ = _last(_MOCHA_SUMMARY, text)
    if not match:
        return None
    passed, pending, failing = (int(group or 0) for group in match.groups())
    names = _mocha_names(text[match.end() :]) if failing else []
    counts = TestCounts(passed=passed, failed=failing, skipped=pending, failing=_bounded(names), source="mocha")
    return _Found(match.end(), counts)


_TAP_SUMMARY = re.compile(r"^# \{ (total: \d+(?:, \w+: \d+)*) \}[ \t]*$", re.M)
_TAP_KINDS = {"pass": "passed", "fail": "failed", "skip": "skipped", "todo": "skipped"}


# node-tap before v12, in three shapes seen in real repositories:
# - tap 0.x files (and tape): `# tests 3` then `# pass  1` / `# fail  2` with two spaces, a line
#   left out when its count is 0; tap 0.x's runner closes with `total ....... 1/3` (passed/planned);
# - tap 7-11's runner: `# failed 1 of 3 tests` after the top-level plan when something failed, and
#   only `1..3` + `# time=...` when everything passed (then every top-level test passed).
_TAP_LEGACY_SUMMARY = re.compile(
    r"^[ \t]*# tests[ \t]+(?P<tests>\d+)[ \t]*\n(?:[ \t]*# pass[ \t]+(?P<pass>\d+)[ \t]*(?:\n|$))?"
    r"(?:[ \t]*# fail[ \t]+(?P<fail>\d+)[ \t]*$)?"
    r"|^total[ \t]+\.+[ \t]+(?P<total_passed>\d+)/(?P<total>\d+)[ \t]*$"
    r"|^# failed (?P<failed>\d+) of (?P<of>\d+) tests?[ \t]*$"
    r"|^1\.\.(?P<plan>\d+)[ \t]*\n# time=[\d.]+m?s[ \t]*$",
    re.M,
)
_TAP_NUMBERED_FAILURE = re.compile(r"^[ \t]*not ok[ \t]+\d+[ \t]+(?:- )?(.*)$", re.M)


def _legacy_counts(match: re.Match[str]) -> tuple[int, int]:
    """(passed, failed) from whichever shape matched."""
    if match["total"] is not None:
        return int(match["total_passed"]), int(match["total"]) - int(match["total_passed"])
    if match["of"] is not None:
        return int(match["of"]) - int(match["failed"]), int(match["failed"])
    if match["plan"] is not None:
        return int(match["plan"]), 0
    return int(match["pass"] or 0), int(match["fail"] or 0)


def _tap_legacy(text: str) -> _Found | None:
    """Old node-tap's summaries (see above): they count assertions or files, not test functions.

    tap 0.x prints no `# Subtest:` headers, so every numbered `not ok N name` is an assertion
    that failed and its name is the best there is; tap 7-11 nests files as subtests, named as
    with today's tap. A runner's summary closes the files' own summaries it nests, so names
    are read from the end of the previous summary of the same shape.
    """
    last, start = None, 0
    ends: dict[str, int] = {}  # the end of the previous summary of each shape
    for match in _TAP_LEGACY_SUMMARY.finditer(text):
        if match["tests"] is not None and match["pass"] is None and match["fail"] is None:
            continue  # `# tests N` alone (node's own TAP has `# suites` next): not this format
        shape = next(name for name in ("tests", "total", "of", "plan") if match[name] is not None)
        start, last = ends.get(shape, 0), match
        ends[shape] = match.end()
    if last is None:
        return None
    passed, failed = _legacy_counts(last)
    names: list[str] = []
    if failed:
        names = _tap_failures(text[start : last.start()])
        if not names:
            found = (name.partition(" # ") for name in _TAP_NUMBERED_FAILURE.findall(text, start, last.start()))
            names = [name for name, _, directive in found if not directive.upper().startswith("TODO")]
    counts = TestCounts(passed=passed, failed=failed, failing=_bounded(names), source="tap")
    return _Found(last.end(), counts)


def _tap(text: str) -> _Found | None:
    """node-tap's `# { total: 5, pass: 3, fail: 1, skip: 1 }`: counts assertions, not test functions.

    Versions before 12 print `# tests` / `# pass  N` / `# fail  N` instead (`_tap_legacy`).
    """
    match, start = _last(_TAP_SUMMARY, text)
    if not match:
        return _tap_legacy(text)
    # "total: 5, pass: 3" -> "5 total, 3 pass"
    parts = ", ".join(" ".join(reversed(part.split(": "))) for part in match[1].split(", "))
    totals = _tally(parts, ",", _TAP_KINDS)
    names = _tap_failures(text[start : match.start()])
    return _Found(match.end(), TestCounts(**totals, failing=names, source="tap"))


_PARSERS: dict[str, Callable[[str], _Found | None]] = {
    "pytest": _pytest,
    "node": _node,
    "jest": _jest,
    "vitest": _vitest,
    "mocha": _mocha,
    "tap": _tap,
}


def parse_summary(output: str, runner: str | None = None) -> TestCounts | None:
    """Counts from a runner's closing summary lines, or None when there is none.

    `runner` is one of RUNNERS; None (or a name not in RUNNERS, e.g. "npm") tries
    every format. The summary printed last wins, whichever format it is in:
    watch modes and retries print several, and a killed run prints none.
    """
    text = _clean(output)
    names = (runner,) if runner in _PARSERS else RUNNERS
    found = [result for name in names if (result := _PARSERS[name](text))]
    if not found:
        return None
    return max(found, key=lambda result: result.end).counts
