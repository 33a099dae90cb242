"""Waiting for a condition in a test: poll it against a deadline, and fail saying what never happened.

A fixed `sleep` as synchronisation is either too short on a loaded machine (a flaky test) or
too long everywhere else (a slow one); a deadline only bounds a wait that normally ends at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], what: str, timeout: float = 30.0, interval: float = 0.01) -> T:
    """Call `condition` until it returns something truthy, and return that; after `timeout` seconds,
    fail with `what` (the thing that should have happened)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting until {what}")
        time.sleep(interval)
