"""Per-run disk quotas: mounted over a proof's run folder, always taken down, and recovered after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.proof import disk_quota
from reviewbot.proof.disk_quota import capped_dir, image_for
from reviewbot.proof.engine import ProofEngine, ProofRequest
from reviewbot.proof.sandbox import Limits
from reviewbot.samples.repos import BASE_BRANCH, RepoWriter

pytestmark = pytest.mark.sandbox


@pytest.fixture(autouse=True)
def needs_root() -> None:
    if disk_quota.unsupported_reason():
        pytest.fail(f"these tests need a host that caps folders: {disk_quota.unsupported_reason()}")


def test_the_filesystem_is_taken_down_even_when_the_run_raises(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(RuntimeError), capped_dir(folder, 32 * 1024**2, 2000) as quota:
        assert quota.enforced and os.path.ismount(folder) and image_for(folder).exists()
        assert os.statvfs(folder).f_files < 4096  # the inode cap holds
        (folder / "x").write_text("inside")
        raise RuntimeError("the proof broke")
    assert not os.path.ismount(folder) and not image_for(folder).exists()
    assert list(folder.iterdir()) == []  # what the run wrote went with its filesystem


def test_without_root_the_plain_folder_is_used_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with capped_dir(tmp_path, 32 * 1024**2, 2000) as quota:
        assert not quota.enforced and "root" in quota.why_not and not os.path.ismount(tmp_path)


def test_a_killed_workers_mount_is_removed_by_recover(tmp_path: Path) -> None:
    data = tmp_path / "data"
    engine = ProofEngine(data)  # makes data/runs
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys, time, uuid\n"
            "from pathlib import Path\n"
            "from reviewbot.proof.disk_quota import capped_dir\n"
            f"run = Path({str(engine.workspace.runs_dir)!r}) / f'abc-{{os.getpid()}}-{{uuid.uuid4().hex[:8]}}'\n"
            "run.mkdir()\n"
            "with capped_dir(run, 32 * 1024**2, 2000):\n"
            "    print(run, flush=True); time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    run = Path(worker.stdout.readline().strip())
    try:
        assert os.path.ismount(run)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert os.path.ismount(run)  # what a SIGKILL leaves behind
        engine.recover()
        assert not os.path.ismount(run) and not image_for(run).exists() and not run.exists()
    finally:
        worker.kill()
        disk_quota.release(run)  # a failing test leaves no mount behind


def test_a_proof_whose_suite_fills_its_disk_reports_the_disk_limit(tmp_path: Path) -> None:
    writer = RepoWriter(tmp_path / "repo")
    writer.write(
        {
            "README.md": "x\n",
            ".github/reviewbot.yml": "changed_tests: off\nsuites:\n  - name: fill\n    run: dd if=/dev/zero of=big bs=1M count=512\n",
        }
    )
    writer.commit("base")
    writer.branch("fill")
    writer.checkout("fill")
    writer.write({"src.txt": "change\n"})
    writer.commit("a change")
    engine = ProofEngine(tmp_path / "data", limits=Limits(disk_bytes=96 * 1024**2, disk_inodes=20_000))
    proof = engine.prove(ProofRequest(source=str(writer.root), base=BASE_BRANCH, head="fill"))
    runs = [run for pair in proof.suites for side in (pair.head, pair.base) for run in side.runs]
    assert runs and all(run.outcome.limit_hit == "disk" for run in runs), proof
    assert list((tmp_path / "data" / "runs").iterdir()) == []  # unmounted, image and folder gone
