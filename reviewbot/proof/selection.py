"""Which suites a PR's proof runs, and with which test runner.

A repository with `.github/reviewbot.yml` names its suites and the paths that
trigger them; everything else (and every repository without a config) gets an
automatic suite that runs the test files the PR adds or changes, with a runner
detected from the files and `package.json`. The runner is named by an explicit
path into the environment the setup step made (`.venv/bin/python`,
`node_modules/.bin/jest`), so whatever else is on the sandbox's PATH (the bot's
own Python) never runs a repository's tests by accident, and nothing is fetched.

Pure: it only reads files inside the given tree (package.json, the test files
themselves) and never runs anything. Commands are strings for the sandbox, which
runs them offline from the repository root with `REVIEWBOT_JUNIT` set to a path
the command may write a JUnit XML report to.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from pathspec import GitIgnoreSpec

from reviewbot.model import ChangedFiles
from reviewbot.proof.changes import TEST_DIRS
from reviewbot.proof.inference import uses_pytest
from reviewbot.proof.safe_fs import read_inside
from reviewbot.repo_config import RepoConfig, Setup, Suite

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
HOST_PYTHON = "python"  # only when no setup made an environment: the sandbox's PATH decides

# Where a setup command puts its virtualenv: `python3 -m venv DIR`, `virtualenv DIR`,
# `uv venv [DIR]`, or pip run from `DIR/bin/pip`. `uv sync` and `pdm install` make `.venv`.
_VENV_PATTERNS = (
    re.compile(r"-m\s+venv\s+(?:--?[\w-]+\s+)*(?P<dir>[^\s;&|-][^\s;&|]*)"),
    re.compile(r"\bvirtualenv\s+(?:--?[\w-]+(?:=\S+)?\s+)*(?P<dir>[^\s;&|-][^\s;&|]*)"),
    re.compile(r"\buv\s+venv(?:\s+(?P<dir>[^\s;&|-][^\s;&|]*))?"),
    re.compile(r"(?:^|[\s;&|])(?P<dir>[\w.][\w./-]*)/bin/(?:pip3?|python3?)\b"),
    re.compile(r"\b(?:uv\s+sync|pdm\s+install)\b"),
)


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

    def command(self, files: list[str], python: str = HOST_PYTHON) -> str:
        """The command for these files; `python` is the interpreter of the repository's environment."""
        quoted = " ".join(shlex.quote(path) for path in files)
        return self.template.format(files=quoted, python=python).strip()


PYTEST = Runner(
    "pytest",
    '{python} -m pytest -q -p no:cacheprovider --junitxml="$REVIEWBOT_JUNIT" {files}',
    writes_junit=True,
)
UNITTEST = Runner("unittest", "{python} -m unittest -v {files}")
NODE = Runner(
    "node",
    "node --test --test-reporter=spec --test-reporter-destination=stdout"
    ' --test-reporter=junit --test-reporter-destination="$REVIEWBOT_JUNIT" {files}',
    writes_junit=True,
)
# The repository's own copy, never `npx`: offline, npx may try (and fail) to download one.
VITEST = Runner("vitest", "node_modules/.bin/vitest run {files}")
JEST = Runner("jest", "node_modules/.bin/jest {files}")
MOCHA = Runner("mocha", "node_modules/.bin/mocha {files}")
TAP = Runner("tap", "node_modules/.bin/tap {files}")
NPM = Runner("npm", "npm test")

RUNNERS = {runner.name: runner for runner in (PYTEST, UNITTEST, NODE, VITEST, JEST, MOCHA, TAP, NPM)}

# Runners named by a package or a command of the same name, in order of preference.
_JS_TOOLS = (VITEST, JEST, MOCHA, TAP)


# -- paths ---------------------------------------------------------------------------


def path_matches(pattern: str, path: str) -> bool:
    """Whether a `paths` glob matches a repository-relative path, as a line of .gitignore would (pathspec).

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
    if not pattern.strip("/") or not path:
        return False
    return _spec(pattern).match_file(path)


@functools.lru_cache(maxsize=512)
def _spec(pattern: str) -> GitIgnoreSpec:
    return GitIgnoreSpec.from_lines([pattern])


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


def detect_runner(tree: Path, test_files: list[str], setup: Setup | None = None) -> Runner | None:
    """The runner for these test files in this tree, or None when none applies.

    Expects files of one language (`select_suites` splits them); Python wins if both
    are given. Python tests run with pytest, or with unittest when a setup made a
    virtualenv and nothing says the tests need pytest (that venv would not have it).
    For JS/TS the test script in `package.json` is the strongest evidence, then its
    dependencies, then `node:test` imports in the files themselves.
    """
    if any(_is_python(path) for path in test_files):
        if venv_dir(setup) is not None and not uses_pytest(lambda name: read_inside(tree, name), test_files):
            return UNITTEST
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


def venv_dir(setup: Setup | None) -> str | None:
    """The virtualenv the setup command makes, relative to the repository root, or None."""
    if setup is None:
        return None
    for pattern in _VENV_PATTERNS:
        match = pattern.search(setup.run)
        if match:
            found = (match.groupdict().get("dir") or ".venv").strip("'\"").rstrip("/")
            if found.startswith("./"):
                found = found[2:]
            parts = PurePosixPath(found).parts
            if found and not found.startswith("/") and ".." not in parts and "$" not in found:
                return found
    return None


def python_for(setup: Setup | None) -> str:
    """The interpreter of the setup's virtualenv by its path, or the host's `python` without one."""
    venv = venv_dir(setup)
    return f"{shlex.quote(venv)}/bin/python" if venv else HOST_PYTHON


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
        for previous, token in zip(["", *tokens], tokens, strict=False)
        if token and not previous.startswith("-")
    }


def _imports_node_test(tree: Path, path: str) -> bool:
    head = read_inside(tree, path, limit=65536)
    return head is not None and b"node:test" in head


# -- suite selection -----------------------------------------------------------------


def select_suites(config: RepoConfig | None, changed: ChangedFiles, tree: Path) -> list[Suite]:
    """The suites to run for this PR: configured ones it touches, then its own tests.

    With a config, a suite runs when its `paths` match a changed (non-deleted) file,
    when its command names a changed test file, or when it has no `paths`. With
    `changed_tests: auto` (or no config), the PR's runnable test files that no
    selected suite covers run in an automatic suite per runner, in the environment
    the config's setup makes.
    """
    present = changed.all  # deleted paths are kept apart by split_changes
    runnable = runnable_tests(changed)
    selected: list[Suite] = []
    if config is not None:
        selected = [
            suite
            for suite in config.suites
            if not suite.paths
            or any(path_matches(p, f) for p in suite.paths for f in present)
            or any(_names_path(suite, path) for path in runnable)
        ]
        if config.changed_tests == "off":
            return selected

    setup = config.setup if config is not None else None
    uncovered = [path for path in runnable if not any(covers(s, path) for s in selected)]
    auto = [
        _auto_suite(tree, group, setup)
        for group in ([p for p in uncovered if _is_python(p)], [p for p in uncovered if _is_js(p)])
        if group
    ]
    return selected + [suite for suite in auto if suite is not None]


def covers(suite: Suite, path: str) -> bool:
    """Whether a configured suite already runs this test file: its `paths` match it or its command names it.

    A second, automatic suite for the same file would only duplicate the configured
    one, and could outvote it with the wrong environment.
    """
    return any(path_matches(pattern, path) for pattern in suite.paths) or _names_path(suite, path)


def _names_path(suite: Suite, path: str) -> bool:
    """Whether a word of the command is this file, a directory above it, or a glob matching it.

    `tests/test_a.py::test_x`, `--spec=tests/test_a.py` and `./tests/` count; a bare
    `pytest` does not (what it collects depends on config the bot does not read).
    """
    tokens = _tokens(suite.run)
    for previous, token in zip(["", *tokens], tokens, strict=False):
        if previous in _SCRIPT_RUNNERS:
            continue  # `npm test`, `make test`: a script or target name, not the test/ directory
        if "=" in token and token.startswith("-"):
            token = token.split("=", 1)[1]
        token = token.split("::", 1)[0].strip()
        if not token or token.startswith("-") or token in ("&&", "||", ";", "|"):
            continue
        if token.startswith("./"):
            token = token[2:]
        token = token.rstrip("/")
        if not token or ".." in PurePosixPath(token).parts or token.startswith(("/", "$")):
            continue
        if token == "." or token == path or path.startswith(token + "/"):
            return True
        if any(char in token for char in "*?[") and "/" in token and path_matches(token, path):
            return True
    return False


# Words after which the next word names a script or target rather than a path.
_SCRIPT_RUNNERS = frozenset({"npm", "pnpm", "yarn", "run", "run-script", "make", "just", "tox", "nox", "-e", "-s"})


def _auto_suite(tree: Path, files: list[str], setup: Setup | None = None) -> Suite | None:
    runner = detect_runner(tree, files, setup)
    if runner is None:
        return None
    return Suite(
        name=f"PR tests ({runner.name})",
        run=runner.command(files, python=python_for(setup)),
        kind="regression",
        timeout=AUTO_SUITE_TIMEOUT,
        repeat=1,
        junit=JUNIT_PLACEHOLDER if runner.writes_junit else None,
    )
