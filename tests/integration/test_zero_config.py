"""Zero config on a real Python repository, through the real engine and sandbox.

The repository is what broke before: a src layout, no `.github/reviewbot.yml`,
and `addopts = "--cov=locky"` with pytest-cov only in the `test` extra. The
bot's own pytest dies on that option; the inferred setup installs the
repository's environment and the changed tests run in it.

Needs network in the setup step (pip from the package index; marker `network`).
Behind a TLS-intercepting proxy pip must be given the operator's CA bundle in
the sandbox, or the install fails on certificate verification.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from reviewbot.proof.engine import ProofEngine, ProofRequest
from reviewbot.repo_config import parse_config
from reviewbot.samples.repos import BASE_BRANCH, RepoWriter

pytestmark = [pytest.mark.sandbox, pytest.mark.network]


def _d(text: str) -> str:
    return dedent(text).lstrip("\n")


PYPROJECT = _d(
    """
    [build-system]
    requires = ["setuptools>=61"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "locky"
    version = "0.1.0"
    requires-python = ">=3.9"

    [project.optional-dependencies]
    test = ["pytest", "pytest-cov"]

    [tool.setuptools.packages.find]
    where = ["src"]

    [tool.pytest.ini_options]
    addopts = "--cov=locky --cov-report=term"
    testpaths = ["tests"]
    """
)

LOCK_BUGGY = _d(
    """
    import os
    from contextlib import contextmanager


    @contextmanager
    def locked(path):
        lock = f"{path}.lock"
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.close(fd)
        yield lock
        os.unlink(lock)  # skipped when the body raises: the lock file leaks
    """
)
LOCK_FIXED = LOCK_BUGGY.replace(
    "    yield lock\n    os.unlink(lock)  # skipped when the body raises: the lock file leaks\n",
    "    try:\n        yield lock\n    finally:\n        os.unlink(lock)\n",
)
BASIC_TEST = _d(
    """
    import os

    from locky import locked


    def test_lock_exists_while_held(tmp_path):
        with locked(tmp_path / "f") as lock:
            assert os.path.exists(lock)
        assert not os.path.exists(lock)
    """
)
RELEASE_TEST = _d(
    """
    import os

    import pytest

    from locky import locked


    def test_lock_is_released_when_the_body_raises(tmp_path):
        with pytest.raises(RuntimeError):
            with locked(tmp_path / "f"):
                raise RuntimeError("boom")
        assert not os.path.exists(tmp_path / "f.lock")
    """
)


def build_src_layout_cov(root: Path) -> str:
    """A repository the bot's own pytest cannot run; returns the PR branch."""
    head = "fix/release-on-error"
    RepoWriter(root).pull_request(
        head=head,
        base_files={
            "pyproject.toml": PYPROJECT,
            ".gitignore": ".venv/\n__pycache__/\n*.egg-info/\n.coverage\n",
            "src/locky/__init__.py": LOCK_BUGGY,
            "tests/test_basic.py": BASIC_TEST,
        },
        pr_files={"src/locky/__init__.py": LOCK_FIXED, "tests/test_release.py": RELEASE_TEST},
        pr_message="Release the lock when the body raises",
        followup_files={"README.md": "# locky\n"},
    )
    return head


def test_a_src_layout_repository_with_cov_addopts_is_proven_with_zero_config(tmp_path: Path) -> None:
    head = build_src_layout_cov(tmp_path / "repo")
    engine = ProofEngine(tmp_path / "data")
    proof = engine.prove(ProofRequest(source=str(tmp_path / "repo"), base=BASE_BRANCH, head=head))

    assert proof.config_source == "inferred"
    config = parse_config(proof.inferred_config)
    assert config.setup is not None and config.setup.network
    assert config.setup.run == "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' pytest"
    (suite,) = proof.suites
    assert suite.command.startswith(".venv/bin/python -m pytest ") and suite.command.endswith(" tests/test_release.py")
    assert suite.head is not None and suite.base is not None
    head_log = suite.head.runs[-1].outcome.log_tail
    assert proof.verdict.value == "proven", (proof.reason, proof.notes, head_log, suite.base.runs[-1].outcome.log_tail)
    assert "INTERNALERROR" not in head_log and "unrecognized arguments" not in head_log
    assert suite.head.runs[-1].counts.passed == 1
    assert suite.base.runs[-1].counts.failed == 1


def _scm_pyproject(build_system: str, version_from_git: str) -> str:
    """A src-layout package whose version comes from git, with pytest-cov in `addopts`."""
    return (
        _d(build_system)
        + _d(
            """

        [project]
        name = "locky"
        dynamic = ["version"]
        requires-python = ">=3.9"

        [project.optional-dependencies]
        test = ["pytest", "pytest-cov"]

        [tool.pytest.ini_options]
        addopts = "--cov=locky --cov-report=term"
        testpaths = ["tests"]

        """
        )
        + _d(version_from_git)
    )


PYPROJECT_SCM = _scm_pyproject(
    """
    [build-system]
    requires = ["hatchling", "hatch-vcs"]
    build-backend = "hatchling.build"
    """,
    """
    [tool.hatch.version]
    source = "vcs"

    [tool.hatch.build.hooks.vcs]
    version-file = "src/locky/_version.py"

    [tool.hatch.build.targets.wheel]
    packages = ["src/locky"]
    """,
)
PYPROJECT_SETUPTOOLS_SCM = _scm_pyproject(
    """
    [build-system]
    requires = ["setuptools>=64", "setuptools-scm>=8"]
    build-backend = "setuptools.build_meta"
    """,
    """
    [tool.setuptools_scm]
    version_file = "src/locky/_version.py"

    [tool.setuptools.packages.find]
    where = ["src"]
    """,
)
CONFIG = _d(
    """
    setup:
      run: python3 -m venv .venv && .venv/bin/pip install -e '.[test]'
      network: true
    suites:
      - name: lock release
        run: .venv/bin/python -m pytest tests/test_release.py
        paths: ["src/**", "tests/**"]
    changed_tests: off
    """
)


@pytest.mark.parametrize(
    ("configured", "pyproject"),
    [
        (True, PYPROJECT_SCM),
        (False, PYPROJECT_SCM),
        (True, PYPROJECT_SETUPTOOLS_SCM),
    ],
    ids=["hatch-vcs-config-file", "hatch-vcs-zero-config", "setuptools-scm-config-file"],
)
def test_a_version_from_git_package_that_generates_source_is_proven_cold_and_warm(
    tmp_path: Path, configured: bool, pyproject: str
) -> None:
    """hatch-vcs and setuptools-scm take the version from git (the sandbox's tree has none) and write
    `_version.py` into src.

    Both used to turn a correct fix into `fails`: the build stopped without a
    version, and a cached `.venv` lacked the generated module on the other side.
    """
    head = "fix/release-on-error"
    writer = RepoWriter(tmp_path / "repo")
    base_files = {
        "pyproject.toml": pyproject,
        ".gitignore": ".venv/\n__pycache__/\n.coverage\nsrc/locky/_version.py\n",
        "src/locky/__init__.py": "from ._version import __version__\n" + LOCK_BUGGY,
        "tests/test_basic.py": BASIC_TEST + "\n\ndef test_version():\n    from locky import __version__\n"
        "    assert __version__.startswith('0.3.')\n",
    }
    if configured:
        base_files[".github/reviewbot.yml"] = CONFIG
    writer.pull_request(
        head=head,
        base_files=base_files,
        pr_files={
            "src/locky/__init__.py": "from ._version import __version__\n" + LOCK_FIXED,
            "tests/test_release.py": RELEASE_TEST,
        },
        pr_message="Release the lock when the body raises",
        followup_files={"README.md": "# locky\n"},
    )
    root_commit = writer.repo.git.rev_list("--max-parents=0", BASE_BRANCH)
    writer.repo.git.tag("v0.3.0", root_commit)
    engine = ProofEngine(tmp_path / "data")
    for attempt in ("cold", "warm"):
        proof = engine.prove(ProofRequest(source=str(writer.root), base=BASE_BRANCH, head=head))
        (suite,) = proof.suites
        assert suite.head is not None and suite.base is not None
        assert proof.verdict.value == "proven", (
            attempt,
            proof.reason,
            suite.head.runs[-1].outcome.log_tail,
            suite.base.runs[-1].outcome.log_tail,
        )
        assert suite.base.runs[-1].counts.failed == 1  # a real assertion failure, not an import error
    assert proof.config_source == ("base:.github/reviewbot.yml" if configured else "inferred")
