"""The result parsers against real output captured from each runner (tests/data/runner_output)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.proof.results import (
    MAX_NAME_CHARS,
    MAX_NAMES,
    RUNNERS,
    parse_junit_xml,
    parse_summary,
    strip_ansi,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "runner_output"
WRONG_SUM = "computes the wrong sum"


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


# file, runner: every pass file has 2 passed + 1 skipped
PASS_FILES = [
    ("pytest/pass.txt", "pytest"),
    ("node/pass.txt", "node"),
    ("node/pass_spec.txt", "node"),
    ("npm/pass.txt", "node"),
    ("jest/pass.txt", "jest"),
    ("vitest/pass.txt", "vitest"),
    ("mocha/pass.txt", "mocha"),
    ("tap/pass.txt", "tap"),
]

# file, runner, expected failing name: every fail file has 3 passed, 1 failed, 1 skipped
FAIL_FILES = [
    ("pytest/fail.txt", "pytest", "test_broken.py::test_wrong_sum"),
    ("pytest/fail_quiet.txt", "pytest", "test_broken.py::test_wrong_sum"),
    ("pytest/fail_color.txt", "pytest", "test_broken.py::test_wrong_sum"),
    ("node/fail.txt", "node", WRONG_SUM),
    ("node/fail_spec.txt", "node", WRONG_SUM),
    ("npm/fail.txt", "node", WRONG_SUM),
    ("jest/fail.txt", "jest", f"calculator › {WRONG_SUM}"),
    ("jest/fail_verbose.txt", "jest", f"calculator › {WRONG_SUM}"),
    ("jest/fail_color.txt", "jest", f"calculator › {WRONG_SUM}"),
    ("vitest/fail.txt", "vitest", f"broken.test.js > calculator > {WRONG_SUM}"),
    ("vitest/fail_verbose.txt", "vitest", f"broken.test.js > calculator > {WRONG_SUM}"),
    ("mocha/fail.txt", "mocha", f"calculator {WRONG_SUM}"),
    ("tap/fail.txt", "tap", WRONG_SUM),
]

# file, expected failing name
JUNIT_PASS = ["pytest/pass.xml", "node/pass.xml", "jest/pass.xml", "vitest/pass.xml", "mocha/pass.xml"]
JUNIT_FAIL = [
    ("pytest/fail.xml", "test_broken::test_wrong_sum"),
    ("node/fail.xml", WRONG_SUM),  # node's classname is always "test": dropped
    ("jest/fail.xml", f"calculator {WRONG_SUM}"),  # jest-junit: classname == name
    ("vitest/fail.xml", f"broken.test.js::calculator > {WRONG_SUM}"),
    ("mocha/fail.xml", f"calculator::{WRONG_SUM}"),
]


def test_runners_are_the_supported_names() -> None:
    assert RUNNERS == ("pytest", "node", "jest", "vitest", "mocha", "tap")


def test_every_runner_has_captured_output() -> None:
    captured = {path.split("/")[0] for path, _ in PASS_FILES}
    assert set(RUNNERS) <= captured


@pytest.mark.parametrize(("path", "runner"), PASS_FILES)
@pytest.mark.parametrize("named", [True, False], ids=["named", "auto"])
def test_pass_output(path: str, runner: str, named: bool) -> None:
    counts = parse_summary(read(path), runner if named else None)
    assert counts is not None
    assert (counts.passed, counts.failed, counts.skipped) == (2, 0, 1)
    assert counts.failing == []
    assert counts.source == runner


@pytest.mark.parametrize(("path", "runner", "name"), FAIL_FILES)
@pytest.mark.parametrize("named", [True, False], ids=["named", "auto"])
def test_fail_output(path: str, runner: str, name: str, named: bool) -> None:
    counts = parse_summary(read(path), runner if named else None)
    assert counts is not None
    assert (counts.passed, counts.failed, counts.skipped) == (3, 1, 1)
    # only the failing test: not its suite, file, or node-tap's assertion line
    assert counts.failing == [name]
    assert counts.source == runner


def test_pytest_collection_error_counts_as_failed() -> None:
    counts = parse_summary(read("pytest/collection_error.txt"), "pytest")
    assert counts is not None
    assert (counts.passed, counts.failed, counts.skipped) == (0, 1, 0)
    assert counts.failing == ["test_imp.py"]


@pytest.mark.parametrize(
    ("path", "runner", "name"),
    [
        ("jest/suite_error.txt", "jest", "./load.test.js"),
        ("vitest/suite_error.txt", "vitest", "load.test.js"),
    ],
)
def test_file_that_fails_to_load_counts_as_failed(path: str, runner: str, name: str) -> None:
    # the Tests line shows no failure; only Test Suites / Test Files does
    counts = parse_summary(read(path), runner)
    assert counts is not None
    assert (counts.passed, counts.failed, counts.skipped) == (2, 1, 1)
    assert counts.failing == [name]


def test_vitest_unhandled_error_counts_as_failed() -> None:
    counts = parse_summary(read("vitest/unhandled_error.txt"), "vitest")
    assert counts is not None
    assert (counts.passed, counts.failed) == (2, 1)


@pytest.mark.parametrize("path", ["node/hang.txt", "node/hang_spec.txt"])
@pytest.mark.parametrize("runner", ["node", None])
def test_killed_node_run_has_no_summary(path: str, runner: str | None) -> None:
    assert parse_summary(read(path), runner) is None


@pytest.mark.parametrize("path", JUNIT_PASS)
def test_junit_pass(path: str) -> None:
    counts = parse_junit_xml(read(path))
    assert counts is not None
    assert (counts.passed, counts.failed, counts.skipped) == (2, 0, 1)
    assert counts.failing == []
    assert counts.source == "junit"


@pytest.mark.parametrize(("path", "name"), JUNIT_FAIL)
def test_junit_fail(path: str, name: str) -> None:
    counts = parse_junit_xml(read(path))
    assert counts is not None
    assert (counts.passed, counts.failed, counts.skipped) == (3, 1, 1)
    assert counts.failing == [name]


def test_junit_collection_error_is_failed_and_name_has_no_empty_classname() -> None:
    counts = parse_junit_xml(read("pytest/collection_error.xml"))
    assert counts is not None
    assert (counts.passed, counts.failed, counts.skipped) == (0, 1, 0)
    assert counts.failing == ["test_imp"]


def test_junit_bare_testsuite_nested_suites_errors_and_dedupe() -> None:
    xml = """<?xml version="1.0"?>
    <testsuite name="outer">
      <testsuite name="inner">
        <testsuite name="deepest">
          <testcase classname="a.B" name="one"><error message="boom"/></testcase>
          <testcase classname="a.B" name="one"><failure/></testcase>
        </testsuite>
        <testcase name="two"><failure/></testcase>
        <testcase classname="a.B" name="three"/>
      </testsuite>
      <testcase classname="a.B" name="four"><skipped/></testcase>
    </testsuite>"""
    counts = parse_junit_xml(xml)
    assert counts is not None
    assert (counts.passed, counts.failed, counts.skipped) == (1, 3, 1)
    assert counts.failing == ["a.B::one", "two"]


def test_junit_with_text_around_it() -> None:
    # e.g. `npm test` banner before, and a trailing line after, a reporter on stdout
    text = "> pkg@1.0.0 test\n> node --test\n\n" + read("node/fail.xml") + "\nnpm notice done\n"
    counts = parse_junit_xml(text)
    assert counts is not None
    assert (counts.passed, counts.failed, counts.skipped) == (3, 1, 1)


def test_junit_without_tests_is_zero_not_none() -> None:
    counts = parse_junit_xml("<testsuites/>")
    assert counts is not None
    assert counts.total == 0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "not xml at all",
        "<testsuites><testcase name='x'>",  # truncated
        "<html><body>502</body></html>",
        "<?xml version='1.0'?><report><testcase name='x'/></report>",
        read("pytest/fail.txt"),
    ],
)
def test_junit_garbage_is_none(text: str) -> None:
    assert parse_junit_xml(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world\n",
        "Segmentation fault (core dumped)\n",
        "3 files in 2.0s\n",
        "\x1b[31m\x1b[0m\n\r\n",
        "TAP version 13\nok 1 - a\n",
    ],
)
@pytest.mark.parametrize("runner", [None, *RUNNERS])
def test_summary_garbage_is_none(text: str, runner: str | None) -> None:
    assert parse_summary(text, runner) is None


def test_ansi_is_stripped_before_parsing() -> None:
    raw = read("pytest/fail_color.txt")
    assert "\x1b[" in raw
    assert "\x1b" not in strip_ansi(raw)
    assert parse_summary(raw, "pytest") == parse_summary(strip_ansi(raw), "pytest")
    colored = "\x1b[32m\x1b[1m2 passed\x1b[0m, \x1b[33m1 skipped\x1b[0m\x1b[32m in 0.01s\x1b[0m\n"
    counts = parse_summary(colored)
    assert counts is not None
    assert (counts.passed, counts.skipped, counts.source) == (2, 1, "pytest")


@pytest.mark.parametrize(
    ("first", "second", "runner"),
    [
        ("pytest/fail.txt", "pytest/pass.txt", "pytest"),
        ("pytest/pass.txt", "pytest/fail.txt", "pytest"),
        ("node/fail.txt", "node/pass.txt", "node"),
        ("jest/fail.txt", "jest/pass.txt", "jest"),
        ("vitest/fail.txt", "vitest/pass.txt", "vitest"),
        ("mocha/fail.txt", "mocha/pass.txt", "mocha"),
        ("tap/fail.txt", "tap/pass.txt", "tap"),
        ("mocha/fail.txt", "pytest/pass.txt", None),  # across formats, too
        ("pytest/pass.txt", "vitest/fail.txt", None),
    ],
)
def test_last_summary_wins(first: str, second: str, runner: str | None) -> None:
    expected = parse_summary(read(second), runner)
    counts = parse_summary(read(first) + read(second), runner)
    assert expected is not None
    assert counts == expected  # counts and names of the earlier run do not leak in


def test_unknown_runner_tries_every_format() -> None:
    assert parse_summary(read("npm/fail.txt"), "npm") == parse_summary(read("npm/fail.txt"), "node")


def test_pytest_summary_vocabulary() -> None:
    line = "==== 2 failed, 5 passed, 1 skipped, 3 xfailed, 1 xpassed, 2 errors, 4 warnings in 1.50s (0:00:01) ===="
    counts = parse_summary(line, "pytest")
    assert counts is not None
    assert (counts.passed, counts.failed, counts.skipped) == (6, 4, 4)
    none_ran = parse_summary("============ no tests ran in 0.01s ============\n", "pytest")
    assert none_ran is not None
    assert none_ran.total == 0


def test_node_cancelled_counts_as_failed_and_todo_as_skipped() -> None:
    text = "# tests 4\n# suites 0\n# pass 1\n# fail 0\n# cancelled 1\n# skipped 0\n# todo 2\n# duration_ms 5\n"
    counts = parse_summary(text, "node")
    assert counts is not None
    assert (counts.passed, counts.failed, counts.skipped) == (1, 1, 2)


def test_failing_names_are_bounded() -> None:
    lines = [f"FAILED test_x.py::test_{i} - assert 0" for i in range(200)]
    text = "\n".join(lines) + "\n=== 200 failed in 1.00s ===\n"
    counts = parse_summary(text, "pytest")
    assert counts is not None
    assert counts.failed == 200
    assert len(counts.failing) == MAX_NAMES
    assert counts.failing[0] == "test_x.py::test_0"


def test_hostile_output_parses_in_linear_time() -> None:
    # PR code controls what its tests print; no line may make a pattern backtrack
    # quadratically (each of these took seconds at 20k chars with lazy patterns; at 100k a
    # quadratic pattern takes ~25 times that). No stopwatch assert, which a loaded machine makes
    # flaky: a hang fails at the suite's `timeout`, a slowdown shows in `--durations`.
    n = 100_000
    hostile = [
        "✖ " + " " * n + "x",
        "Tests: " + "1" * n,
        "Tests:       " + "1 a, " * (n // 5) + "x",
        "● x" + " " * n + "y",
        "      Tests  " + " " * n + "x",
        "      Tests  " + "1 a | " * (n // 6) + "x",
        "FAIL  x" + " " * n + "y",
        "# { total: 1, " + "a" * n + " }",
        "=" * n + " 1 passed",
        "FAILED " + " - " * (n // 3),
        "\x1b[" + "0" * n,
        "  1) " + "a" * n,
        "1" * n + " passing (",
        "# Subtest: x\n" * 1000 + "not ok 1 - y\n" * 1000,
        "✕ a (" + "1" * n,
    ]
    summaries = [
        "=== 1 passed in 0.01s ===",
        "# tests 1\n# pass 1\n# fail 0",
        "Tests:       1 passed, 1 total",
        "      Tests  1 passed (1)",
        "  1 passing (1ms)\n  1 failing",
        "# { total: 1, pass: 1 }",
    ]
    text = "\n".join([*hostile, *summaries, *hostile]) + "\n"
    for runner in (None, *RUNNERS):
        counts = parse_summary(text, runner)
        assert counts is not None
        assert all(len(name) <= MAX_NAME_CHARS for name in counts.failing)


# node-tap before v12 (npm/lockfile's tap 0.2.6 at b59e77b): file, passed, failed, failing names
LEGACY_TAP = [
    ("tap/legacy_node_pass.txt", 2, 0, []),
    ("tap/legacy_node_fail.txt", 0, 2, ["should have 1 lock winner", "all others should lose"]),
    ("tap/legacy_runner_pass.txt", 3, 0, []),
    ("tap/legacy_runner_fail.txt", 1, 2, ["should have 1 lock winner", "all others should lose"]),
    # tap 7.1.2's runner (npm/lockfile 0964efe): `# failed 1 of 1 tests`; all passed: only `1..1` + `# time=`
    ("tap/legacy7_runner_fail.txt", 0, 1, ["test/unlock-no-cb.js"]),
    ("tap/legacy7_runner_pass.txt", 1, 0, []),
]


@pytest.mark.parametrize(("path", "passed", "failed", "names"), LEGACY_TAP)
@pytest.mark.parametrize("runner", ["tap", None])
def test_legacy_node_tap_summary(path: str, passed: int, failed: int, names: list[str], runner: str | None) -> None:
    counts = parse_summary(read(path), runner)
    assert counts is not None
    assert (counts.passed, counts.failed, counts.failing) == (passed, failed, names)


@pytest.mark.parametrize(
    ("text", "passed", "failed", "names"),
    [
        # two spaces after pass/fail, a `# tests` line first; the brief's own example
        (
            "TAP version 13\nok 1 one\nnot ok 2 two\nnot ok 3 - three\n1..3\n# tests 3\n# pass  1\n# fail  2\n",
            1,
            2,
            ["two", "three"],
        ),
        # no `# pass` line when nothing passed, no `# fail` line when nothing failed
        ("not ok 1 only\n1..1\n# tests 1\n# fail  1\n", 0, 1, ["only"]),
        ("ok 1 only\n1..1\n# tests 1\n# pass  1\n\n# ok\n", 1, 0, []),
        # a TODO is not a failing test; another directive is not part of the name
        ("not ok 1 later # TODO not yet\nnot ok 2 now # SKIP\n# tests 2\n# fail  2\n", 0, 2, ["now"]),
    ],
)
def test_legacy_node_tap_summary_shapes(text: str, passed: int, failed: int, names: list[str]) -> None:
    counts = parse_summary(text)
    assert counts is not None
    assert (counts.passed, counts.failed, counts.failing) == (passed, failed, names)


def test_tap7_nested_plans_are_not_the_summary() -> None:
    # an indented `1..14` + `# time=` closes a file's subtest, not the run
    text = "# Subtest: a.js\n    ok 1 - x\n    1..14\n    # time=3ms\nnot ok 1 - a.js\n\n1..1\n# failed 1 of 1 tests\n"
    counts = parse_summary(text)
    assert counts is not None and (counts.passed, counts.failed, counts.failing) == (0, 1, ["a.js"])


def test_legacy_tap_does_not_steal_node_summaries() -> None:
    # node's TAP has `# suites` after `# tests`: still node's, with its own counts
    for path, runner in (("node/fail.txt", "node"), ("node/pass.txt", "node")):
        counts = parse_summary(read(path))
        assert counts is not None and counts.source == runner


def test_legacy_tap_parses_hostile_output_in_linear_time() -> None:
    # as above: a quadratic pattern shows as a hang the suite's timeout fails
    n = 100_000
    text = (
        "\n".join(
            [
                "total " + "." * n + "x",
                "# tests 1\n# pass" + " " * n + "x",
                "not ok 1" + " " * n,
                "# tests 1\n# pass  1\n# fail  1",
            ]
        )
        + "\n"
    )
    counts = parse_summary(text, "tap")
    assert counts is not None and (counts.passed, counts.failed) == (1, 1)
