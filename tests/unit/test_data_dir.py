import stat
from pathlib import Path

from reviewbot.proof.engine import ProofEngine


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_dir_is_made_0700_and_a_looser_one_is_tightened_at_start(tmp_path: Path) -> None:
    fresh = tmp_path / "a" / "data"
    ProofEngine(fresh)
    assert mode(fresh) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    loose.chmod(0o777)  # as an older version, or a permissive umask, left it
    ProofEngine(loose)
    assert mode(loose) == 0o700
