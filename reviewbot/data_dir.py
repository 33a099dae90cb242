"""The data directory (REVIEWBOT_DATA_DIR): mirrors, worktrees, caches, logs and the database.

It holds other people's private code and the logs of their runs, and its setup
cache is reused by later reviews: no other local user may read it, or plant
anything in it. Made 0700 when created and chmodded back to 0700 at every
start, whatever umask or an earlier version left.
"""

from __future__ import annotations

import os
from pathlib import Path

MODE = 0o700


def prepare_data_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it 0700; returns it."""
    path.mkdir(mode=MODE, parents=True, exist_ok=True)
    os.chmod(path, MODE)
    return path
