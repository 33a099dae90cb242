"""Reading PR descriptions: sections, claimed commands and results, media, "reproduced?".

The review compares what the contributor claims with what the sandbox observed, so
these tests pin down both what is read and what must *not* be read (quotes, HTML
comments, code fences that only look like headings, `javascript:` links).
"""

from __future__ import annotations

import random

import pytest

from reviewbot.review.pr_body import (
    MAX_BODY_CHARS,
    MAX_COMMANDS,
    SECTION_KEYS,
    ClaimedResult,
    Media,
    PrBody,
    parse_pr_body,
)

FENCE = "```"

# --------------------------------------------------------------------------- full bodies

NODE_LOCKFILE = f"""<!-- Thanks for contributing to lockbox! Please fill in every section. -->
## Summary
<!-- What does this PR change and why? Example: `npm test` -> 4/4 pass -->
Fixes #231: `acquire()` could deadlock when two workers raced for the same lockfile, because the
stale-lock check and the `mkdir` were not atomic.

## Real behavior proof
<!-- Paste the commands you ran and their output. Screenshots/videos welcome. -->
On main the new test hangs until the 5s timeout:

{FENCE}console
$ node --test test/lock-race.test.js
✖ two workers never hold the lock at once (5003ms)
# tests 4
# pass 3
# fail 1
$ git switch fix/race && node --test test/lock-race.test.js
✔ two workers never hold the lock at once (41ms)
# tests 4
# pass 4
# fail 0
{FENCE}

https://github.com/user-attachments/assets/3f2b8c1e-9a4d-4c7e-b1f0-2d6e8a9c0b11

<img width="600" alt="Lock timeline after the fix" src="https://github.com/user-attachments/assets/aa11bb22-cc33-dd44-ee55-ff6677889900" />

CI: [run 8812](https://github.com/acme/lockbox/actions/runs/8812345/job/24) ([raw log](https://gist.github.com/dev/0a1b2c))

## Test plan
- [x] `npm test` → 42/42 pass
- [x] `npm run test:stress` (200 iterations), all tests pass
- [ ] Tested on Windows

## What was not tested
- `npm run test:windows` - I have no Windows machine
- NFS-mounted lock directories

## Risk
Low: the lock path is unchanged. Rollback is a plain revert.
"""

PY_FILELOCK = f"""<!--
Thank you for your contribution! Before submitting, please check:
- [ ] Added a changelog entry
Describe how you tested, e.g. `pytest -k placeholder` -> 4 passed
-->

### What changed?

`FileLock.release()` decremented the lock counter before closing the file descriptor, so a
second thread could acquire while the first still held the fd. The decrement now happens after
`os.close()`.

Closes #412

### Reproduction

Before the fix the new regression test fails about one run in ten:

{FENCE}
$ python -m pytest tests/test_threaded.py::test_release_race -q --count 30
.F..F.....F...................
3 failed, 27 passed in 4.21s
{FENCE}

With the fix:

{FENCE}
$ python -m pytest tests/test_threaded.py::test_release_race -q --count 30
..............................
30 passed in 4.02s
{FENCE}

Full log: https://github.com/user-attachments/files/17001234/race-before.log

### How was this tested?

- [x] `tox -e py311`
- [x] `python -m pytest -q` → `214 passed, 3 skipped in 12.8s`
- [x] CI: [build](https://github.com/tox-dev/filelock/actions/runs/9912345/job/2)

### Limitations

Not tested on NFS or Windows network shares.

### Risk

Low: only the order of two statements changes.
"""

NODE_JEST_BOLD = f"""**Summary**

Wraps the release in `withLock()` in a `finally` so a throwing callback no longer leaves a stale
`.lock` directory behind (#88).

**Proof:**

I was unable to reproduce the stale lock on macOS, so there is no before/after recording; here is
the CI run instead: https://github.com/acme/proper-lock/actions/runs/777/attempts/1

**Test plan:**

{FENCE}bash
# lint first, then the focused suite
npm run lint
npx jest test/with-lock.test.ts
{FENCE}

{FENCE}text
PASS test/with-lock.test.ts
Test Suites: 1 passed, 1 total
Tests:       6 passed, 6 total
{FENCE}

> From the issue: after `npm test` I see 3 failed
> ![reporter screenshot](https://example.com/issue.png)

- [x] Added a regression test
- [x] `yarn test` locally on Node 18 and 20
"""

NODE_NO_HEADINGS = """Fixes #57 - the renewal timer was not cleared when `release()` raced with `renew()`.

* `npm test` - 18/18 pass
* also ran `node --test test/renew.test.mjs` 50 times in a loop, no hangs

On main the renew test hangs forever (recording: https://asciinema.org/a/Xyz123).
"""

PY_NESTED = f"""## Description

Replace the `threading.Lock` around the cache with an `RLock`: `refresh()` re-entered `get()` while
holding the lock and deadlocked.

## Testing

### Unit

{FENCE}sh
$ uv run pytest tests/test_cache.py -q
{FENCE}

{FENCE}console
$ uv run pytest tests/test_cache.py -q
=================== 1 failed, 11 passed in 0.52s ===================
$ git stash pop
$ uv run pytest tests/test_cache.py -q
=================== 12 passed in 0.49s ===================
{FENCE}

<details><summary>Video</summary>

<video src="https://user-images.githubusercontent.com/1/after.mp4" controls></video>

</details>

### Not tested

- Python 3.8 (`nox -s tests-3.8`), the runner image lacks it.

## Checklist

- [x] `pytest` green locally, 12 passed
"""

TEMPLATE_ONLY = """## Summary
<!-- Describe your change. -->

## Test plan
<!-- e.g. `npm test` -> 4/4 pass, and paste a screenshot: ![x](https://example.com/x.png) -->
"""


def test_node_lockfile_pr() -> None:
    pr = parse_pr_body(NODE_LOCKFILE)
    assert set(pr.sections) == {"summary", "real_behavior_proof", "test_plan", "not_tested", "risk"}
    assert pr.sections["summary"].startswith("Fixes #231")
    assert "<!--" not in pr.sections["summary"]
    assert pr.sections["risk"] == "Low: the lock path is unchanged. Rollback is a plain revert."
    assert pr.commands == [
        "npm test",
        "npm run test:stress",
        "node --test test/lock-race.test.js",
        "git switch fix/race && node --test test/lock-race.test.js",
    ]
    assert [(r.passed, r.failed, r.total, r.command) for r in pr.results] == [
        (3, 1, 4, "node --test test/lock-race.test.js"),
        (4, 0, 4, "git switch fix/race && node --test test/lock-race.test.js"),
        (42, 0, 42, "npm test"),
        (None, 0, None, "npm run test:stress"),
    ]
    assert pr.results[0].text == "# tests 4 # pass 3 # fail 1"
    assert [(m.kind, m.label) for m in pr.media] == [
        ("video", ""),
        ("image", "Lock timeline after the fix"),
        ("artifact", "run 8812"),
        ("log", "raw log"),
    ]
    assert pr.media[0].url == "https://github.com/user-attachments/assets/3f2b8c1e-9a4d-4c7e-b1f0-2d6e8a9c0b11"
    assert pr.claims_reproduced is True
    assert pr.truncated is False


def test_python_filelock_pr() -> None:
    pr = parse_pr_body(PY_FILELOCK)
    assert set(pr.sections) == {"summary", "real_behavior_proof", "test_plan", "not_tested", "risk"}
    assert "pytest -k placeholder" not in pr.model_dump_json()
    race = "python -m pytest tests/test_threaded.py::test_release_race -q --count 30"
    assert pr.commands == ["tox -e py311", "python -m pytest -q", race]
    assert [(r.passed, r.failed, r.total, r.command) for r in pr.results] == [
        (27, 3, 30, race),
        (30, None, None, race),
        (214, None, None, "python -m pytest -q"),
    ]
    assert [(m.kind, m.url) for m in pr.media] == [
        ("log", "https://github.com/user-attachments/files/17001234/race-before.log"),
        ("artifact", "https://github.com/tox-dev/filelock/actions/runs/9912345/job/2"),
    ]
    assert pr.claims_reproduced is True


def test_node_jest_pr_with_bold_headings() -> None:
    pr = parse_pr_body(NODE_JEST_BOLD)
    assert set(pr.sections) == {"summary", "real_behavior_proof", "test_plan"}
    assert pr.sections["summary"].startswith("Wraps the release")
    assert pr.commands == ["npm run lint", "npx jest test/with-lock.test.ts", "yarn test"]
    assert [(r.passed, r.failed, r.total, r.command) for r in pr.results] == [
        (6, 0, 6, "npx jest test/with-lock.test.ts"),
    ]
    assert [(m.kind, m.url) for m in pr.media] == [
        ("artifact", "https://github.com/acme/proper-lock/actions/runs/777/attempts/1"),
    ]
    assert pr.claims_reproduced is False  # "unable to reproduce"


def test_node_pr_without_headings() -> None:
    pr = parse_pr_body(NODE_NO_HEADINGS)
    assert pr.sections == {}
    assert pr.commands == ["npm test", "node --test test/renew.test.mjs"]
    assert [(r.text, r.passed, r.failed, r.total, r.command) for r in pr.results] == [
        ("`npm test` - 18/18 pass", 18, 0, 18, "npm test"),
    ]
    assert pr.media == [Media(kind="log", url="https://asciinema.org/a/Xyz123")]
    assert pr.claims_reproduced is True  # "On main the renew test hangs"


def test_python_pr_with_nested_known_headings() -> None:
    pr = parse_pr_body(PY_NESTED)
    assert set(pr.sections) == {"summary", "test_plan", "not_tested"}
    assert pr.sections["test_plan"].startswith("### Unit")  # an unknown sub-heading stays inside
    assert "Python 3.8" in pr.sections["not_tested"]
    assert "Checklist" not in pr.sections["not_tested"]
    assert pr.commands == ["uv run pytest tests/test_cache.py -q", "git stash pop", "pytest"]
    assert "nox -s tests-3.8" not in pr.commands  # listed under "Not tested"
    assert [(r.passed, r.failed, r.total, r.command) for r in pr.results] == [
        (11, 1, 12, "uv run pytest tests/test_cache.py -q"),
        (12, None, None, "uv run pytest tests/test_cache.py -q"),
        (12, None, None, "pytest"),
    ]
    assert pr.media == [Media(kind="video", url="https://user-images.githubusercontent.com/1/after.mp4")]
    assert pr.claims_reproduced is None


def test_untouched_template_claims_nothing() -> None:
    pr = parse_pr_body(TEMPLATE_ONLY)
    assert pr == PrBody(
        sections={"summary": "", "test_plan": ""}, commands=[], results=[], media=[], claims_reproduced=None
    )


# --------------------------------------------------------------------------- sections

SECTION_CASES = [
    ("h1", "# Summary\nFix.", {"summary": "Fix."}),
    ("h6 with emoji and punctuation", "###### 🧪 Testing!!\nRan it.", {"test_plan": "Ran it."}),
    ("question heading", "## How was this tested?\nLocally.", {"test_plan": "Locally."}),
    ("parenthetical ignored", "## Test plan (manual)\nClicked.", {"test_plan": "Clicked."}),
    ("what changed", "## What changed\nX", {"summary": "X"}),
    ("before/after", "## Before/After\nX", {"real_behavior_proof": "X"}),
    ("british spelling", "## Real behaviour proof\nX", {"real_behavior_proof": "X"}),
    ("limitations", "## Limitations\nX", {"not_tested": "X"}),
    ("rollback", "## Rollback\nX", {"risk": "X"}),
    ("setext heading", "Test plan\n---------\nRan it.", {"test_plan": "Ran it."}),
    ("bold line", "**Test plan**\nRan it.", {"test_plan": "Ran it."}),
    ("bold line with colon inside", "**Test plan:**\nRan it.", {"test_plan": "Ran it."}),
    ("bold line with colon after", "**Test plan**:\nRan it.", {"test_plan": "Ran it."}),
    ("colon line", "Test plan:\nRan it.", {"test_plan": "Ran it."}),
    ("colon line mid-paragraph", "Intro.\nTest plan:\nRan it.", {"test_plan": "Ran it."}),
    ("unknown heading ends section", "## Test plan\nA\n## Checklist\nB", {"test_plan": "A"}),
    ("deeper unknown stays", "## Test plan\nA\n### Unit\nB\n## Risk\nC", {"test_plan": "A\n### Unit\nB", "risk": "C"}),
    ("same-level unknown ends", "### Test plan\nA\n### Notes\nB", {"test_plan": "A"}),
    ("pseudo ends at any heading", "**Test plan**\nA\n#### Notes\nB", {"test_plan": "A"}),
    ("pseudo then pseudo", "Summary:\nA\n\n**Risk**\nB", {"summary": "A", "risk": "B"}),
    ("same key twice joined", "## Testing\nA\n## Why\nS\n## Tests\nB", {"test_plan": "A\n\nB", "summary": "S"}),
    ("empty section kept", "## Summary\n## Risk\nNone.", {"summary": "", "risk": "None."}),
    ("unknown bold line is text", "## Test plan\n**Before:**\nx", {"test_plan": "**Before:**\nx"}),
    ("bold with trailing text is not a heading", "**Test plan:** ran it", {}),
    ("plain line without colon is not a heading", "Test plan\n\nRan it.", {}),
    ("heading in a code fence", f"{FENCE}md\n## Test plan\nx\n{FENCE}", {}),
    ("heading in a quote", "> ## Test plan\n> x", {}),
    ("pseudo heading in a list", "- **Test plan**\n- x", {}),
    ("CRLF line endings", "## Summary\r\nFix.\r\n\r\n## Risk\r\nLow.\r\n", {"summary": "Fix.", "risk": "Low."}),
]


@pytest.mark.parametrize(("case", "body", "expected"), SECTION_CASES, ids=[c[0] for c in SECTION_CASES])
def test_sections(case: str, body: str, expected: dict[str, str]) -> None:
    sections = parse_pr_body(body).sections
    assert sections == expected
    assert set(sections) <= set(SECTION_KEYS)


# --------------------------------------------------------------------------- commands

RUNNERS = [
    "pytest -q",
    "python -m pytest tests",
    "python3 -m pytest",
    "py.test",
    "node --test",
    "npm test",
    "npm run test:unit",
    "npm t",
    "pnpm test",
    "pnpm run test:e2e",
    "yarn test",
    "npx vitest run",
    "npx jest",
    "npx mocha",
    "npx tap",
    "vitest",
    "jest --runInBand",
    "mocha",
    "tap",
    "tox -e py312",
    "nox -s tests",
    "make test",
    "make test-race",
    "go test ./...",
    "cargo test",
    "bun test",
    "deno test -A",
    "uv run pytest",
    "poetry run pytest -x",
    "CI=1 npm test",
]
NOT_RUNNERS = ["npm install", "python -m mypy .", "pytestify", "make lint", "node index.js", "tapioca", "git push"]


@pytest.mark.parametrize("command", RUNNERS)
def test_runner_in_a_list_item_anywhere_is_a_command(command: str) -> None:
    assert parse_pr_body(f"Some prose.\n\n- ran `{command}`\n").commands == [command]


@pytest.mark.parametrize("command", NOT_RUNNERS)
def test_non_runner_inline_code_is_not_a_command(command: str) -> None:
    assert parse_pr_body(f"## Test plan\n- ran `{command}`\n").commands == []


COMMAND_CASES = [
    (
        "prompts stripped, comments and blanks skipped",
        f"## Test plan\n{FENCE}bash\n# setup\n\n$ npm ci\n% npm test\n{FENCE}",
        ["npm ci", "npm test"],
    ),
    ("> prompt stripped", f"## Test plan\n{FENCE}bash\n> make test\n{FENCE}", ["make test"]),
    (
        "a $ prompt makes any shell block a transcript",
        f"## Test plan\n{FENCE}bash\n$ npm test\n> lockbox@1.2.0 test\n> node --test\nlock held by 4242\n{FENCE}",
        ["npm test"],
    ),
    (
        "anything counts in test plan",
        f"## Test plan\n{FENCE}sh\ncd pkg && ./scripts/check.sh\n{FENCE}",
        ["cd pkg && ./scripts/check.sh"],
    ),
    ("anything counts in proof", f"## Repro\n{FENCE}\nnode repro.js\n{FENCE}", ["node repro.js"]),
    ("only runners outside those sections", f"{FENCE}bash\nnpm ci\nnpm test\n{FENCE}", ["npm test"]),
    (
        "console: only prompt lines",
        f"## Test plan\n{FENCE}console\n$ npm test\nnode --test\nok 1 - x\n{FENCE}",
        ["npm test"],
    ),
    (
        "console: npm banner is output",
        f"## Test plan\n{FENCE}console\n$ npm test\n\n> lockbox@1.2.0 test\n> node --test\n{FENCE}",
        ["npm test"],
    ),
    (
        "console: > prompt when no $ prompt",
        f"## Test plan\n{FENCE}console\n> pytest -q\n..\n2 passed\n{FENCE}",
        ["pytest -q"],
    ),
    (
        "venv and path prompts",
        f"## Test plan\n{FENCE}console\n(venv) $ pytest\nme@box:~/repo$ tox\n{FENCE}",
        ["pytest", "tox"],
    ),
    (
        "output-looking lines skipped",
        f"## Test plan\n{FENCE}text\nnpm test\n✓ works\nok 1 - works\nPASS a.test.js\n# pass 1\n=== 1 passed ===\n{FENCE}",
        ["npm test"],
    ),
    (
        "zsh and shell infos",
        f"## Test plan\n{FENCE}zsh\npytest\n{FENCE}\n{FENCE}shell\ntox\n{FENCE}",
        ["pytest", "tox"],
    ),
    (
        "other languages ignored",
        f"## Test plan\n{FENCE}python\npytest.main()\n{FENCE}\n{FENCE}js\nnpm test\n{FENCE}",
        [],
    ),
    (
        "continuation lines joined",
        f"## Test plan\n{FENCE}console\n$ pytest \\\n>   -k race\n{FENCE}",
        ["pytest -k race"],
    ),
    ("whitespace collapsed", "## Test plan\n- `npm   test   --  --grep  race`", ["npm test -- --grep race"]),
    ("inline prompt stripped", "- `$ npm test`", ["npm test"]),
    ("inline code in prose outside sections ignored", "I ran `npm test` and it passed.", []),
    ("inline code in test plan prose counts", "## Test plan\nI ran `npm test` twice.", ["npm test"]),
    (
        "order: test plan, proof, elsewhere",
        "- `npm run test:a`\n\n## Proof\n- `npm run test:b`\n\n## Test plan\n- `npm run test:c`",
        ["npm run test:c", "npm run test:b", "npm run test:a"],
    ),
    ("deduplicated", "## Test plan\n- `npm test`\n- `npm test`\n- `npm  test`", ["npm test"]),
    ("quoted commands ignored", f"> ## Test plan\n> - `npm test`\n>\n> {FENCE}sh\n> pytest\n> {FENCE}", []),
    ("not tested ignored", "## Not tested\n- `npm run test:windows`", []),
    ("commented-out commands ignored", "## Test plan\n<!-- - `npm test` -->\n- `pytest`", ["pytest"]),
    ("too long dropped", f"## Test plan\n{FENCE}sh\npytest {'x' * 600}\ntox\n{FENCE}", ["tox"]),
]


@pytest.mark.parametrize(("case", "body", "expected"), COMMAND_CASES, ids=[c[0] for c in COMMAND_CASES])
def test_commands(case: str, body: str, expected: list[str]) -> None:
    assert parse_pr_body(body).commands == expected


def test_commands_are_capped() -> None:
    body = "## Test plan\n" + "\n".join(f"- `npm run test:{i}`" for i in range(50))
    commands = parse_pr_body(body).commands
    assert len(commands) == MAX_COMMANDS
    assert commands[0] == "npm run test:0"


# --------------------------------------------------------------------------- results

RESULT_CASES = [
    ("4/4 pass", 4, 0, 4),
    ("4/4 passed", 4, 0, 4),
    ("4 / 4 tests passing", 4, 0, 4),
    ("3/4 tests pass", 3, 1, 4),
    ("3 of 4 tests pass", 3, 1, 4),
    ("passed 7/8", 7, 1, 8),
    ("12 passed", 12, None, None),
    ("12 passed, 1 failed", 12, 1, 13),
    ("3 passed, 1 skipped in 0.4s", 3, None, None),
    ("=== 1 failed, 11 passed, 2 warnings in 0.52s ===", 11, 1, 12),
    ("1 failed, 1 error", None, 2, None),
    ("5 passing (20ms)", 5, None, None),
    ("all 5 tests pass", 5, 0, 5),
    ("All tests pass", None, 0, None),
    ("all unit tests are now passing", None, 0, None),
    ("0 failures", None, 0, None),
    ("✅ 4 tests", 4, None, None),
    ("tests 3 / pass 3 / fail 0", 3, 0, 3),
    ("Tests: 3 passed, 3 total", 3, 0, 3),
    ("Tests:       1 failed, 1 skipped, 2 passed, 4 total", 2, 1, 4),
]


@pytest.mark.parametrize(("line", "passed", "failed", "total"), RESULT_CASES, ids=[c[0] for c in RESULT_CASES])
def test_result_phrasings(line: str, passed: int | None, failed: int | None, total: int | None) -> None:
    results = parse_pr_body(f"- {line}").results
    assert [(r.passed, r.failed, r.total) for r in results] == [(passed, failed, total)]
    assert results[0].text == line.replace("       ", " ")


NOT_RESULTS = [
    "Fixes #12",
    "Works on Node 18/20.",
    "Released in 2024/05, see the changelog.",
    "Not all tests pass yet.",
    "Test Suites: 1 passed, 1 total",
    "I passed the lock to the worker.",
]


@pytest.mark.parametrize("line", NOT_RESULTS)
def test_lines_that_are_not_results(line: str) -> None:
    assert parse_pr_body(line).results == []


def test_node_summary_lines_are_merged_into_one_result() -> None:
    body = f"## Test plan\n{FENCE}console\n$ node --test\nℹ tests 5\nℹ suites 1\nℹ pass 4\nℹ fail 1\nℹ duration_ms 48\n{FENCE}"
    assert parse_pr_body(body).results == [
        ClaimedResult(
            text="ℹ tests 5 ℹ suites 1 ℹ pass 4 ℹ fail 1 ℹ duration_ms 48",
            passed=4,
            failed=1,
            total=5,
            command="node --test",
        )
    ]


def test_blank_line_splits_node_summaries() -> None:
    body = f"{FENCE}text\n# pass 2\n\n# fail 1\n{FENCE}"
    assert [(r.passed, r.failed) for r in parse_pr_body(body).results] == [(2, None), (None, 1)]


RESULT_COMMAND_CASES = [
    ("same line wins", "## Test plan\n- `npm test`\n- `npm run test:race` 4/4 pass", "npm run test:race"),
    ("nearest preceding in section", "## Test plan\n- `npm test`\n- `tox`\n\nBoth: 4/4 pass", "tox"),
    ("preceding command in another section does not count", "## Test plan\n- `npm test`\n\n## Risk\n4/4 pass", None),
    ("later command does not count", "## Test plan\n4/4 pass\n\n- `npm test`", None),
    (
        "output after the prompt in console",
        f"## Test plan\n{FENCE}console\n$ npm test\n$ pytest\n3 passed in 0.1s\n{FENCE}",
        "pytest",
    ),
    ("not-tested command is not attached", "## Not tested\n- `npm run test:win` 0 failures", None),
]


@pytest.mark.parametrize(("case", "body", "command"), RESULT_COMMAND_CASES, ids=[c[0] for c in RESULT_COMMAND_CASES])
def test_result_command(case: str, body: str, command: str | None) -> None:
    results = parse_pr_body(body).results
    assert len(results) == 1
    assert results[0].command == command


RESULT_SOURCE_CASES = [
    ("console output", f"{FENCE}console\n$ pytest\n4 passed\n{FENCE}", 1),
    ("text output", f"{FENCE}text\n4 passed\n{FENCE}", 1),
    ("bare fence output", f"{FENCE}\n4 passed\n{FENCE}", 1),
    ("python code is not output", f"{FENCE}python\nassert '4 passed'\n{FENCE}", 0),
    ("bash script is not output", f"{FENCE}bash\necho '4 passed'\n{FENCE}", 0),
    ("block quote ignored", "> 4/4 pass\n> all tests pass", 0),
    ("quoted console ignored", f"> {FENCE}console\n> 4 passed\n> {FENCE}", 0),
    ("HTML comment ignored", "<!-- 4/4 pass -->", 0),
]


@pytest.mark.parametrize(("case", "body", "count"), RESULT_SOURCE_CASES, ids=[c[0] for c in RESULT_SOURCE_CASES])
def test_result_sources(case: str, body: str, count: int) -> None:
    assert len(parse_pr_body(body).results) == count


def test_result_text_is_collapsed_and_capped() -> None:
    results = parse_pr_body("4/4   pass " + "padding " * 60).results
    assert len(results) == 1
    assert results[0].text.startswith("4/4 pass padding")
    assert len(results[0].text) == 200


def test_results_are_capped() -> None:
    body = "\n".join(f"- run {i}: {i} passed" for i in range(1, 60))
    assert len(parse_pr_body(body).results) == 20


# --------------------------------------------------------------------------- media

ASSET = "https://github.com/user-attachments/assets/3f2b8c1e-9a4d-4c7e-b1f0-2d6e8a9c0b11"
REPO_ASSET = "https://github.com/acme/lockbox/assets/12345/3f2b8c1e-9a4d-4c7e-b1f0-2d6e8a9c0b11"

MEDIA_CASES = [
    ("markdown image", "![before *fix*](https://x.io/a.png)", [("image", "https://x.io/a.png", "before fix")]),
    ("markdown image of a video", "![run](https://x.io/a.mp4)", [("video", "https://x.io/a.mp4", "run")]),
    (
        "webm and mov are video",
        "![](https://x.io/a.webm) ![](https://x.io/b.MOV)",
        [("video", "https://x.io/a.webm", ""), ("video", "https://x.io/b.MOV", "")],
    ),
    ("gif is an image", "![](https://x.io/a.gif)", [("image", "https://x.io/a.gif", "")]),
    ("html img", '<img src="https://x.io/s.png" alt=" after ">', [("image", "https://x.io/s.png", "after")]),
    ("html img inline", 'See <img src="https://x.io/s.png"> here', [("image", "https://x.io/s.png", "")]),
    ("html video", '<video src="https://x.io/v.mp4"></video>', [("video", "https://x.io/v.mp4", "")]),
    (
        "html video source",
        '<video controls>\n<source src="https://x.io/v.webm">\n</video>',
        [("video", "https://x.io/v.webm", "")],
    ),
    ("uploaded video alone on a line", f"Before:\n\n{ASSET}\n", [("video", ASSET, "")]),
    ("repo asset alone on a line", f"{REPO_ASSET}", [("video", REPO_ASSET, "")]),
    ("autolinked asset alone on a line", f"<{ASSET}>", [("video", ASSET, "")]),
    ("asset inside a sentence is not a video", f"see {ASSET} please", []),
    ("log link", "[log](https://x.io/run.log)", [("log", "https://x.io/run.log", "log")]),
    ("txt link", "[out](https://x.io/out.txt)", [("log", "https://x.io/out.txt", "out")]),
    ("gist link", "[gist](https://gist.github.com/a/b)", [("log", "https://gist.github.com/a/b", "gist")]),
    ("asciinema bare url", "cast: https://asciinema.org/a/123.", [("log", "https://asciinema.org/a/123", "")]),
    (
        "actions run",
        "[CI](https://github.com/o/r/actions/runs/1)",
        [("artifact", "https://github.com/o/r/actions/runs/1", "CI")],
    ),
    (
        "check suite",
        "[CI](https://github.com/o/r/commit/ab/checks/suites/9)",
        [("artifact", "https://github.com/o/r/commit/ab/checks/suites/9", "CI")],
    ),
    ("zip", "[zip](https://x.io/a.zip)", [("artifact", "https://x.io/a.zip", "zip")]),
    ("tarball", "[tgz](https://x.io/a.tar.gz)", [("artifact", "https://x.io/a.tar.gz", "tgz")]),
    ("junit xml", "[junit](https://x.io/junit.xml)", [("artifact", "https://x.io/junit.xml", "junit")]),
    ("json report", "<https://x.io/report.json>", [("artifact", "https://x.io/report.json", "")]),
    (
        "artifacts path",
        "[a](https://github.com/o/r/actions/artifacts/5)",
        [("artifact", "https://github.com/o/r/actions/artifacts/5", "a")],
    ),
    ("html anchor to log", '<a href="https://x.io/ci.log">log</a>', [("log", "https://x.io/ci.log", "")]),
    ("plain web link ignored", "[docs](https://x.io/docs/locks)", []),
    ("javascript link ignored", "[log](javascript:alert(1)//x.log)", []),
    ("javascript html ignored", '<a href="javascript:alert(1)//x.log">x</a> <img src="javascript:x.png">', []),
    ("data image ignored", "![x](data:image/png;base64,AAAA)", []),
    ("ftp ignored", "[log](ftp://x.io/a.log)", []),
    ("image in a code fence ignored", f"{FENCE}\n![x](https://x.io/a.png)\n{FENCE}", []),
    ("url in inline code ignored", "`https://x.io/a.log`", []),
    ("commented-out media ignored", "<!-- ![x](https://x.io/a.png) -->", []),
    ("quoted media ignored", "> ![reporter](https://x.io/a.png)", []),
    (
        "deduplicated by url",
        "![a](https://x.io/a.png) ![b](https://x.io/a.png)",
        [("image", "https://x.io/a.png", "a")],
    ),
]


@pytest.mark.parametrize(("case", "body", "expected"), MEDIA_CASES, ids=[c[0] for c in MEDIA_CASES])
def test_media(case: str, body: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(m.kind, m.url, m.label) for m in parse_pr_body(body).media] == expected


def test_media_label_and_count_are_capped() -> None:
    body = "\n".join(f"![{'x' * 300}](https://x.io/{i}.png)" for i in range(30))
    media = parse_pr_body(body).media
    assert len(media) == 20
    assert all(len(m.label) == 120 for m in media)


# --------------------------------------------------------------------------- reproduced?

REPRO_CASES = [
    ("could not reproduce", "## Repro\nI could not reproduce it locally.", False),
    ("couldn't (curly apostrophe)", "## Proof\nI couldn\u2019t reproduce the hang.", False),
    ("can't", "## Proof\nCan't reproduce on Linux.", False),
    ("cannot", "## Proof\nI cannot reproduce it.", False),
    ("did not", "## Proof\nThe race did not reproduce.", False),
    ("not reproduced", "## Summary\nNot reproduced yet.", False),
    ("no repro", "## Testing\nNo repro on CI.", False),
    ("could not be reproduced", "## Proof\nThe hang could not be reproduced on CI.", False),
    ("wasn't reproducible", "## Proof\nIt wasn't reproducible here.", False),
    ("reproduced", "## Proof\nReproduced with the stress script.", True),
    ("fails without the fix", "## Test plan\nThe new test fails without the fix.", True),
    ("failed before", "## Proof\nIt failed before and passes now.", True),
    ("before the fix", "## Proof\nBefore the fix: 3/10 runs deadlock.", True),
    ("without the fix ... hangs", "## Proof\nWithout the fix the second worker hangs.", True),
    ("on main ... times out", "## Proof\nOn main `npm test` times out after 30s.", True),
    ("hangs on main", "## Proof\nThe stress test deadlocks reliably on main.", True),
    ("repro:", "## Summary\nRepro: run two workers.", True),
    ("false wins in the same section", "## Proof\nReproduced on Linux, but could not reproduce on macOS.", False),
    ("proof section decides first", "## Summary\nCould not reproduce.\n\n## Proof\nReproduced it.", True),
    ("summary before unsectioned text", "Reproduced it.\n\n## Summary\nUnable to reproduce.", False),
    ("body without sections", "Fails without the fix.", True),
    ("not tested section is not a claim", "## Not tested\nCould not reproduce on Windows.", None),
    ("quoted reporter does not count", "> I reproduced it every time", None),
    ("code does not count", f"{FENCE}\necho reproduced\n{FENCE}", None),
    ("silent", "## Summary\nSmall fix.", None),
]


@pytest.mark.parametrize(("case", "body", "expected"), REPRO_CASES, ids=[c[0] for c in REPRO_CASES])
def test_claims_reproduced(case: str, body: str, expected: bool | None) -> None:
    assert parse_pr_body(body).claims_reproduced is expected


# --------------------------------------------------------------------------- HTML comments


def test_html_comment_template_text_is_ignored_everywhere() -> None:
    body = (
        "## Test plan\n<!-- Example:\n## Summary\n- `npm test` -> 4/4 pass\n"
        "https://github.com/user-attachments/assets/00000000-0000-0000-0000-000000000000\n"
        "Could not reproduce? say so -->\n- `pytest`"
    )
    pr = parse_pr_body(body)
    assert pr.sections == {"test_plan": "- `pytest`"}
    assert (pr.commands, pr.results, pr.media, pr.claims_reproduced) == (["pytest"], [], [], None)


def test_unterminated_comment_hides_the_rest_like_github() -> None:
    pr = parse_pr_body("## Test plan\n- `pytest`\n<!-- template\n- `npm test`\n")
    assert pr.commands == ["pytest"]


# --------------------------------------------------------------------------- robustness


def assert_caps(pr: PrBody) -> None:
    """Invariants every parse must keep, whatever the input."""
    assert set(pr.sections) <= set(SECTION_KEYS)
    assert len(pr.commands) <= MAX_COMMANDS
    assert len(pr.commands) == len(set(pr.commands))
    assert all(0 < len(c) <= 500 and "\n" not in c for c in pr.commands)
    assert len(pr.results) <= 20
    assert all(
        len(r.text) <= 200 and (r.command is None or r.command in pr.commands or len(pr.commands) == 20)
        for r in pr.results
    )
    assert len(pr.media) <= 20
    assert len({m.url for m in pr.media}) == len(pr.media)
    assert all(m.url.lower().startswith(("http://", "https://")) and len(m.label) <= 120 for m in pr.media)
    pr.model_dump_json()  # serialisable: no lone surrogates leak through


HOSTILE = [
    ("none", None),
    ("empty", ""),
    ("whitespace", " \n\t\r\n "),
    ("unbalanced fence", f"## Test plan\n{FENCE}bash\nnpm test\n## Risk\nnever closed"),
    ("unbalanced tilde fence", "~~~\n# not a heading\n"),
    ("nested quotes", "> " * 500 + "`npm test` 4/4 pass"),
    ("nested lists", "".join("  " * i + "- `npm test`\n" for i in range(300))),
    ("nested quote lines", "\n".join(">" * i + " x" for i in range(300))),
    ("brackets", "[" * MAX_BODY_CHARS),
    ("image openers", "![" * (MAX_BODY_CHARS // 2)),
    ("angle brackets", "<" * MAX_BODY_CHARS),
    ("backticks", "`" * MAX_BODY_CHARS),
    ("long heading of parens", "## " + "(" * MAX_BODY_CHARS),
    ("long colon line", "(" * 60000 + ":"),
    ("long console line", f"{FENCE}console\n" + "/" * 60000 + "$ x\n" + "@" * 5000),
    ("long inline code", "- `pytest " + "a/" * 30000 + "`"),
    ("huge number", "9" * 5000 + " passed, " + "1" * 5000 + "/" + "2" * 5000 + " pass"),
    ("control and surrogates", "\x00\x01\ud800\udfff## Test plan\x0b\x0c- `pytest`"),
    ("binary junk", bytes(range(256)).decode("latin-1") * 50),
    ("html soup", "<img src=<a href=\"\"javascript:'><video src='http://[::1'><source src=>" * 200),
]


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("case", "body"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_input_never_raises(case: str, body: str | None) -> None:
    pr = parse_pr_body(body)
    assert_caps(pr)
    assert pr.truncated == (len(body or "") > MAX_BODY_CHARS)


def test_bytes_are_tolerated() -> None:
    pr = parse_pr_body(b"## Test plan\n- `pytest` \xff\xfe")  # type: ignore[arg-type]
    assert pr.commands == ["pytest"]


def test_a_megabyte_is_cut_before_parsing() -> None:
    body = "## Test plan\n- `pytest`\n" + "filler line\n" * 100_000 + "- `npm test`\n"
    pr = parse_pr_body(body)
    assert pr.truncated is True
    assert pr.commands == ["pytest"]  # the command past the cut is never seen
    assert len(pr.sections["test_plan"]) < MAX_BODY_CHARS


def test_exactly_the_limit_is_not_truncated() -> None:
    assert parse_pr_body("x" * MAX_BODY_CHARS).truncated is False
    assert parse_pr_body("x" * (MAX_BODY_CHARS + 1)).truncated is True


PIECES = [
    "#",
    "## ",
    "### Test plan\n",
    "**",
    "__",
    "`",
    "``",
    "```",
    "```console\n",
    "~~~",
    "<",
    ">",
    "> ",
    "<!--",
    "-->",
    "[",
    "]",
    "(",
    ")",
    "![",
    "](",
    "- ",
    "* ",
    "1. ",
    "- [x] ",
    "\n",
    "\n\n",
    "\r\n",
    " ",
    "\t",
    "    ",
    "|",
    "\\",
    '"',
    "'",
    ":",
    "$ ",
    "pytest",
    "npm test",
    "4/4 pass",
    "12 passed",
    "# pass 3\n",
    "http://",
    "https://github.com/user-attachments/assets/",
    "https://x.io/a.log",
    "javascript:",
    "<img src=",
    "<video src=",
    "<a href=",
    "Test plan:",
    "**Risk**",
    "reproduced",
    "could not reproduce",
    "é",
    "✅",
    "\x00",
    "\ud800",
    "🔒",
]


def test_random_junk_never_raises_and_keeps_caps() -> None:
    rng = random.Random(0)
    seen_commands = seen_media = 0
    for _ in range(400):
        body = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 120)))
        pr = parse_pr_body(body)
        assert_caps(pr)
        assert pr.truncated is False
        seen_commands += bool(pr.commands)
        seen_media += bool(pr.media)
    assert seen_commands and seen_media  # the junk really exercised the extractors


def test_random_oversized_junk_is_truncated() -> None:
    rng = random.Random(0)
    for _ in range(3):
        body = "".join(rng.choice(PIECES) for _ in range(40_000))
        assert len(body) > MAX_BODY_CHARS
        pr = parse_pr_body(body)
        assert_caps(pr)
        assert pr.truncated is True
