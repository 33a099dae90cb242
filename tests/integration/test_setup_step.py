"""The setup step: fresh on each side, in the sandbox; only trusted runs fill the shared download cache."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from textwrap import dedent

import pytest

from reviewbot.model import RunProblem, RunStatus, Verdict
from reviewbot.proof.egress import EgressPolicy, SetupNetwork
from reviewbot.proof.engine import ProofEngine, ProofRequest
from reviewbot.proof.sandbox import Sandbox
from reviewbot.proof.setup_step import LAST_USED, DownloadCaches
from reviewbot.samples.repos import RepoWriter
from tests.hostile import LoopbackHTTP

pytestmark = pytest.mark.sandbox

TEST = dedent("""
    from pathlib import Path


    def test_setup_output_is_there():
        assert Path("vendor/lock").read_text().strip() == "dep==1"
        assert Path("vendor/stamp").read_text().strip()
""")


def build(root: Path, setup: str, deps: str = "dep==1\n") -> Path:
    writer = RepoWriter(root)
    writer.write(
        {
            "deps.lock": deps,
            "lockfile.py": "X = 1\n",
            "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
            ".github/reviewbot.yml": setup,
        }
    )
    writer.commit("base")
    writer.branch("fix")
    writer.write({"lockfile.py": "X = 2\n", "tests/test_setup.py": TEST})
    writer.commit("fix")
    writer.checkout("main")
    return root


FRESH = dedent("""
    setup:
      run: mkdir -p vendor && cp deps.lock vendor/lock && cat /proc/sys/kernel/random/uuid > vendor/stamp
""")


def test_each_side_runs_its_own_setup(tmp_path: Path) -> None:
    repo = build(tmp_path / "repo", FRESH)
    engine = ProofEngine(tmp_path / "data")
    proof = engine.prove(ProofRequest(source=str(repo), base="main", head="fix"))
    assert proof.verdict == Verdict.WEAK, proof.reason  # the test passes on both: setup worked on both
    setup_notes = sorted(n for n in proof.notes if n.startswith("Setup"))
    assert [n.split(": ")[1].split(" in ")[0] for n in setup_notes] == ["ran", "ran"]
    assert "fills the download cache" in setup_notes[0] and "on base" in setup_notes[0]


GENERATES_SOURCE = dedent("""
    setup:
      run: >-
        mkdir -p env && echo "installed" > env/marker
        && printf 'VERSION = "%s"\\n' "$SETUPTOOLS_SCM_PRETEND_VERSION" > lockfile_version.py
        && echo ready > "$HOME/.configured"
      cache: [env]
""")

USES_GENERATED = dedent("""
    import os
    from pathlib import Path

    import lockfile
    from lockfile_version import VERSION


    def test_the_fix():
        assert Path("env/marker").read_text().strip() == "installed"
        assert Path(os.environ["HOME"], ".configured").read_text().strip() == "ready"
        assert VERSION.startswith("1.4.")
        assert lockfile.X == 2
""")


def test_setup_output_in_the_source_tree_and_home_is_there_on_both_sides_cold_and_warm(tmp_path: Path) -> None:
    """An install that writes a generated module into the tree (as editable installs do) and into $HOME.

    With installed trees cached, head got base's `env/` but not the generated
    module and failed at import: a correct fix reported as failing.
    """
    writer = RepoWriter(tmp_path / "repo")
    writer.write(
        {
            "lockfile.py": "X = 1\n",
            "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
            ".github/reviewbot.yml": GENERATES_SOURCE,
        }
    )
    writer.commit("base")
    writer.repo.git.tag("v1.4.0")
    writer.branch("fix")
    writer.write({"lockfile.py": "X = 2\n", "tests/test_fix.py": USES_GENERATED})
    writer.commit("fix")
    writer.checkout("main")
    engine = ProofEngine(tmp_path / "data")
    for attempt in ("cold", "warm"):
        proof = engine.prove(ProofRequest(source=str(writer.root), base="main", head="fix"))
        assert proof.verdict == Verdict.PROVEN, (attempt, proof.reason, proof.suites[0].head)
        base = proof.suites[0].base
        assert base is not None and "assert 1 == 2" in base.runs[0].outcome.log_tail  # a real test failure
    assert any("no longer used" in note for note in proof.notes)


CACHE_WITNESS = dedent("""
    setup:
      run: >-
        mkdir -p "$PIP_CACHE_DIR" && ls "$PIP_CACHE_DIR" > seen.txt
        && cp input.txt "$PIP_CACHE_DIR/from-$(cat input.txt)"
""")

SEES_NO_POISON = dedent("""
    from pathlib import Path


    def test_cache_is_clean():
        assert "poison" not in Path("seen.txt").read_text()
""")


def cache_repo(root: Path) -> RepoWriter:
    writer = RepoWriter(root)
    writer.write(
        {
            "input.txt": "base",
            "lockfile.py": "X = 1\n",
            ".github/reviewbot.yml": CACHE_WITNESS,
            "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
        }
    )
    writer.commit("base")
    writer.branch("attacker")  # PR A: changes a file its install reads, to plant something in the cache
    writer.write({"input.txt": "poison", "tests/test_a.py": SEES_NO_POISON})
    writer.commit("plant")
    writer.checkout("main")
    writer.branch("innocent")  # PR B, reviewed after A
    writer.write({"lockfile.py": "X = 2\n", "tests/test_b.py": SEES_NO_POISON})
    writer.commit("fix")
    writer.checkout("main")
    return writer


def test_a_prs_setup_never_reaches_another_prs_review_or_the_shared_cache(tmp_path: Path) -> None:
    """Cache poisoning: PR A's install writes into the download cache; PR B and base never see it."""
    writer = cache_repo(tmp_path / "repo")
    engine = ProofEngine(tmp_path / "data")
    engine.prove(ProofRequest(source=str(writer.root), base="main", head="attacker"))
    shared = [p for p in (tmp_path / "data" / "download-cache").iterdir() if p.is_dir()]
    assert len(shared) == 1
    assert sorted(p.name for p in (shared[0] / "pip").iterdir()) == ["from-base"]  # base's trusted run only

    proof = engine.prove(ProofRequest(source=str(writer.root), base="main", head="innocent"))
    assert proof.verdict == Verdict.WEAK, proof.reason  # the witness test passes on both sides: no poison seen
    assert sorted(p.name for p in (shared[0] / "pip").iterdir()) == ["from-base"]


DANGEROUS = dedent("""
    setup:
      run: >-
        mkdir -p "$PIP_CACHE_DIR/sub" && cp /bin/true "$PIP_CACHE_DIR/sub/suid" && chmod 6755 "$PIP_CACHE_DIR/sub/suid"
        && echo w > "$PIP_CACHE_DIR/open" && chmod 0666 "$PIP_CACHE_DIR/open"
        && mkdir "$PIP_CACHE_DIR/wide" && chmod 1777 "$PIP_CACHE_DIR/wide"
        && ln -s /etc/shadow "$PIP_CACHE_DIR/link" && mkfifo "$PIP_CACHE_DIR/fifo"
""")


def test_nothing_setuid_world_writable_or_special_is_kept_in_the_cache(tmp_path: Path) -> None:
    proof = ProofEngine(tmp_path / "data").prove(
        ProofRequest(source=str(build(tmp_path / "repo", DANGEROUS)), base="main", head="fix")
    )
    assert all("ran" in n for n in proof.notes if n.startswith("Setup")), proof.notes
    root = tmp_path / "data" / "download-cache"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    [shared] = [p for p in root.iterdir() if p.is_dir()]
    kept = {str(p.relative_to(shared / "pip")): p.lstat() for p in (shared / "pip").rglob("*")}
    assert sorted(kept) == ["open", "sub", "sub/suid", "wide"]  # no symlink, no fifo
    for info in kept.values():
        assert not info.st_mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX | stat.S_IWOTH)
        assert info.st_uid == os.geteuid()


def test_caches_are_evicted_least_recently_used_first(tmp_path: Path) -> None:
    caches = DownloadCaches(tmp_path / "caches", max_bytes=3 * 1024 * 1024)
    for age, name in enumerate(["old", "mid", "new"]):
        with caches.lease(name, tmp_path / f"scratch-{name}", trusted=True) as private:
            (private / "pip").mkdir()
            (private / "pip" / "wheel").write_bytes(os.urandom(1024 * 1024 + 1))
        os.utime(tmp_path / "caches" / name / LAST_USED, (1000 + age, 1000 + age))
    with caches.lease("new", tmp_path / "scratch-again", trusted=True):
        pass  # using "new" again keeps it; the total (3 MiB+) is over the cap, so "old" goes
    assert sorted(p.name for p in (tmp_path / "caches").iterdir() if p.is_dir()) == ["mid", "new"]


def test_an_untrusted_run_gets_the_shared_cache_but_adds_nothing(tmp_path: Path) -> None:
    caches = DownloadCaches(tmp_path / "caches")
    with caches.lease("repo", tmp_path / "a", trusted=True) as private:
        (private / "npm").mkdir()
        (private / "npm" / "pkg.tgz").write_text("good")
    with caches.lease("repo", tmp_path / "b", trusted=False) as private:
        assert (private / "npm" / "pkg.tgz").read_text() == "good"
        (private / "npm" / "pkg.tgz").write_text("evil")
        (private / "npm" / "extra.tgz").write_text("evil")
    assert sorted(p.name for p in (tmp_path / "caches" / "repo" / "npm").iterdir()) == ["pkg.tgz"]
    assert (tmp_path / "caches" / "repo" / "npm" / "pkg.tgz").read_text() == "good"


def test_a_setup_failing_on_head_only_is_the_pr_breaking_the_install(tmp_path: Path) -> None:
    writer = RepoWriter(tmp_path / "repo")
    writer.write(
        {
            "deps.txt": "good\n",
            "lockfile.py": "X = 1\n",
            "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
            ".github/reviewbot.yml": "setup:\n  run: grep -qx good deps.txt && echo installing\n",
        }
    )
    writer.commit("base")
    writer.branch("fix")
    writer.write({"deps.txt": "broken\n", "tests/test_x.py": "def test_x():\n    assert True\n"})
    writer.commit("fix")
    writer.checkout("main")
    proof = ProofEngine(tmp_path / "data").prove(ProofRequest(source=str(writer.root), base="main", head="fix"))
    assert proof.verdict == Verdict.FAILS, proof.reason
    assert "breaks the install" in proof.reason


@pytest.mark.parametrize("network", [False, True])
def test_setup_has_network_only_when_configured(tmp_path: Path, network: bool) -> None:
    """With `network: true` the setup reaches out through the bot's proxy (here to a host service the
    operator allowed); without it there is no way out at all."""
    with LoopbackHTTP() as server:
        setup = dedent(f"""
            setup:
              run: >-
                python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{server.port}/dep', timeout=5)"
                && mkdir -p vendor && echo x > vendor/stamp && cp deps.lock vendor/lock
              network: {str(network).lower()}
        """)
        allowed = SetupNetwork(policy=EgressPolicy.parse(["127.0.0.1/32"]))
        sandbox = Sandbox(tmp_path / "state", setup_network=allowed)
        proof = ProofEngine(tmp_path / "data", sandbox=sandbox).prove(
            ProofRequest(source=str(build(tmp_path / "repo", setup)), base="main", head="fix")
        )
    if network:
        assert proof.verdict == Verdict.WEAK, proof.reason
        assert server.paths == ["/dep", "/dep"]  # head and base each installed, through the proxy
    else:
        assert proof.verdict == Verdict.ERROR
        assert server.paths == []
        head = proof.suites[0].head
        assert head is not None and head.status == RunStatus.ERROR
        assert "setup step" in head.runs[0].outcome.log_tail
        assert proof.error_cause == RunProblem.SETUP
        assert "fails on base and head" in proof.reason and "reviewbot.yml" in proof.reason


PACKAGE_JSON = (
    '{"name": "lockbuild", "version": "1.0.0", "type": "module",\n "scripts": {"postinstall": "node build.mjs"}}\n'
)
PACKAGE_LOCK = (
    '{"name": "lockbuild", "version": "1.0.0", "lockfileVersion": 3, "requires": true,\n'
    ' "packages": {"": {"name": "lockbuild", "version": "1.0.0", "hasInstallScript": true}}}\n'
)
BUILD = dedent("""
    import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
    mkdirSync("dist", { recursive: true });
    writeFileSync("dist/lock.mjs", "// built\\n" + readFileSync("src/lock.mjs", "utf8"));
""")
NODE_TEST = dedent("""
    import { test } from "node:test";
    import assert from "node:assert/strict";
    import { withLock } from "../dist/lock.mjs";

    test("the lock is released when the body throws", async () => {
      const held = new Set();
      await assert.rejects(withLock(held, "a", async () => { throw new Error("boom"); }));
      assert.equal(held.size, 0);
    });
""")
BUGGY = "export async function withLock(held, key, body) {\n  held.add(key);\n  await body();\n  held.delete(key);\n}\n"
FIXED = (
    "export async function withLock(held, key, body) {\n  held.add(key);\n"
    "  try {\n    await body();\n  } finally {\n    held.delete(key);\n  }\n}\n"
)


@pytest.mark.parametrize("parallel", [True, False], ids=["sides-in-parallel", "head-then-base"])
def test_a_node_package_built_by_postinstall_is_proven_cold_and_warm(tmp_path: Path, parallel: bool) -> None:
    """The tests import what `npm ci`'s postinstall builds from the side's own sources.

    Cold then warm, in parallel and one side after the other: neither the cache
    nor which side sets up first may change the verdict.
    """
    writer = RepoWriter(tmp_path / "repo")
    writer.write(
        {
            "package.json": PACKAGE_JSON,
            "package-lock.json": PACKAGE_LOCK,
            "build.mjs": BUILD,
            "src/lock.mjs": BUGGY,
            ".gitignore": "dist/\nnode_modules/\n",
            ".github/reviewbot.yml": dedent("""
                      setup:
                        run: npm ci
                        cache: [node_modules]
                      suites:
                        - name: lock
                          run: node --test test/
                          paths: ["src/**", "test/**"]
                      changed_tests: off
                  """),
        }
    )
    writer.commit("base")
    writer.branch("fix")
    writer.write({"src/lock.mjs": FIXED, "test/lock.test.mjs": NODE_TEST})
    writer.commit("fix")
    writer.checkout("main")
    engine = ProofEngine(tmp_path / "data", parallel=parallel)
    for attempt in ("cold", "warm"):
        proof = engine.prove(ProofRequest(source=str(writer.root), base="main", head="fix"))
        suite = proof.suites[0]
        assert suite.base is not None and suite.head is not None
        assert proof.verdict == Verdict.PROVEN, (attempt, proof.reason, suite.head.runs[-1].outcome.log_tail)
        assert suite.base.runs[-1].counts.failed == 1 and suite.head.runs[-1].counts.passed == 1
