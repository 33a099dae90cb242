"""Zero config: the setup inferred from a tree's manifests, and its YAML round trip."""

from __future__ import annotations

import json
from textwrap import dedent

import pytest

from reviewbot.proof.inference import config_yaml, infer_config, uses_pytest
from reviewbot.repo_config import RepoConfig, Setup, parse_config


def _reader(files: dict[str, str]):
    def read(path: str) -> bytes | None:
        text = files.get(path)
        return None if text is None else text.encode()

    return read


def _d(text: str) -> str:
    return dedent(text).lstrip("\n")


PYPROJECT_TEST_EXTRA = _d(
    """
    [build-system]
    requires = ["setuptools>=61"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "pkg"
    version = "1.0"
    dependencies = ["filelock"]

    [project.optional-dependencies]
    test = ["pytest", "pytest-cov"]
    docs = ["sphinx"]

    [tool.pytest.ini_options]
    addopts = "--cov=pkg"
    """
)
VENV = "python3 -m venv .venv && "

PYTHON_CASES = [
    # (id, files, changed tests, expected setup command or None)
    (
        "pyproject-test-extra",
        {"pyproject.toml": PYPROJECT_TEST_EXTRA},
        [],
        VENV + ".venv/bin/pip install -e '.[test]' pytest",
    ),
    (
        "pyproject-several-extras",
        {"pyproject.toml": PYPROJECT_TEST_EXTRA.replace("docs =", "dev = ['ruff']\ntesting = ['hypothesis']\ndocs =")},
        [],
        VENV + ".venv/bin/pip install -e '.[test,testing,dev]' pytest",
    ),
    (
        "pyproject-no-extras-unittest",
        {"pyproject.toml": "[build-system]\nrequires = ['hatchling']\n[project]\nname = 'p'\nversion = '1'\n"},
        [],
        VENV + ".venv/bin/pip install -e .",
    ),
    (
        "pyproject-deps-pytest-by-import",
        {
            "pyproject.toml": "[project]\nname = 'p'\nversion = '1'\ndependencies = ['attrs']\n",
            "tests/test_a.py": "import pytest\n",
        },
        ["tests/test_a.py"],
        VENV + ".venv/bin/pip install -e . pytest",
    ),
    ("pyproject-nothing-declared", {"pyproject.toml": "[project]\nname = 'p'\nversion = '1'\n"}, [], None),
    ("pyproject-tools-only", {"pyproject.toml": "[tool.black]\nline-length = 100\n"}, [], None),
    (
        "setup-py-extras",
        {"setup.py": "from setuptools import setup\nsetup(name='p', extras_require={'tests': ['pytest']})\n"},
        [],
        VENV + ".venv/bin/pip install -e '.[tests]' pytest",
    ),
    (
        "setup-cfg-extras-and-tool-pytest",
        {
            "setup.cfg": "[metadata]\nname = p\n[options]\ninstall_requires = attrs\n"
            "[options.extras_require]\ntesting = pytest-mock\n[tool:pytest]\ntestpaths = tests\n"
        },
        [],
        VENV + ".venv/bin/pip install -e '.[testing]' pytest",
    ),
    (
        "requirements-only-script-repo",
        {"requirements.txt": "requests\n", "requirements-dev.txt": "pytest\n"},
        [],
        VENV + ".venv/bin/pip install -r requirements.txt -r requirements-dev.txt pytest",
    ),
    (
        "requirements-unittest",
        {"requirements.txt": "requests\n"},
        [],
        VENV + ".venv/bin/pip install -r requirements.txt",
    ),
    (
        "requirements-dir",
        {"requirements/test.txt": "pytest\n", "requirements/base.txt": "attrs\n"},
        [],
        VENV + ".venv/bin/pip install -r requirements/base.txt -r requirements/test.txt pytest",
    ),
    (
        "package-plus-test-requirements",
        {
            "setup.py": "from setuptools import setup\nsetup()\n",
            "requirements.txt": "attrs==1\n",
            "test-requirements.txt": "pytest\n",
        },
        [],
        VENV + ".venv/bin/pip install -e . -r test-requirements.txt pytest",
    ),
    (
        "pytest-ini-without-deps-declared",
        {"pytest.ini": "[pytest]\n", "requirements.txt": "attrs\n"},
        [],
        VENV + ".venv/bin/pip install -r requirements.txt pytest",
    ),
    (
        "tox-ini-pytest",
        {"tox.ini": "[pytest]\naddopts = -ra\n", "requirements.txt": "attrs\n"},
        [],
        VENV + ".venv/bin/pip install -r requirements.txt pytest",
    ),
    (
        "conftest-beside-changed-test",
        {"pkg/tests/conftest.py": "", "requirements.txt": "attrs\n"},
        ["pkg/tests/test_a.py"],
        VENV + ".venv/bin/pip install -r requirements.txt pytest",
    ),
    (
        "dependency-groups",
        {
            "pyproject.toml": "[project]\nname = 'p'\nversion = '1'\n[dependency-groups]\ntest = ['pytest>=8', "
            "{include-group = 'lint'}]\nlint = ['ruff']\n"
        },
        [],
        VENV + ".venv/bin/pip install -e . 'pytest>=8'",
    ),
    (
        "poetry-dev-group",
        {
            "pyproject.toml": "[build-system]\nrequires = ['poetry-core']\n[tool.poetry]\nname = 'p'\n"
            "[tool.poetry.group.dev.dependencies]\npython = '^3.9'\npytest = '^8'\n"
        },
        [],
        VENV + ".venv/bin/pip install -e . pytest",
    ),
    (
        "version-from-git",
        {
            "pyproject.toml": "[build-system]\nrequires = ['hatchling', 'hatch-vcs']\n[project]\nname = 'p'\n"
            "dynamic = ['version']\n[project.optional-dependencies]\ntest = ['pytest']\n"
        },
        [],
        VENV + ".venv/bin/pip install -e '.[test]' pytest",
    ),
    ("broken-pyproject", {"pyproject.toml": "[project\nname = 'p'\n"}, [], None),
]


@pytest.mark.parametrize(("files", "tests", "expected"), [pytest.param(*case[1:], id=case[0]) for case in PYTHON_CASES])
def test_python_inference(files: dict[str, str], tests: list[str], expected: str | None) -> None:
    inferred = infer_config(_reader(files), tests)
    if expected is None:
        assert inferred is None
        return
    assert inferred is not None and inferred.config.setup is not None
    assert inferred.config.setup.run == expected
    assert inferred.config.setup.network is True
    assert inferred.config.suites == [] and inferred.config.changed_tests == "auto"
    assert inferred.reasons


def _package(deps: dict | None = None, **extra: object) -> str:
    data: dict = {"name": "p", "version": "1.0.0", **extra}
    if deps is not None:
        data["devDependencies"] = deps
    return json.dumps(data)


NODE_CASES = [
    ("npm-lockfile", {"package.json": _package({"jest": "^29"}), "package-lock.json": "{}"}, "npm ci"),
    ("npm-shrinkwrap", {"package.json": _package({"mocha": "^10"}), "npm-shrinkwrap.json": "{}"}, "npm ci"),
    (
        "pnpm",
        {"package.json": _package({"vitest": "^1"}), "pnpm-lock.yaml": "lockfileVersion: '9.0'\n"},
        "corepack pnpm install --frozen-lockfile",
    ),
    (
        "yarn-classic",
        {"package.json": _package({"tap": "^18"}), "yarn.lock": "# yarn lockfile v1\n"},
        "corepack yarn install --frozen-lockfile",
    ),
    (
        "yarn-berry",
        {"package.json": _package({"jest": "^29"}), "yarn.lock": "__metadata:\n  version: 8\n"},
        "corepack yarn install --immutable",
    ),
    ("no-lockfile", {"package.json": _package({"jest": "^29"})}, "npm install"),
    (
        "no-lockfile-pnpm-declared",
        {"package.json": _package({"jest": "^29"}, packageManager="pnpm@9.1.0")},
        "corepack pnpm install",
    ),
    ("runtime-deps-only", {"package.json": json.dumps({"dependencies": {"proper-lockfile": "^4"}})}, "npm install"),
    ("no-deps-node-test", {"package.json": _package(None, scripts={"test": "node --test"})}, None),
    ("broken-package-json", {"package.json": "{oops"}, None),
]


@pytest.mark.parametrize(("files", "expected"), [pytest.param(*case[1:], id=case[0]) for case in NODE_CASES])
def test_node_inference(files: dict[str, str], expected: str | None) -> None:
    inferred = infer_config(_reader(files))
    if expected is None:
        assert inferred is None
        return
    assert inferred is not None and inferred.config.setup == Setup(run=expected, network=True)
    assert "--ignore-scripts" not in expected  # a postinstall build may be what the tests load
    assert "npx" not in expected


def test_mixed_repository_gets_both_installs() -> None:
    files = {"pyproject.toml": PYPROJECT_TEST_EXTRA, "package.json": _package({"jest": "1"}), "package-lock.json": "{}"}
    inferred = infer_config(_reader(files))
    assert inferred is not None and inferred.config.setup is not None
    assert inferred.config.setup.run == VENV + ".venv/bin/pip install -e '.[test]' pytest && npm ci"


def test_nothing_to_install_infers_nothing() -> None:
    assert infer_config(_reader({})) is None
    assert infer_config(_reader({"README.md": "hi", "tests/test_a.py": "import pytest\n"}), ["tests/test_a.py"]) is None


@pytest.mark.parametrize(
    ("files", "tests", "expected"),
    [
        ({"pytest.ini": ""}, [], True),
        ({"pyproject.toml": "[tool.pytest.ini_options]\n"}, [], True),
        ({"setup.cfg": "[tool:pytest]\n"}, [], True),
        ({"tox.ini": "[pytest]\n"}, [], True),
        ({"tox.ini": "[tox]\nenvlist = py3\n"}, [], False),
        ({"conftest.py": ""}, [], True),
        ({"test/conftest.py": ""}, [], True),
        ({"a/b/conftest.py": ""}, ["a/b/c/test_x.py"], True),
        ({"requirements-dev.txt": "pytest-cov\n"}, [], False),  # a plugin's name is not pytest
        ({"requirements-dev.txt": "pytest>=8\n"}, [], True),
        ({"pyproject.toml": "[project]\noptional-dependencies = {test = ['PyTest']}\n"}, [], True),
        ({"tests/test_a.py": "from pytest import raises\n"}, ["tests/test_a.py"], True),
        ({"tests/test_a.py": "import unittest\n# pytest would also run this\n"}, ["tests/test_a.py"], False),
        ({}, [], False),
    ],
)
def test_uses_pytest(files: dict[str, str], tests: list[str], expected: bool) -> None:
    assert uses_pytest(_reader(files), tests) is expected


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in PYTHON_CASES + NODE_CASES if c[-1]])
def test_inferred_config_round_trips_through_the_file_parser(case: tuple) -> None:
    files = case[1]
    tests = case[2] if len(case) == 4 else []
    inferred = infer_config(_reader(files), tests)
    assert inferred is not None
    text = config_yaml(inferred.config)
    assert parse_config(text) == inferred.config
    assert "changed_tests: auto" in text


def test_config_yaml_is_short_and_quotes_what_yaml_would_misread() -> None:
    config = RepoConfig(
        setup=Setup(run="python3 -m venv .venv && .venv/bin/pip install -e '.[test]': x # y", network=True)
    )
    text = config_yaml(config)
    assert text.splitlines()[0] == "setup:"
    assert "automerge" not in text and "suites" not in text  # defaults left out
    assert parse_config(text) == config
