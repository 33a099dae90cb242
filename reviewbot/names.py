"""Names the bot shares with GitHub and with people: one definition each.

GitHub's own naming rules (so a name is safe in URLs, paths and columns), the
check run's name, the labels the bot manages, the hidden comment markers' tags
and the commit identity a GitHub login gets.
"""

from __future__ import annotations

import re

_FULL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,59}/[A-Za-z0-9_.-]{1,100}")


def valid_full_name(name: str) -> bool:
    """Whether `owner/name` follows GitHub's naming rules (so it is safe in URLs, paths and columns)."""
    return bool(_FULL_NAME.fullmatch(name)) and name.split("/", 1)[1] not in (".", "..")
