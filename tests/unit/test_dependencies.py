"""Every distribution the package imports is declared, and the optional ones are imported only when used."""

from __future__ import annotations

import ast
import functools
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reviewbot.extras import MissingExtra, require

ROOT = Path(__file__).parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
REQUIRED = {canonicalize_name(Requirement(spec).name) for spec in PROJECT["dependencies"]}
EXTRAS = {
    extra: {canonicalize_name(Requirement(spec).name) for spec in specs}
    for extra, specs in PROJECT["optional-dependencies"].items()
    if extra != "test"
}


@functools.cache
def _imports() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(imported when the module loads, imported only inside a function or for type checking): top-level names."""
    eager: dict[str, set[str]] = {}
    lazy: dict[str, set[str]] = {}
    for path in sorted((ROOT / "reviewbot").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                if root in sys.stdlib_module_names or root == "reviewbot":
                    continue
                (eager if id(node) in top else lazy).setdefault(root, set()).add(str(path.relative_to(ROOT)))
    return eager, lazy


@functools.cache
def _installed() -> dict[str, list[str]]:
    return packages_distributions()


def _distributions(module: str) -> set[str]:
    return {canonicalize_name(name) for name in _installed().get(module, [module])}


def test_every_module_imported_at_load_is_a_declared_dependency() -> None:
    eager, _ = _imports()
    undeclared = {module: sorted(where) for module, where in eager.items() if not _distributions(module) & REQUIRED}
    assert undeclared == {}


def test_every_lazily_imported_module_is_a_dependency_or_an_extra() -> None:
    _, lazy = _imports()
    declared = REQUIRED.union(*EXTRAS.values())
    assert {module: sorted(where) for module, where in lazy.items() if not _distributions(module) & declared} == {}


def test_the_extras_stay_optional() -> None:
    """The model client and the database driver are extras: the rule-based review on SQLite needs neither."""
    assert {"model": {"httpx", "openai"}, "postgres": {"psycopg"}} == EXTRAS
    eager, _ = _imports()
    assert {"openai", "httpx", "psycopg"}.isdisjoint(eager)


def test_a_missing_extra_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)  # what an install without the extra has
    with pytest.raises(MissingExtra, match=r"pip install 'reviewbot\[model\]'"):
        require("openai", "model", "The model review")


def test_a_configured_model_without_its_extra_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot.llm.assist import ModelReviewer
    from reviewbot.settings import Settings

    monkeypatch.setitem(sys.modules, "openai", None)
    assert ModelReviewer.from_settings(Settings(model="")) is None  # not configured: openai is never imported
    with pytest.raises(MissingExtra, match=r"REVIEWBOT_MODEL.*pip install 'reviewbot\[model\]'"):
        ModelReviewer.from_settings(Settings(model="qwen"))


def test_a_postgresql_url_without_the_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot.store.db import make_engine

    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingExtra, match=r"pip install 'reviewbot\[postgres\]'"):
        make_engine("postgresql+psycopg://reviewbot@127.0.0.1:1/none")
