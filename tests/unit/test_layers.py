"""The package layers (pyproject's import-linter contracts), checked on the imports themselves."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).parents[2]


def test_the_import_contracts_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    loggers = logging.root.manager.loggerDict
    enabled = [logger for logger in loggers.values() if isinstance(logger, logging.Logger) and not logger.disabled]
    try:
        assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0
    finally:  # import-linter configures logging with `disable_existing_loggers`: later tests log again
        for logger in enabled:
            logger.disabled = False
