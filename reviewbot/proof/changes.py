"""Which of a PR's changed paths are tests, and which are manifests.

The proof runs the PR's tests on base. To do that it lays the PR's test files
(and the helpers and fixtures beside them) over the base checkout, so "is this a
test?" must be generous inside test directories and strict outside them: a
source file mistaken for a test would be laid over base too and could hide the
very bug the PR fixes.

Pure: only string and path arithmetic, no filesystem.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import PurePosixPath

from reviewbot.model import ChangedFiles

# Directories whose whole content belongs to the test suite, at any depth.
TEST_DIRS = frozenset({"tests", "test", "__tests__"})

# File names that are tests wherever they live (Python and JS/TS conventions).
TEST_FILE_PATTERNS = ("test_*.py", "*_test.py", "*.test.*", "*.spec.*")

# pytest's shared fixtures: a PR's tests often need the fixtures it adds here.
TEST_SUPPORT_NAMES = frozenset({"conftest.py"})

# Files that only declare test tooling: laid over base whole when the PR changes them.
TEST_REQUIREMENTS = frozenset(
    {
        "requirements-dev.txt",
        "requirements-test.txt",
        "requirements-tests.txt",
        "dev-requirements.txt",
        "test-requirements.txt",
    }
)
LOCKFILES = frozenset({"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"})

# Manifests and lockfiles whose (test) dependency changes travel with the PR's
# tests when they are laid over base: a new devDependency the tests import must
# exist on base too, or base fails for the wrong reason.
MANIFESTS = frozenset({"package.json", "pyproject.toml", "setup.cfg", "tox.ini"}) | TEST_REQUIREMENTS | LOCKFILES


def is_test_path(path: str) -> bool:
    """True for test files and for anything under a test directory (fixtures, helpers).

    `src/testing_utils.py`, `contest.py`, `latest/x.js` and `attestation.ts` are not
    tests: only whole directory names and the file-name patterns above count.
    """
    pure = PurePosixPath(path)
    if any(part in TEST_DIRS for part in pure.parent.parts):
        return True
    if pure.name in TEST_SUPPORT_NAMES:
        return True
    return any(fnmatchcase(pure.name, pattern) for pattern in TEST_FILE_PATTERNS)


def is_manifest(path: str) -> bool:
    """True for a manifest or lockfile at any depth (workspaces keep one per package)."""
    return PurePosixPath(path).name in MANIFESTS


def split_changes(changed: list[str], deleted: list[str]) -> ChangedFiles:
    """Split the PR's paths into tests and sources; deleted paths are kept apart.

    A path listed both as changed and deleted counts as deleted: there is nothing
    on head to run or to lay over base.
    """
    gone = {path for path in deleted if path}
    present = {path for path in changed if path} - gone
    return ChangedFiles(
        tests=sorted(path for path in present if is_test_path(path)),
        sources=sorted(path for path in present if not is_test_path(path)),
        deleted=sorted(gone),
        manifests=sorted(path for path in present | gone if is_manifest(path)),
    )
