"""The setup step: runs in the sandbox, is cached by the lockfile hash, shares one install."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from reviewbot.model import RunStatus, Verdict
from reviewbot.proof.engine import ProofEngine, ProofRequest
from reviewbot.samples.repos import RepoWriter
from reviewbot.proof.egress import EgressPolicy, SetupNetwork
from reviewbot.proof.sandbox import Sandbox
from tests.hostile import LoopbackHTTP

pytestmark = pytest.mark.sandbox

TEST = dedent('''
    from pathlib import Path


    def test_setup_output_is_there():
        assert Path("vendor/lock").read_text().strip() == "dep==1"
        assert Path("vendor/stamp").read_text().strip()
''')


def build(root: Path, setup: str, deps: str = "dep==1\n") -> Path:
    writer = RepoWriter(root)
    writer.write({
        "deps.lock": deps,
        "lockfile.py": "X = 1\n",
        "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
        ".github/reviewbot.yml": setup,
    })
    writer.commit("base")
    writer.branch("fix")
    writer.write({"lockfile.py": "X = 2\n", "tests/test_setup.py": TEST})
    writer.commit("fix")
    writer.checkout("main")
    return root


CACHED = dedent('''
    setup:
      run: mkdir -p vendor && cat /proc/sys/kernel/random/uuid > vendor/stamp && cp deps.lock vendor/lock
      cache: [vendor]
      cache_key: [deps.lock]
''')


def test_setup_runs_once_and_is_shared_by_head_and_base(tmp_path: Path) -> None:
    repo = build(tmp_path / "repo", CACHED)
    messages: list[str] = []
    engine = ProofEngine(tmp_path / "data", progress=messages.append)
    proof = engine.prove(ProofRequest(source=str(repo), base="main", head="fix"))
    assert proof.verdict == Verdict.WEAK, proof.reason  # the test passes on both: setup worked on both
    setup_notes = [n for n in proof.notes if n.startswith("Setup")]
    assert sorted(n.split(": ")[1].split(" (")[0] for n in setup_notes) == ["ran", "restored from cache"]
    entries = [p for p in (tmp_path / "data" / "setup-cache").iterdir() if p.is_dir()]
    assert len(entries) == 1
    stamp = (entries[0] / "vendor" / "stamp").read_text()

    again = engine.prove(ProofRequest(source=str(repo), base="main", head="fix"))
    assert all("restored from cache" in n for n in again.notes if n.startswith("Setup"))
    assert (entries[0] / "vendor" / "stamp").read_text() == stamp


def test_changed_lockfile_gets_a_new_cache_entry(tmp_path: Path) -> None:
    engine = ProofEngine(tmp_path / "data")
    engine.prove(ProofRequest(source=str(build(tmp_path / "a", CACHED)), base="main", head="fix"))
    engine.prove(ProofRequest(source=str(build(tmp_path / "b", CACHED, deps="dep==2\n")), base="main", head="fix"))
    entries = [p for p in (tmp_path / "data" / "setup-cache").iterdir() if p.is_dir()]
    assert len(entries) == 2


@pytest.mark.parametrize("network", [False, True])
def test_setup_has_network_only_when_configured(tmp_path: Path, network: bool) -> None:
    """With `network: true` the setup reaches out through the bot's proxy (here to a host service the
    operator allowed); without it there is no way out at all."""
    with LoopbackHTTP() as server:
        setup = dedent(f'''
            setup:
              run: >-
                python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{server.port}/dep', timeout=5)"
                && mkdir -p vendor && echo x > vendor/stamp && cp deps.lock vendor/lock
              network: {str(network).lower()}
        ''')
        allowed = SetupNetwork(policy=EgressPolicy.parse(["127.0.0.1/32"]))
        sandbox = Sandbox(tmp_path / "state", setup_network=allowed)
        proof = ProofEngine(tmp_path / "data", sandbox=sandbox).prove(
            ProofRequest(source=str(build(tmp_path / "repo", setup)), base="main", head="fix"))
    if network:
        assert proof.verdict == Verdict.WEAK, proof.reason
        assert server.paths == ["/dep", "/dep"]  # head and base each installed, through the proxy
    else:
        assert proof.verdict == Verdict.ERROR
        assert server.paths == []
        head = proof.suites[0].head
        assert head is not None and head.status == RunStatus.ERROR
        assert "setup step" in head.runs[0].outcome.log_tail
        assert "Could not run" in proof.reason
