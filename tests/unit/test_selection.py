"""Suite selection: glob matching, runnable tests, runner detection, configured + auto suites."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewbot.model import ChangedFiles
from reviewbot.proof.changes import split_changes
from reviewbot.proof.selection import (
    JEST,
    MOCHA,
    NODE,
    NPM,
    PYTEST,
    RUNNERS,
    TAP,
    UNITTEST,
    VITEST,
    Runner,
    covers,
    detect_runner,
    is_runnable,
    path_matches,
    python_for,
    runnable_tests,
    select_suites,
    venv_dir,
)
from reviewbot.repo_config import RepoConfig, Setup, Suite, parse_config

# -- path_matches ---------------------------------------------------------------------

PATH_MATCH_CASES = [
    # `**` crosses directories, zero included
    ("src/session-lock/**", "src/session-lock/index.js", True),
    ("src/session-lock/**", "src/session-lock/deep/er/a.js", True),
    ("src/session-lock/**", "src/session-lock.js", False),
    ("src/session-lock/**", "src/session-lock", False),  # inside the directory, not itself
    ("src/**/lock.js", "src/lock.js", True),
    ("src/**/lock.js", "src/a/b/lock.js", True),
    ("src/**/lock.js", "src/a/b/unlock.js", False),
    ("**/lock.js", "lock.js", True),
    ("**/lock.js", "a/b/lock.js", True),
    ("**/*.py", "src/deep/a.py", True),
    ("**", "anything/at/all.txt", True),
    ("src/**.js", "src/a.js", True),  # `**` inside a segment acts as `*`
    # `*` and `?` never cross `/`
    ("src/*.js", "src/lock.js", True),
    ("src/*.js", "src/a/lock.js", False),
    ("test/session-lock*", "test/session-lock.test.mjs", True),
    ("test/session-lock*", "test/session-lock-stale.test.mjs", True),
    ("test/session-lock*", "test/session-lock/helpers.js", True),  # matched dir covers its files
    ("test/session-lock*", "test/other.test.mjs", False),
    ("test/session-lock*", "test/unit/session-lock.test.mjs", False),
    ("src/lock?.js", "src/lock1.js", True),
    ("src/lock?.js", "src/lock12.js", False),
    ("src/lock[0-9].js", "src/lock7.js", True),
    # bare prefixes: a directory and everything under it, on segment boundaries
    ("src/session-lock", "src/session-lock/index.js", True),
    ("src/session-lock", "src/session-lock", True),
    ("src/session-lock", "src/session-lock.js", False),
    ("src/session-lock", "src/session-locks/a.js", False),
    ("src/session-lock/", "src/session-lock/a.js", True),
    ("src/session-lock/", "src/session-lock", False),  # trailing slash: directories only
    ("src", "src/a/b.py", True),
    ("src", "lib/src.py", False),
    # anchored when the pattern has a slash; leading `/` and `./` are allowed
    ("/src/lock.py", "src/lock.py", True),
    ("./src/lock.py", "src/lock.py", True),
    ("src/lock.py", "vendor/src/lock.py", False),
    ("lib/*.js", "packages/x/lib/a.js", False),
    # no slash: any depth, like .gitignore
    ("*.py", "a.py", True),
    ("*.py", "src/deep/a.py", True),
    ("*.py", "src/a.pyc", False),
    ("package.json", "packages/core/package.json", True),
    ("lockfile", "src/lockfile/index.js", True),
    ("lockfile", "src/lockfiles/index.js", False),
    # case-sensitive, and nothing matches blanks
    ("SRC/**", "src/a.py", False),
    ("", "src/a.py", False),
    ("/", "src/a.py", False),
    ("src/**", "", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), PATH_MATCH_CASES)
def test_path_matches(pattern: str, path: str, expected: bool) -> None:
    assert path_matches(pattern, path) is expected


# -- runnable tests -------------------------------------------------------------------

RUNNABLE = [
    "tests/test_lock.py",
    "tests/unit/test_lock.py",
    "src/pkg/lock_test.py",
    "test_root.py",
    "src/utils/test_paths.py",  # colocated test under a non-test utils/ directory
    "test/session-lock.test.mjs",
    "src/lock.spec.ts",
    "src/utils/lock.test.js",
    "test/session-lock.js",  # plain script under test/: node --test style
    "test/mutex.mjs",
    "tests/release.cjs",
    "src/__tests__/lock.ts",
    "packages/core/test/stale.js",
    "test/index.js",
]

NOT_RUNNABLE = [
    "tests/conftest.py",
    "tests/helpers.py",
    "tests/__init__.py",
    "tests/fixtures/test_data.py",
    "tests/helpers/test_factory.py",
    "test/helpers.js",
    "test/helpers/tmpdir.js",
    "test/fixtures/broken.test.js",  # a runner's fixtures are often meant to fail
    "test/__fixtures__/lock.js",
    "src/__mocks__/fs.js",
    "test/utils.js",
    "test/test-utils.ts",
    "test/testUtils.ts",
    "test/common.js",
    "test/setup.js",
    "test/_harness.mjs",
    "test/utils/lock.js",
    "test/support/server.js",
    "test/types.d.ts",
    "test/fixtures/package.json",
    "test/data.json",
    "src/__snapshots__/lock.test.ts.snap",
    "test/README.md",
]


@pytest.mark.parametrize("path", RUNNABLE)
def test_is_runnable_true(path: str) -> None:
    assert is_runnable(path)


@pytest.mark.parametrize("path", NOT_RUNNABLE)
def test_is_runnable_false(path: str) -> None:
    assert not is_runnable(path)


def test_runnable_tests_filters_sorts_and_skips_deleted() -> None:
    changed = split_changes(
        ["test/z.test.js", "test/helpers.js", "tests/test_a.py", "test/gone.test.js", "src/lock.js"],
        deleted=["test/gone.test.js"],
    )
    assert runnable_tests(changed) == ["test/z.test.js", "tests/test_a.py"]


# -- runners --------------------------------------------------------------------------


def test_runner_commands_quote_files() -> None:
    files = ["test/a b.test.js", "test/it's.test.js", "test/plain.test.js"]
    assert NODE.command(files) == (
        "node --test --test-reporter=spec --test-reporter-destination=stdout"
        ' --test-reporter=junit --test-reporter-destination="$REVIEWBOT_JUNIT"'
        " 'test/a b.test.js' 'test/it'\"'\"'s.test.js' test/plain.test.js"
    )
    assert PYTEST.command(["tests/test_a.py"]) == (
        'python -m pytest -q -p no:cacheprovider --junitxml="$REVIEWBOT_JUNIT" tests/test_a.py'
    )
    assert PYTEST.command(["tests/test_a.py"], python=".venv/bin/python").startswith(".venv/bin/python -m pytest ")
    assert UNITTEST.command(["tests/test_a.py"], python="venv/bin/python") == (
        "venv/bin/python -m unittest -v tests/test_a.py"
    )
    # The repository's own runner by path: offline, `npx` may try to download one instead.
    assert VITEST.command(["a.test.ts"]) == "node_modules/.bin/vitest run a.test.ts"
    assert JEST.command(["a.test.ts"]) == "node_modules/.bin/jest a.test.ts"
    assert MOCHA.command(["test/a.js"]) == "node_modules/.bin/mocha test/a.js"
    assert TAP.command(["test/a.js"]) == "node_modules/.bin/tap test/a.js"
    assert not any("npx" in runner.template for runner in RUNNERS.values())
    assert NPM.command(["test/a.js"]) == "npm test"


def test_runner_properties() -> None:
    assert {name for name, runner in RUNNERS.items() if runner.writes_junit} == {"pytest", "node"}
    assert {name for name, runner in RUNNERS.items() if not runner.targets_files} == {"npm"}
    assert set(RUNNERS) == {"pytest", "unittest", "node", "vitest", "jest", "mocha", "tap", "npm"}
    with pytest.raises(AttributeError):
        NODE.name = "other"  # type: ignore[misc]


NPM_DEFAULT = 'echo "Error: no test specified" && exit 1'

DETECT_CASES = [
    # (id, package.json content or None for missing, files, expected runner name)
    ("python", None, ["tests/test_a.py"], "pytest"),
    ("python-ignores-package-json", {"devDependencies": {"jest": "^29"}}, ["tests/test_a.py"], "pytest"),
    ("no-package-json", None, ["test/a.test.js"], "node"),
    ("broken-json", "{not json", ["test/a.test.js"], "node"),
    ("json-not-object", "[1, 2]", ["test/a.test.js"], "node"),
    ("scripts-not-object", {"scripts": "vitest"}, ["test/a.test.js"], "node"),
    ("test-script-not-string", {"scripts": {"test": ["vitest"]}}, ["test/a.test.js"], "node"),
    ("deps-not-object", {"devDependencies": ["jest"]}, ["test/a.test.js"], "node"),
    ("vitest-dev-dep", {"devDependencies": {"vitest": "^1.6.0"}}, ["src/a.test.ts"], "vitest"),
    ("vitest-dep", {"dependencies": {"vitest": "^1.6.0"}}, ["src/a.test.ts"], "vitest"),
    ("vitest-script", {"scripts": {"test": "vitest run --coverage"}}, ["src/a.test.ts"], "vitest"),
    ("vitest-via-npx", {"scripts": {"test": "npx vitest"}}, ["src/a.test.ts"], "vitest"),
    ("jest-dev-dep", {"devDependencies": {"jest": "^29.7.0"}}, ["src/a.test.js"], "jest"),
    ("jest-script-env", {"scripts": {"test": "NODE_ENV=test jest --runInBand"}}, ["a.test.js"], "jest"),
    ("jest-bin-path", {"scripts": {"test": "./node_modules/.bin/jest"}}, ["a.test.js"], "jest"),
    ("jest-after-lint", {"scripts": {"test": "eslint .&&jest"}}, ["a.test.js"], "jest"),
    ("mocha-dev-dep", {"devDependencies": {"mocha": "^10"}}, ["test/lock.js"], "mocha"),
    ("mocha-script", {"scripts": {"test": "nyc mocha 'test/**/*.js'"}}, ["test/lock.js"], "mocha"),
    ("mocha-tap-reporter", {"scripts": {"test": "mocha --reporter tap"}}, ["test/lock.js"], "mocha"),
    ("tap-dev-dep", {"devDependencies": {"tap": "^18"}}, ["test/lock.js"], "tap"),
    ("tap-script", {"scripts": {"test": "tap test/*.js"}}, ["test/lock.js"], "tap"),
    ("node-test-script", {"scripts": {"test": "node --test test/"}}, ["test/lock.test.mjs"], "node"),
    (
        "node-test-tap-reporter",
        {"scripts": {"test": "node --test --test-reporter tap"}, "devDependencies": {}},
        ["test/lock.test.mjs"],
        "node",
    ),
    ("c8-node-test", {"scripts": {"test": "c8 node --test"}}, ["test/lock.test.mjs"], "node"),
    # the test script outranks a leftover dependency
    (
        "script-beats-deps",
        {"scripts": {"test": "vitest"}, "devDependencies": {"jest": "^29", "vitest": "^1"}},
        ["a.test.ts"],
        "vitest",
    ),
    (
        "jest-script-with-stale-vitest-dep",
        {"scripts": {"test": "jest"}, "devDependencies": {"vitest": "^1"}},
        ["a.test.ts"],
        "jest",
    ),
    (
        "node-script-with-stale-mocha-dep",
        {"scripts": {"test": "node --test"}, "devDependencies": {"mocha": "^10"}},
        ["test/a.test.js"],
        "node",
    ),
    # dependency order: vitest, jest, mocha, tap
    ("deps-order", {"devDependencies": {"tap": "1", "mocha": "1", "jest": "1"}}, ["a.test.js"], "jest"),
    ("custom-script", {"scripts": {"test": "node scripts/run-tests.js"}}, ["test/a.test.js"], "npm"),
    ("npm-default-script", {"scripts": {"test": NPM_DEFAULT}}, ["test/a.test.js"], "node"),
    ("blank-script", {"scripts": {"test": "  "}}, ["test/a.test.js"], "node"),
    ("unbalanced-quotes", {"scripts": {"test": "jest 'oops"}}, ["a.test.js"], "jest"),
    ("no-js-files", {"devDependencies": {"jest": "1"}}, ["test/fixtures/data.json"], None),
    ("no-files", None, [], None),
]


def _write_package(tree: Path, package: object) -> None:
    if package is None:
        return
    text = package if isinstance(package, str) else json.dumps(package)
    (tree / "package.json").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("package", "files", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in DETECT_CASES],
)
def test_detect_runner(tmp_path: Path, package: object, files: list[str], expected: str | None) -> None:
    _write_package(tmp_path, package)
    runner = detect_runner(tmp_path, files)
    assert (runner.name if runner else None) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import test from 'node:test';\n", "node"),
        ("const { describe, it } = require('node:test')\n", "node"),
        ("import { test } from 'vitest'\n", "npm"),
        ("describe('lock', () => {})\n", "npm"),
    ],
)
def test_detect_runner_reads_node_test_import(tmp_path: Path, source: str, expected: str) -> None:
    # A custom test script would otherwise win: the file itself says it is a node:test file.
    _write_package(tmp_path, {"scripts": {"test": "make check"}})
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "lock.test.mjs").write_text(source, encoding="utf-8")
    runner = detect_runner(tmp_path, ["test/missing.test.mjs", "test/lock.test.mjs"])
    assert runner is not None and runner.name == expected


def test_detect_runner_tolerates_unreadable_test_file(tmp_path: Path) -> None:
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "lock.test.js").mkdir()  # a directory where a file was expected
    (tmp_path / "test" / "bin.test.js").write_bytes(b"\xff\xfe\x00node:test")
    assert detect_runner(tmp_path, ["test/lock.test.js"]) == NODE
    assert detect_runner(tmp_path, ["test/bin.test.js"]) == NODE


# -- select_suites --------------------------------------------------------------------


def _config(text: str) -> RepoConfig:
    return parse_config(text)


LOCK_CONFIG = """
suites:
  - name: session-lock regression
    run: node --test test/session-lock.test.mjs
    paths: ["src/session-lock/**", "test/session-lock*"]
    repeat: 3
  - name: fs integration
    run: npm run test:integration
    paths: ["src/fs/**"]
    kind: integration
  - name: smoke
    run: npm run smoke
"""


def _names(suites: list[Suite]) -> list[str]:
    return [suite.name for suite in suites]


def _changes(*paths: str, deleted: tuple[str, ...] = ()) -> ChangedFiles:
    return split_changes(list(paths), list(deleted))


@pytest.mark.parametrize(
    ("paths", "deleted", "expected"),
    [
        pytest.param(
            ["src/session-lock/index.js"],
            [],
            ["session-lock regression", "smoke"],
            id="source-touch-selects-its-suite-and-pathless",
        ),
        pytest.param(
            ["src/session-lock/index.js", "test/session-lock.test.mjs"],
            [],
            ["session-lock regression", "smoke"],
            id="test-covered-by-paths-glob",
        ),
        pytest.param(
            ["src/fs/rename.js"],
            [],
            ["fs integration", "smoke"],
            id="other-suite",
        ),
        pytest.param(
            ["README.md"],
            [],
            ["smoke"],
            id="pathless-suite-always-runs",
        ),
        pytest.param(
            ["src/fs/rename.js", "test/rename.test.mjs"],
            [],
            ["fs integration", "smoke", "PR tests (node)"],
            id="uncovered-test-gets-auto-suite",
        ),
        pytest.param(
            ["README.md"],
            ["src/session-lock/old.js"],
            ["smoke"],
            id="deleted-files-do-not-select",
        ),
        pytest.param(
            ["test/session-lock/helpers.js"],
            [],
            ["session-lock regression", "smoke"],
            id="helper-selects-but-is-not-run-alone",
        ),
    ],
)
def test_select_suites_with_config(tmp_path: Path, paths: list[str], deleted: list[str], expected: list[str]) -> None:
    suites = select_suites(_config(LOCK_CONFIG), _changes(*paths, deleted=tuple(deleted)), tmp_path)
    assert _names(suites) == expected


def test_configured_suites_are_returned_unchanged(tmp_path: Path) -> None:
    config = _config(LOCK_CONFIG)
    suites = select_suites(config, _changes("src/session-lock/index.js"), tmp_path)
    assert suites[0] == config.suites[0]
    assert suites[0].repeat == 3


def test_auto_suite_shape(tmp_path: Path) -> None:
    changed = _changes("src/lock.js", "test/lock.test.mjs", "test/helpers/tmp.js", "test/stale lock.test.mjs")
    (suite,) = select_suites(None, changed, tmp_path)
    assert suite == Suite(
        name="PR tests (node)",
        run=NODE.command(["test/lock.test.mjs", "test/stale lock.test.mjs"]),
        kind="regression",
        timeout=120,
        repeat=1,
        junit="$REVIEWBOT_JUNIT",
    )
    assert "'test/stale lock.test.mjs'" in suite.run
    assert "helpers" not in suite.run


def test_auto_suite_without_junit(tmp_path: Path) -> None:
    _write_package(tmp_path, {"devDependencies": {"vitest": "^1.6.0"}})
    (suite,) = select_suites(None, _changes("src/lock.ts", "src/lock.test.ts"), tmp_path)
    assert suite.name == "PR tests (vitest)"
    assert suite.run == "node_modules/.bin/vitest run src/lock.test.ts"
    assert suite.junit is None


def test_auto_suite_npm_runs_whole_script(tmp_path: Path) -> None:
    _write_package(tmp_path, {"scripts": {"test": "node scripts/test.js"}})
    (suite,) = select_suites(None, _changes("test/a.test.js", "test/b.test.js"), tmp_path)
    assert (suite.name, suite.run, suite.junit) == ("PR tests (npm)", "npm test", None)


def test_mixed_languages_get_one_suite_per_runner(tmp_path: Path) -> None:
    _write_package(tmp_path, {"devDependencies": {"jest": "^29"}})
    changed = _changes("tests/test_lock.py", "web/lock.test.js", "tests/conftest.py", "web/api.spec.ts")
    suites = select_suites(None, changed, tmp_path)
    assert [(s.name, s.run, s.junit) for s in suites] == [
        (
            "PR tests (pytest)",
            'python -m pytest -q -p no:cacheprovider --junitxml="$REVIEWBOT_JUNIT" tests/test_lock.py',
            "$REVIEWBOT_JUNIT",
        ),
        ("PR tests (jest)", "node_modules/.bin/jest web/api.spec.ts web/lock.test.js", None),
    ]


@pytest.mark.parametrize(
    ("config", "paths", "expected"),
    [
        pytest.param(None, ["src/lock.py"], [], id="no-config-no-tests"),
        pytest.param(None, ["tests/conftest.py", "tests/helpers.py"], [], id="no-config-only-helpers"),
        pytest.param(None, [], [], id="nothing-changed"),
        pytest.param(None, ["tests/test_lock.py"], ["PR tests (pytest)"], id="no-config-python"),
        pytest.param("", ["tests/test_lock.py"], ["PR tests (pytest)"], id="empty-config-is-auto"),
        pytest.param("changed_tests: 'off'\n", ["tests/test_lock.py"], [], id="auto-off-no-suites"),
        pytest.param(
            "changed_tests: 'off'\nsuites:\n  - {name: unit, run: pytest tests}\n",
            ["tests/test_lock.py"],
            ["unit"],
            id="auto-off-keeps-configured",
        ),
        pytest.param(
            "suites:\n  - {name: lock, run: pytest tests/test_lock.py, paths: [src/lock/**]}\n",
            ["tests/test_lock.py"],
            ["lock"],
            id="suite-naming-the-changed-test-is-selected",
        ),
        pytest.param(
            "suites:\n  - {name: lock, run: pytest ./tests/test_lock.py, paths: [src/lock/**]}\n",
            ["src/lock/core.py", "tests/test_lock.py"],
            ["lock"],
            id="covered-by-literal-path-in-run",
        ),
        pytest.param(
            "suites:\n  - {name: lock, run: pytest tests/test_lock.py, paths: [src/lock/**]}\n",
            ["src/lock/core.py", "tests/test_lock.py", "tests/test_stale.py"],
            ["lock", "PR tests (pytest)"],
            id="partly-covered",
        ),
        pytest.param(
            "suites:\n  - {name: lock, run: pytest tests/unit/test_lock.py, paths: [src/lock/**]}\n",
            ["src/lock/core.py", "test_lock.py"],
            ["lock", "PR tests (pytest)"],
            id="literal-match-is-whole-path-not-substring",
        ),
        pytest.param(
            "suites:\n  - {name: all, run: pytest}\n",
            ["tests/test_lock.py"],
            ["all", "PR tests (pytest)"],
            id="pathless-suite-does-not-cover",
        ),
        pytest.param(
            "suites:\n  - {name: all, run: pytest, paths: ['**/*.py']}\n",
            ["tests/test_lock.py"],
            ["all"],
            id="glob-covers-tests",
        ),
    ],
)
def test_select_suites_table(tmp_path: Path, config: str | None, paths: list[str], expected: list[str]) -> None:
    repo_config = None if config is None else _config(config)
    assert _names(select_suites(repo_config, _changes(*paths), tmp_path)) == expected


def test_auto_suite_skips_deleted_tests(tmp_path: Path) -> None:
    changed = _changes("src/lock.py", "tests/test_new.py", deleted=("tests/test_old.py",))
    (suite,) = select_suites(None, changed, tmp_path)
    assert suite.run.endswith(" tests/test_new.py")
    assert "test_old" not in suite.run


def test_runner_is_a_small_frozen_dataclass() -> None:
    runner = Runner("x", "x {files}")
    assert runner.command([]) == "x"
    assert runner.command(["a"]) == "x a"
    assert runner.writes_junit is False


# -- the repository's environment ----------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("python3 -m venv .venv && .venv/bin/pip install -e '.[test]'", ".venv"),
        ("python -m venv venv && venv/bin/pip install -r requirements.txt", "venv"),
        ("python3 -m venv --upgrade-deps ./env", "env"),
        ("virtualenv --python=python3 .tox/py", ".tox/py"),
        ("uv venv && uv pip install -e .", ".venv"),
        ("uv venv .env", ".env"),
        ("uv sync --frozen", ".venv"),
        ("pdm install", ".venv"),
        (".venv/bin/pip install -r requirements.txt", ".venv"),
        ("npm ci", None),
        ("pip install -e .", None),
        ("python3 -m venv /opt/venv", None),  # outside the worktree: not the repository's environment
        ("python3 -m venv ../up", None),
        ("python3 -m venv $VENV", None),
    ],
)
def test_venv_dir(setup: str, expected: str | None) -> None:
    assert venv_dir(Setup(run=setup)) == expected


def test_python_for_without_setup_is_the_host_python() -> None:
    assert venv_dir(None) is None
    assert python_for(None) == "python"
    assert python_for(Setup(run="python3 -m venv .venv")) == ".venv/bin/python"


def test_auto_suite_runs_in_the_setups_venv_not_the_host_python(tmp_path: Path) -> None:
    # The issue: a configured setup made `.venv`, yet the changed tests ran under `python -m pytest`
    # (the bot's own pytest first on the sandbox's PATH), which died on the repository's addopts.
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = '--cov=pkg'\n")
    config = _config("setup:\n  run: python3 -m venv .venv && .venv/bin/pip install -e '.[test]'\n  network: true\n")
    (suite,) = select_suites(config, _changes("src/pkg/lock.py", "tests/test_lock.py"), tmp_path)
    assert suite.run == (
        '.venv/bin/python -m pytest -q -p no:cacheprovider --junitxml="$REVIEWBOT_JUNIT" tests/test_lock.py'
    )


def test_unittest_in_a_venv_without_pytest(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_lock.py").write_text("import unittest\n")
    config = _config("setup:\n  run: python3 -m venv venv && venv/bin/pip install -e .\n")
    (suite,) = select_suites(config, _changes("tests/test_lock.py"), tmp_path)
    assert (suite.name, suite.run, suite.junit) == (
        "PR tests (unittest)",
        "venv/bin/python -m unittest -v tests/test_lock.py",
        None,
    )
    (tmp_path / "tests" / "conftest.py").write_text("")  # pytest's own file: the tests need pytest
    (suite,) = select_suites(config, _changes("tests/test_lock.py"), tmp_path)
    assert suite.run.startswith("venv/bin/python -m pytest ")


def test_node_runner_is_the_repositorys_own_copy(tmp_path: Path) -> None:
    _write_package(tmp_path, {"scripts": {"test": "jest"}, "devDependencies": {"jest": "^29"}})
    config = _config("setup:\n  run: npm ci\n  network: true\n")
    (suite,) = select_suites(config, _changes("src/lock.test.js"), tmp_path)
    assert suite.run == "node_modules/.bin/jest src/lock.test.js"


# -- configured suites cover the tests they name ---------------------------------------------

COVER_CASES = [
    # (suite run, suite paths, changed test file, covered)
    ("pytest tests/test_lock.py", [], "tests/test_lock.py", True),
    (".venv/bin/python -m pytest tests/test_lock.py -k stale", [], "tests/test_lock.py", True),
    ("python -m pytest tests/test_lock.py::test_stale", [], "tests/test_lock.py", True),
    ("python -m pytest tests/", [], "tests/test_lock.py", True),
    ("python -m pytest ./tests", [], "tests/unit/test_lock.py", True),
    ("python -m pytest .", [], "tests/test_lock.py", True),
    ("mocha --spec=test/lock.test.js", [], "test/lock.test.js", True),
    ("node --test 'test/**/*.test.mjs'", [], "test/deep/lock.test.mjs", True),
    ("node --test test/*.test.mjs", [], "test/deep/lock.test.mjs", False),
    ("python -m pytest tests/unit", [], "tests/unit2/test_lock.py", False),
    ("python -m pytest tests/unit/test_lock.py", [], "test_lock.py", False),
    ("python -m pytest", [], "tests/test_lock.py", False),  # what it collects depends on config
    ("npm test", [], "test/lock.test.js", False),  # a script name, not the test/ directory
    ("npm run test", [], "test/lock.test.js", False),
    ("make tests", [], "tests/test_lock.py", False),
    ("python -m pytest ../tests", [], "tests/test_lock.py", False),
    ("npm run lock", ["test/lock*"], "test/lock.test.js", True),
    ("npm run lock", ["src/**"], "test/lock.test.js", False),
]


@pytest.mark.parametrize(("run", "paths", "path", "expected"), COVER_CASES)
def test_configured_suite_covers(run: str, paths: list[str], path: str, expected: bool) -> None:
    assert covers(Suite(name="s", run=run, paths=paths), path) is expected


def test_configured_suite_naming_a_directory_gets_no_duplicate(tmp_path: Path) -> None:
    # The issue: a duplicate auto suite for files the configured suite already runs outvoted it.
    config = _config(
        "setup:\n  run: python3 -m venv .venv && .venv/bin/pip install -e .\n"
        "suites:\n  - {name: unit, run: .venv/bin/python -m pytest tests/, paths: [src/**]}\n"
    )
    suites = select_suites(config, _changes("src/pkg/lock.py", "tests/test_lock.py"), tmp_path)
    assert _names(suites) == ["unit"]


def test_suite_naming_a_changed_test_runs_even_when_its_paths_miss(tmp_path: Path) -> None:
    config = _config("suites:\n  - {name: lock, run: pytest tests/test_lock.py::test_stale, paths: [src/lock/**]}\n")
    suites = select_suites(config, _changes("tests/test_lock.py"), tmp_path)
    assert _names(suites) == ["lock"]
