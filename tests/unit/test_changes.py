"""Which changed paths are tests (laid over base with the PR) and which are manifests."""

from __future__ import annotations

import pytest

from reviewbot.model import ChangedFiles
from reviewbot.proof.changes import LOCKFILES, MANIFESTS, TEST_REQUIREMENTS, is_manifest, is_test_path, split_changes

TEST_PATHS = [
    # Python naming conventions, at any depth
    "test_lock.py",
    "pkg/test_session_lock.py",
    "lock_test.py",
    "src/lockfile/stale_test.py",
    # anything under tests/, test/, __tests__/ at any depth: fixtures and helpers included
    "tests/unit/test_lock.py",
    "tests/conftest.py",
    "tests/helpers.py",
    "tests/fixtures/stale.lock",
    "tests/data/session.json",
    "test/session-lock.test.mjs",
    "test/helpers/tmpdir.js",
    "test/fixtures/package.json",
    "packages/core/test/mutex.js",
    "src/__tests__/lock.ts",
    "__tests__/release.js",
    "tests/__init__.py",
    # JS/TS naming conventions
    "src/lock.test.js",
    "foo.test.mjs",
    "a.spec.ts",
    "src/components/Lock.spec.tsx",
    "lib/lock.test.cjs",
    "src/__snapshots__/lock.test.ts.snap",
    # pytest's shared fixtures travel with the tests
    "conftest.py",
    "src/pkg/conftest.py",
]

NOT_TEST_PATHS = [
    "src/testing_utils.py",
    "contest.py",
    "latest/x.js",
    "attestation.ts",
    "src/lock.py",
    "src/session-lock/index.js",
    "testing/lock.py",  # only test/tests/__tests__ are test directories
    "src/tests.py",  # a module named tests, not a directory
    "src/test.py",
    "test.js",
    "tests",  # a file named like a directory, at the root
    "latest_test_results.md",
    "src/contest_test_utils.py",
    "protest/test.js",
    "docs/testing.md",
    ".github/workflows/test.yml",
    "package.json",
    "src/testfile.js",
    "src/mytest.py",
    "src/test_helpers/lock.js",  # test_* only names files, not directories
    "src/spec/lock.js",
    "src/attest.spec",  # no dot-separated extension after .spec
]


@pytest.mark.parametrize("path", TEST_PATHS)
def test_is_test_path_true(path: str) -> None:
    assert is_test_path(path)


@pytest.mark.parametrize("path", NOT_TEST_PATHS)
def test_is_test_path_false(path: str) -> None:
    assert not is_test_path(path)


@pytest.mark.parametrize(
    ("changed", "deleted", "expected"),
    [
        pytest.param([], [], ChangedFiles(), id="empty"),
        pytest.param(
            ["src/lock.js", "test/lock.test.js", "README.md"],
            [],
            ChangedFiles(tests=["test/lock.test.js"], sources=["README.md", "src/lock.js"]),
            id="split-and-sort",
        ),
        pytest.param(
            ["tests/test_b.py", "tests/test_a.py", "tests/test_b.py", "src/b.py", "src/a.py", "src/a.py"],
            [],
            ChangedFiles(tests=["tests/test_a.py", "tests/test_b.py"], sources=["src/a.py", "src/b.py"]),
            id="dedupe",
        ),
        pytest.param(
            ["src/lock.py", "tests/test_old.py"],
            ["tests/test_old.py", "src/legacy.py", "src/legacy.py"],
            ChangedFiles(sources=["src/lock.py"], deleted=["src/legacy.py", "tests/test_old.py"]),
            id="deleted-wins-over-changed",
        ),
        pytest.param(
            ["package.json", "package-lock.json", "test/helpers/fs.js", "test/lock.test.mjs"],
            [],
            ChangedFiles(
                tests=["test/helpers/fs.js", "test/lock.test.mjs"],
                sources=["package-lock.json", "package.json"],
                manifests=["package-lock.json", "package.json"],
            ),
            id="manifests-are-sources-helpers-are-tests",
        ),
        pytest.param(
            ["contest.py", "src/testing_utils.py", ""],
            ["", "attestation.ts"],
            ChangedFiles(sources=["contest.py", "src/testing_utils.py"], deleted=["attestation.ts"]),
            id="look-alikes-and-blanks",
        ),
    ],
)
def test_split_changes(changed: list[str], deleted: list[str], expected: ChangedFiles) -> None:
    assert split_changes(changed, deleted) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("package.json", True),
        ("package-lock.json", True),
        ("npm-shrinkwrap.json", True),
        ("yarn.lock", True),
        ("pnpm-lock.yaml", True),
        ("requirements-dev.txt", True),
        ("requirements-test.txt", True),
        ("dev-requirements.txt", True),
        ("test-requirements.txt", True),
        ("pyproject.toml", True),
        ("setup.cfg", True),
        ("tox.ini", True),
        ("packages/core/package.json", True),  # workspaces keep one per package
        ("requirements.txt", False),  # runtime deps are the PR's fix, not its tests
        ("src/package.js", False),
        ("package.json5", False),
        ("pyproject.toml.bak", False),
        ("docs/setup.cfg.md", False),
        ("yarn.lock/x", False),
    ],
)
def test_is_manifest(path: str, expected: bool) -> None:
    assert is_manifest(path) is expected


def test_manifests_are_plain_names() -> None:
    assert all("/" not in name for name in MANIFESTS)
    assert TEST_REQUIREMENTS | LOCKFILES <= MANIFESTS  # the overlay sees every file it may lay over
