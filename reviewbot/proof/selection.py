"""Which suites a PR's proof runs, and with which test runner.

A repository with `.github/reviewbot.yml` names its suites and the paths that
trigger them; everything else (and every repository without a config) gets an
automatic suite that runs the test files the PR adds or changes, with a runner
detected from the files and `package.json`.

Pure: it only reads files inside the given tree (package.json, the test files
themselves) and never runs anything. Commands are strings for the sandbox, which
runs them offline from the repository root with `REVIEWBOT_JUNIT` set to a path
the command may write a JUnit XML report to.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from reviewbot.model import ChangedFiles
from reviewbot.proof.changes import TEST_DIRS
from reviewbot.proof.safe_fs import read_inside
from reviewbot.repo_config import RepoConfig, Suite

JUNIT_ENV = "REVIEWBOT_JUNIT"
JUNIT_PLACEHOLDER = f"${JUNIT_ENV}"

AUTO_SUITE_TIMEOUT = 120

PY_TEST_PATTERNS = ("test_*.py", "*_test.py")
JS_TEST_PATTERNS = ("*.test.*", "*.spec.*")
JS_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"})

# Directories of test data and mocks, wherever they are: never run their files directly
# (a test runner's own fixtures are often tests that are meant to fail).
FIXTURE_DIRS = frozenset({"fixture", "fixtures", "__fixtures__", "__mocks__", "__snapshots__", "testdata"})
# Directories that hold test support when they sit inside a test directory
# (`test/helpers/`, `tests/utils/`); elsewhere (`src/utils/`) they hold colocated tests.
HELPER_DIRS = frozenset({"helper", "helpers", "__helpers__", "util", "utils", "support", "mocks", "data"})
# Words that make a plain file under test/ a helper (`test/helpers.js`, `test/test-utils.ts`).
HELPER_WORDS = frozenset(
    {"fixture", "fixtures", "helper", "helpers", "util", "utils", "support", "setup", "common", "mocks"}
)

NPM_DEFAULT_TEST = "no test specified"  # npm init's `echo "Error: no test specified" && exit 1`


@dataclass(frozen=True)
class Runner:
    """A test runner: its name and a shell command template with a `{files}` slot."""

    name: str
    template: str
    writes_junit: bool = False

    @property
    def targets_files(self) -> bool:
        """Whether the command can be limited to given files (`npm test` cannot)."""
        return "{files}" in self.template

    def command(self, files: list[str]) -> str:
        quoted = " ".join(shlex.quote(path) for path in files)
        return self.template.format(files=quoted).strip()


PYTEST = Runner(
    "pytest",
    'python -m pytest -q -p no:cacheprovider --junitxml="$REVIEWBOT_JUNIT" {files}',
    writes_junit=True,
)
NODE = Runner(
    "node",
    "node --test --test-reporter=spec --test-reporter-destination=stdout"
    ' --test-reporter=junit --test-reporter-destination="$REVIEWBOT_JUNIT" {files}',
    writes_junit=True,
)
VITEST = Runner("vitest", "npx --no-install vitest run {files}")
JEST = Runner("jest", "npx --no-install jest {files}")
MOCHA = Runner("mocha", "npx --no-install mocha {files}")
TAP = Runner("tap", "npx --no-install tap {files}")
NPM = Runner("npm", "npm test")

RUNNERS = {runner.name: runner for runner in (PYTEST, NODE, VITEST, JEST, MOCHA, TAP, NPM)}

# Runners named by a package or a command of the same name, in order of preference.
_JS_TOOLS = (VITEST, JEST, MOCHA, TAP)


# -- paths ---------------------------------------------------------------------------


def path_matches(pattern: str, path: str) -> bool:
    """Gitignore-ish glob match of a repository-relative path.

    - `*`, `?` and `[...]` never cross `/`; a `**` segment matches any number of
      directories (zero included).
    - A pattern matches a file or any directory above it, so a bare prefix such as
      `src/session-lock` matches everything under that directory (but not
      `src/session-lock.js`), and `test/session-lock*` matches `test/session-lock/a.js`.
    - A pattern with no `/` except a trailing one matches at any depth (`*.py`,
      `package.json`); otherwise it is anchored at the root (a leading `/` or `./`
      is allowed). A trailing `/` matches directories only.
    """
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    dir_only = pattern.endswith("/")
    pattern = pattern.strip("/")
    if not pattern or not path:
        return False
    segments = [_segment(seg) for seg in pattern.split("/") if seg]
    if len(segments) == 1 and segments[0] != "**" and "/" not in pattern:
        segments = ["**", *segments]  # no slash: any depth, as in .gitignore
    if segments[-1] == "**":
        dir_only = True  # `src/**` is everything inside src, not src itself
    return _match(tuple(segments), tuple(PurePosixPath(path).parts), dir_only)


def _segment(segment: str) -> str:
    # `**` inside a segment (`**.js`, `lock**`) cannot cross `/` on its own: treat it as `*`.
    while segment != "**" and "**" in segment:
        segment = segment.replace("**", "*")
    return segment


def _match(pattern: tuple[str, ...], parts: tuple[str, ...], dir_only: bool) -> bool:
    if not pattern:
        # Pattern used up: a full match names the file itself, leftovers mean a directory matched.
        return bool(parts) or not dir_only
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return _match(rest, parts, dir_only) or (bool(parts) and _match(pattern, parts[1:], dir_only))
    return bool(parts) and fnmatchcase(parts[0], head) and _match(rest, parts[1:], dir_only)


def _is_python(path: str) -> bool:
    return PurePosixPath(path).suffix == ".py"


def _is_js(path: str) -> bool:
    pure = PurePosixPath(path)
    return pure.suffix in JS_SUFFIXES and not pure.name.endswith(".d.ts")


def is_runnable(path: str) -> bool:
    """Whether a runner would execute this test file (helpers and fixtures are not run).

    Python: `test_*.py` / `*_test.py`. JS/TS: `*.test.*` / `*.spec.*`, or any script
    under `test/`, `tests/` or `__tests__/` that does not look like a helper.
    """
    pure = PurePosixPath(path)
    dirs = [part.lower() for part in pure.parent.parts]
    if any(part in FIXTURE_DIRS for part in dirs):
        return False
    first_test_dir = next((i for i, part in enumerate(dirs) if part in TEST_DIRS), None)
    in_test_dir = first_test_dir is not None
    if in_test_dir and HELPER_DIRS.intersection(dirs[first_test_dir + 1 :]):
        return False
    if _is_python(path):
        return any(fnmatchcase(pure.name, pattern) for pattern in PY_TEST_PATTERNS)
    if not _is_js(path):
        return False
    if any(fnmatchcase(pure.name, pattern) for pattern in JS_TEST_PATTERNS):
        return True
    return in_test_dir and not _looks_like_helper(pure.name)


def _looks_like_helper(name: str) -> bool:
    stem = name.split(".", 1)[0].lower()
    if stem.startswith("_"):
        return True  # `_setup.js`: the usual "not a test" marker (ava, node:test suites)
    words = stem.replace("-", "_").split("_")
    return any(word in HELPER_WORDS for word in words) or stem.endswith(("utils", "helpers", "fixtures"))


def runnable_tests(changed: ChangedFiles) -> list[str]:
    """The PR's changed (not deleted) test files that a runner would execute."""
    return sorted(path for path in changed.tests if is_runnable(path))


# -- runner detection ----------------------------------------------------------------


def detect_runner(tree: Path, test_files: list[str]) -> Runner | None:
    """The runner for these test files in this tree, or None when none applies.

    Expects files of one language (`select_suites` splits them); Python wins if both
    are given. For JS/TS the test script in `package.json` is the strongest evidence,
    then its dependencies, then `node:test` imports in the files themselves.
    """
    if any(_is_python(path) for path in test_files):
        return PYTEST
    js_files = [path for path in test_files if _is_js(path)]
    if not js_files:
        return None

    package = _read_package_json(tree)
    script = package.get("scripts", {}).get("test", "")
    script = script if isinstance(script, str) else ""
    commands = _command_names(script)
    deps = set(_dict(package.get("dependencies"))) | set(_dict(package.get("devDependencies")))

    for runner in _JS_TOOLS:
        if runner.name in commands:
            return runner
    if "node" in commands and "--test" in _tokens(script):
        return NODE
    for runner in _JS_TOOLS:
        if runner.name in deps:
            return runner
    if any(_imports_node_test(tree, path) for path in js_files):
        return NODE
    if script.strip() and NPM_DEFAULT_TEST not in script:
        return NPM
    return NODE


def _read_package_json(tree: Path) -> dict:
    raw = read_inside(tree, "package.json")
    try:
        data = json.loads(raw) if raw is not None else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    data["scripts"] = _dict(data.get("scripts"))
    return data


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _tokens(script: str) -> list[str]:
    """Shell words of a script; `&&`, `;` and `|` become their own tokens."""
    try:
        lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        return list(lexer)
    except ValueError:  # unbalanced quotes: fall back to plain words
        return script.split()


def _command_names(script: str) -> set[str]:
    """Base names of the script's words, so `./node_modules/.bin/jest` and `npx vitest` count.

    A word right after an option is that option's value, not a command: in
    `node --test --test-reporter tap`, tap is a reporter, not the runner.
    """
    tokens = _tokens(script)
    return {
        PurePosixPath(token).name
        for previous, token in zip(["", *tokens], tokens)
        if token and not previous.startswith("-")
    }


def _imports_node_test(tree: Path, path: str) -> bool:
    head = read_inside(tree, path, limit=65536)
    return head is not None and b"node:test" in head


# -- suite selection -----------------------------------------------------------------


def select_suites(config: RepoConfig | None, changed: ChangedFiles, tree: Path) -> list[Suite]:
    """The suites to run for this PR: configured ones it touches, then its own tests.

    With a config, a suite runs when its `paths` match a changed (non-deleted) file or
    when it has no `paths`. With `changed_tests: auto` (or no config), the PR's runnable
    test files that no selected suite covers run in an automatic suite per runner.
    """
    present = changed.all  # deleted paths are kept apart by split_changes
    selected: list[Suite] = []
    if config is not None:
        selected = [
            suite
            for suite in config.suites
            if not suite.paths or any(path_matches(p, f) for p in suite.paths for f in present)
        ]
        if config.changed_tests == "off":
            return selected

    uncovered = [path for path in runnable_tests(changed) if not any(_covers(s, path) for s in selected)]
    auto = [
        _auto_suite(tree, group)
        for group in ([p for p in uncovered if _is_python(p)], [p for p in uncovered if _is_js(p)])
        if group
    ]
    return selected + [suite for suite in auto if suite is not None]


def _covers(suite: Suite, path: str) -> bool:
    if any(path_matches(pattern, path) for pattern in suite.paths):
        return True
    return any(str(PurePosixPath(token)) == path for token in _tokens(suite.run) if token)


def _auto_suite(tree: Path, files: list[str]) -> Suite | None:
    runner = detect_runner(tree, files)
    if runner is None:
        return None
    return Suite(
        name=f"PR tests ({runner.name})",
        run=runner.command(files),
        kind="regression",
        timeout=AUTO_SUITE_TIMEOUT,
        repeat=1,
        junit=JUNIT_PLACEHOLDER if runner.writes_junit else None,
    )
