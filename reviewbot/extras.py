"""Optional features and the extras that install them: a missing one is said, with the command to add it.

`openai` (the model review) and `psycopg` (PostgreSQL) are extras, not dependencies:
the rule-based review on SQLite needs neither. Code that uses one imports it through
`require` when the feature is switched on, so a configured feature never fails later
with a bare ModuleNotFoundError, and an unconfigured one never imports it.
Imports nothing from reviewbot, so every layer may use it.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtra(ImportError):
    """A feature is switched on but its extra is not installed; the message says what to install."""


def install_hint(extra: str) -> str:
    return f"pip install 'reviewbot[{extra}]'"


def require(module: str, extra: str, feature: str) -> ModuleType:
    """`module`, imported; MissingExtra naming the extra when it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(
            f"{feature} needs the `{module}` package, which is not installed: {install_hint(extra)}", name=module
        ) from exc
