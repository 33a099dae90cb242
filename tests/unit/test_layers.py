"""The dependency direction in DESIGN.md, checked on the imports themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "reviewbot"
REVIEW_MAY_IMPORT = ("reviewbot.model", "reviewbot.redact", "reviewbot.repo_config", "reviewbot.review", "reviewbot.stats")


def reviewbot_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reviewbot"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("reviewbot"))
    return names


@pytest.mark.parametrize("path", sorted((PACKAGE / "review").glob("*.py")), ids=lambda p: p.name)
def test_review_is_pure(path: Path) -> None:
    outside = {name for name in reviewbot_imports(path) if not name.startswith(REVIEW_MAY_IMPORT)}
    assert outside == set()


@pytest.mark.parametrize("path", sorted((PACKAGE / "proof").glob("*.py")), ids=lambda p: p.name)
def test_proof_never_imports_the_github_edge_or_the_bot(path: Path) -> None:
    assert not {n for n in reviewbot_imports(path) if n.startswith(("reviewbot.github", "reviewbot.bot"))}


@pytest.mark.parametrize("path", sorted((PACKAGE / "github").glob("*.py")), ids=lambda p: p.name)
def test_the_github_edge_imports_nothing_above_it(path: Path) -> None:
    above = ("reviewbot.bot", "reviewbot.service", "reviewbot.proof", "reviewbot.review")
    assert not {n for n in reviewbot_imports(path) if n.startswith(above)}


@pytest.mark.parametrize("path", sorted((PACKAGE / "llm").glob("*.py")), ids=lambda p: p.name)
def test_the_model_adapter_imports_only_the_pure_core(path: Path) -> None:
    """`llm` is I/O toward a model server only: it reads the review core, never GitHub, the sandbox or the bot."""
    above = ("reviewbot.bot", "reviewbot.service", "reviewbot.proof", "reviewbot.github", "reviewbot.cli")
    assert not {n for n in reviewbot_imports(path) if n.startswith(above)}


@pytest.mark.parametrize("layer", ["review", "proof", "github"])
def test_only_the_bot_and_the_service_use_the_model_adapter(layer: str) -> None:
    for path in sorted((PACKAGE / layer).glob("*.py")):
        assert not {n for n in reviewbot_imports(path) if n.startswith("reviewbot.llm")}, path.name
