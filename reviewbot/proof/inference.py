"""Zero config: a setup step inferred from the head tree's manifests.

A repository without `.github/reviewbot.yml` still has to run its tests in its
own environment: the bot's Python dies on a repository's pytest config
(`addopts = --cov=...` without pytest-cov) and an offline `npx` cannot fetch a
test runner. So the manifests name what to install, and the result is a plain
RepoConfig (the same schema as the file), shown in the review as a snippet the
maintainer can commit.

Pure: files in (through `read`, which returns None for a missing file), config
out. The runner commands themselves come from `selection`, which reads the same
setup to find the environment it made (`.venv/bin/python`, `node_modules/.bin`).
"""

from __future__ import annotations

import configparser
import json
import re
import shlex
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import yaml

from reviewbot.repo_config import RepoConfig, Setup

Reader = Callable[[str], "bytes | None"]

VENV = ".venv"
TEST_EXTRAS = ("test", "tests", "testing", "dev")
# Test/dev requirement files, installed on top of the package (or of requirements.txt).
DEV_REQUIREMENTS = (
    "requirements-dev.txt",
    "requirements_dev.txt",
    "dev-requirements.txt",
    "requirements-test.txt",
    "requirements_test.txt",
    "test-requirements.txt",
    "requirements-tests.txt",
    "requirements_tests.txt",
    "requirements-testing.txt",
    "requirements/dev.txt",
    "requirements/test.txt",
    "requirements/tests.txt",
    "requirements/testing.txt",
)
RUNTIME_REQUIREMENTS = ("requirements.txt", "requirements/base.txt", "requirements/main.txt")
# Build backends that take the version from git, which the sandboxed worktree cannot read.
PYTEST_IMPORT = re.compile(rb"^\s*(import pytest|from pytest\b|from _pytest\b)", re.MULTILINE)
SETUP_PY_EXTRA = re.compile(r"""["'](test|tests|testing|dev)["']\s*:""")
NODE_DEP_FIELDS = ("dependencies", "devDependencies", "optionalDependencies")


@dataclass
class Inferred:
    """The inferred config and, for the review, why each part was chosen."""

    config: RepoConfig
    reasons: list[str] = field(default_factory=list)


def infer_config(read: Reader, test_files: Iterable[str] = ()) -> Inferred | None:
    """A setup for each ecosystem the tree has, or None when there is nothing to install.

    `test_files` are the PR's changed test files: their directories are searched for
    a `conftest.py`, and their imports say whether they need pytest.
    """
    tests = list(test_files)
    parts: list[tuple[str, bool]] = []  # (command, needs network)
    reasons: list[str] = []
    python = _python_setup(read, tests, reasons)
    if python:
        parts.append(python)
    node = _node_setup(read, reasons)
    if node:
        parts.append(node)
    if not parts:
        return None
    setup = Setup(run=" && ".join(command for command, _ in parts), network=any(net for _, net in parts))
    return Inferred(RepoConfig(setup=setup), reasons)


def config_yaml(config: RepoConfig) -> str:
    """The config as `.github/reviewbot.yml` text: only what differs from the defaults, so it reads short."""
    data = config.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("changed_tests", config.changed_tests)  # say the part that makes the suites
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)


# -- Python --------------------------------------------------------------------------


def uses_pytest(read: Reader, test_files: Iterable[str] = ()) -> bool:
    """Whether the repository's tests need pytest; otherwise they are unittest tests.

    Evidence: pytest configured anywhere (pytest.ini, pyproject, setup.cfg, tox.ini),
    a conftest.py beside the tests, pytest among the dependencies, or a changed test
    file that imports it.
    """
    if read("pytest.ini") is not None or _has_section(read("tox.ini"), "pytest"):
        return True
    if _has_section(read("setup.cfg"), "tool:pytest"):
        return True
    pyproject = _toml(read("pyproject.toml"))
    if "pytest" in _dict(pyproject.get("tool")):
        return True
    tests = list(test_files)
    if any(read(path) is not None for path in _conftest_candidates(tests)):
        return True
    if any(_requirement_name(req) == "pytest" for req in _all_python_requirements(read, pyproject)):
        return True
    return any(PYTEST_IMPORT.search(read(path) or b"") for path in tests if path.endswith(".py"))


def _python_setup(read: Reader, tests: list[str], reasons: list[str]) -> tuple[str, bool] | None:
    pyproject_raw = read("pyproject.toml")
    pyproject = _toml(pyproject_raw)
    setup_py = read("setup.py")
    setup_cfg = _ini(read("setup.cfg"))
    project = _dict(pyproject.get("project"))
    is_package = bool(
        project
        or "build-system" in pyproject
        or "poetry" in _dict(pyproject.get("tool"))
        or setup_py is not None
        or setup_cfg.has_section("metadata")
        or setup_cfg.has_section("options")
    )
    extras = _test_extras(project, setup_cfg, setup_py)
    dev_files = [name for name in DEV_REQUIREMENTS if read(name) is not None]
    runtime_files = [] if is_package else [name for name in RUNTIME_REQUIREMENTS if read(name) is not None]
    groups = _group_requirements(pyproject)
    declares = bool(
        project.get("dependencies")
        or extras
        or dev_files
        or runtime_files
        or groups
        or "build-system" in pyproject
        or setup_py is not None
        or setup_cfg.has_option("options", "install_requires")
    )
    if not declares:
        return None  # nothing to install: the tests run with the host's Python, as before

    pytest_needed = uses_pytest(read, tests)
    args: list[str] = []
    if is_package:
        target = f".[{','.join(extras)}]" if extras else "."
        args += ["-e", target]
        reasons.append(f"Python package: editable install of {target}" + (" (test extras)" if extras else ""))
    for name in runtime_files + dev_files:
        args += ["-r", name]
        reasons.append(f"Python requirements: {name}")
    args += groups
    if pytest_needed and not any(_requirement_name(arg) == "pytest" for arg in groups):
        args.append("pytest")  # also when an extra names it: pip installs it once
    reasons.append("Python tests run with " + ("pytest" if pytest_needed else "unittest") + f" from {VENV}/bin/python")
    command = f"python3 -m venv {VENV}"  # a version from git: the engine sets it for every run (scm_version.py)
    if args:
        command += f" && {VENV}/bin/pip install " + " ".join(shlex.quote(arg) for arg in args)
    return command, bool(args)


def _test_extras(project: dict, setup_cfg: configparser.ConfigParser, setup_py: bytes | None) -> list[str]:
    names: set[str] = set(_dict(project.get("optional-dependencies")))
    if setup_cfg.has_section("options.extras_require"):
        names |= set(setup_cfg.options("options.extras_require"))
    if setup_py is not None and b"extras_require" in setup_py:
        names |= {match.group(1) for match in SETUP_PY_EXTRA.finditer(setup_py.decode("utf-8", "replace"))}
    return [name for name in TEST_EXTRAS if name in names]


def _group_requirements(pyproject: dict) -> list[str]:
    """Test/dev dependencies pip cannot install as extras: PEP 735 groups and Poetry groups, by name."""
    found: list[str] = []
    groups = _dict(pyproject.get("dependency-groups"))
    poetry = _dict(_dict(pyproject.get("tool")).get("poetry"))
    poetry_groups = _dict(poetry.get("group"))
    for name in TEST_EXTRAS:
        found += [req for req in groups.get(name, []) if isinstance(req, str)]
        found += [dep for dep in _dict(_dict(poetry_groups.get(name)).get("dependencies")) if dep != "python"]
    found += [dep for dep in _dict(poetry.get("dev-dependencies")) if dep != "python"]
    return list(dict.fromkeys(found))


def _all_python_requirements(read: Reader, pyproject: dict) -> list[str]:
    project = _dict(pyproject.get("project"))
    reqs = [req for req in project.get("dependencies", []) if isinstance(req, str)]
    for extra in _dict(project.get("optional-dependencies")).values():
        reqs += [req for req in extra if isinstance(req, str)] if isinstance(extra, list) else []
    reqs += _group_requirements(pyproject)
    for name in DEV_REQUIREMENTS + RUNTIME_REQUIREMENTS:
        raw = read(name)
        if raw is not None:
            reqs += [line.strip() for line in raw.decode("utf-8", "replace").splitlines()]
    setup_cfg = _ini(read("setup.cfg"))
    if setup_cfg.has_section("options.extras_require"):
        for option in setup_cfg.options("options.extras_require"):
            reqs += setup_cfg.get("options.extras_require", option).splitlines()
    setup_py = read("setup.py")
    if setup_py is not None and re.search(rb"""["']pytest\b""", setup_py):
        reqs.append("pytest")
    return reqs


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match.group(1).lower().replace("_", "-") if match else ""


def _conftest_candidates(tests: list[str]) -> list[str]:
    dirs = {"", "tests", "test"}
    for path in tests:
        for parent in PurePosixPath(path).parents:
            dirs.add("" if str(parent) == "." else str(parent))
    return sorted(f"{d}/conftest.py" if d else "conftest.py" for d in dirs)


# -- Node ----------------------------------------------------------------------------


def _node_setup(read: Reader, reasons: list[str]) -> tuple[str, bool] | None:
    raw = read("package.json")
    if raw is None:
        return None
    try:
        package = json.loads(raw)
    except ValueError:
        package = {}
    package = _dict(package)
    has_deps = any(_dict(package.get(name)) for name in NODE_DEP_FIELDS)
    manager = str(package.get("packageManager", "")).split("@", 1)[0]
    if read("pnpm-lock.yaml") is not None:
        command, why = "corepack pnpm install --frozen-lockfile", "pnpm-lock.yaml"
    elif read("yarn.lock") is not None:
        berry = b"__metadata:" in (read("yarn.lock") or b"")
        command = "corepack yarn install " + ("--immutable" if berry else "--frozen-lockfile")
        why = "yarn.lock"
    elif read("package-lock.json") is not None or read("npm-shrinkwrap.json") is not None:
        command, why = "npm ci", "package-lock.json" if read("package-lock.json") is not None else "npm-shrinkwrap.json"
    elif has_deps:
        command = f"corepack {manager} install" if manager in ("pnpm", "yarn") else "npm install"
        why = "package.json without a lockfile"
    else:
        return None  # no dependencies: node runs the tests as they are
    # Install scripts stay on: a package's own postinstall build is often what its tests load,
    # and they run inside the sandbox like everything else.
    reasons.append(f"Node: {command} ({why}); test runners from node_modules/.bin")
    return command, True


# -- parsing helpers -------------------------------------------------------------------


def _toml(raw: bytes | None) -> dict:
    if raw is None:
        return {}
    try:
        return tomllib.loads(raw.decode("utf-8", "replace"))
    except tomllib.TOMLDecodeError:
        return {}


def _ini(raw: bytes | None) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    if raw is not None:
        try:
            parser.read_string(raw.decode("utf-8", "replace"))
        except configparser.Error:
            return configparser.ConfigParser(interpolation=None)
    return parser


def _has_section(raw: bytes | None, section: str) -> bool:
    return raw is not None and _ini(raw).has_section(section)


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}
