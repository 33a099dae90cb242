"""Concurrent sandbox runs never share a host uid (and so never share an RLIMIT_NPROC budget)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.proof.sandbox import SandboxUnavailable, UidPool


def test_concurrent_leases_get_distinct_uids_and_are_reused(tmp_path: Path) -> None:
    pool = UidPool(tmp_path, first=70000, last=70003)
    other = UidPool(tmp_path, first=70000, last=70003)  # another process or thread, same lock dir
    with pool.lease() as a, other.lease() as b, pool.lease() as c:
        assert len({a, b, c}) == 3
        with pytest.raises(SandboxUnavailable, match="every sandbox uid is in use"), other.lease():
            pass
    with pool.lease() as again:
        assert 70000 <= again < 70003
