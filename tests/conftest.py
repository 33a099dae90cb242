"""Fixtures every test folder shares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import KINDS, database

MODEL_SWITCHES = ("OPENAI_BASE_URL", "REVIEWBOT_MODEL", "REVIEWBOT_MODEL_BASE_URL")


@pytest.fixture(autouse=True)
def no_model_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's OPENAI_BASE_URL must not turn the model on in tests that expect the rule-based review."""
    for name in MODEL_SWITCHES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def registries_allowed_for_network_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests marked `network` install for real: allow the registries' addresses as this network's operator would."""
    import os

    if request.node.get_closest_marker("network") is None or os.environ.get("REVIEWBOT_SETUP_ALLOW"):
        return
    from tests.registries import non_public_registry_ranges

    try:
        ranges = non_public_registry_ranges()
    except OSError as exc:
        pytest.skip(f"this host cannot resolve the package registries: {exc}")
    monkeypatch.setenv("REVIEWBOT_SETUP_ALLOW", ",".join(ranges))


@pytest.fixture(params=KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The service's database, once on SQLite and once on PostgreSQL."""
    with database(request.param, tmp_path) as url:
        yield url
