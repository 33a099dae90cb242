"""Laying the PR's tests (and only its test dependencies) over base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewbot.model import ChangedFiles
from reviewbot.proof.overlay import apply_overlay, merge_dev_dependencies, plan_overlay


def test_tests_are_laid_over_and_sources_are_not() -> None:
    plan = plan_overlay(ChangedFiles(tests=["test/a.test.mjs"], sources=["src/lock.mjs"]), {})
    assert plan.from_head == ["test/a.test.mjs"]
    assert plan.rewritten == {} and plan.notes == []


def test_added_dev_dependency_is_merged_into_base_package_json() -> None:
    base = json.dumps({"name": "x", "main": "old.js", "devDependencies": {"a": "1"}}).encode()
    head = json.dumps({"name": "x", "main": "new.js", "devDependencies": {"a": "1", "tap": "^18"}}).encode()
    plan = plan_overlay(
        ChangedFiles(tests=["test/t.js"], sources=["package.json", "package-lock.json"]),
        {"package.json": (base, head), "package-lock.json": (b"{}", b'{"v":2}')},
    )
    merged = json.loads(plan.rewritten["package.json"])
    assert merged["main"] == "old.js"  # the fix's own manifest change stays on head
    assert merged["devDependencies"] == {"a": "1", "tap": "^18"}
    assert "package-lock.json" in plan.from_head
    assert any("tap" in note for note in plan.notes)


def test_package_json_change_without_new_dev_dependency_is_left_alone() -> None:
    base = json.dumps({"version": "1.0.0"}).encode()
    head = json.dumps({"version": "1.0.1"}).encode()
    plan = plan_overlay(
        ChangedFiles(sources=["package.json", "package-lock.json"]),
        {"package.json": (base, head), "package-lock.json": (b"{}", b"{}")},
    )
    assert plan.rewritten == {} and plan.from_head == []


def test_test_only_requirements_file_is_taken_whole() -> None:
    plan = plan_overlay(
        ChangedFiles(tests=["tests/test_x.py"], sources=["requirements-dev.txt"]),
        {"requirements-dev.txt": (b"pytest\n", b"pytest\nhypothesis\n")},
    )
    assert plan.from_head == ["requirements-dev.txt", "tests/test_x.py"]
    assert plan.notes


def test_merge_dev_dependencies_tolerates_broken_json() -> None:
    assert merge_dev_dependencies(b"{", b"{}") == (b"{", [])


def test_apply_writes_files_modes_and_removals(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_old.py").write_text("old")
    blobs = {"tests/new/test_a.py": (b"def test(): pass\n", "100644"), "tests/run.sh": (b"#!/bin/sh\n", "100755")}
    plan = plan_overlay(ChangedFiles(tests=sorted(blobs)), {}, deleted_tests=["tests/test_old.py"])
    apply_overlay(tmp_path, plan, blobs.get)
    assert (tmp_path / "tests/new/test_a.py").read_bytes() == b"def test(): pass\n"
    assert (tmp_path / "tests/run.sh").stat().st_mode & 0o111
    assert not (tmp_path / "tests/test_old.py").exists()


def test_a_symlinked_directory_in_base_is_a_named_note_not_a_write(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "test").symlink_to(outside)
    plan = plan_overlay(ChangedFiles(tests=["test/a.test.js", "test2/b.test.js"]), {})
    apply_overlay(tree, plan, lambda path: (b"x", "100644"))
    assert list(outside.iterdir()) == []
    assert plan.notes == [
        "`test/a.test.js` was not laid over base: base has a symlink at `test`, and the bot does "
        "not write through symlinks."
    ]
    assert plan.touched == ["test2/b.test.js"] and (tree / "test2" / "b.test.js").read_bytes() == b"x"


@pytest.mark.parametrize(
    ("base", "pr", "says"),
    [
        ("tests/case", "tests/case", "base has a directory there, the PR a file"),  # base: tests/case/ is a directory
        ("tests", "tests/test_a.py", "base has a file at `tests` where the PR has a directory"),
    ],
)
def test_a_file_where_base_has_a_directory_and_the_reverse_are_named_notes(
    tmp_path: Path, base: str, pr: str, says: str
) -> None:
    if base == pr:
        (tmp_path / base / "inner").mkdir(parents=True)
    else:
        (tmp_path / base).write_text("base's file")
    plan = plan_overlay(ChangedFiles(tests=[pr]), {}, deleted_tests=[f"{pr}/gone.py"])
    apply_overlay(tmp_path, plan, lambda path: (b"def test(): pass\n", "100644"))
    assert plan.notes == [f"`{pr}` was not laid over base: {says}."]
    assert plan.touched == [f"{pr}/gone.py"]  # a removal of what base does not have is no problem
    assert not any(str(tmp_path) in note for note in plan.notes)  # repository-relative paths only
    assert (tmp_path / base).is_dir() if base == pr else (tmp_path / base).read_text() == "base's file"


def test_a_write_that_fails_names_the_path_not_the_host(tmp_path: Path) -> None:
    name = "tests/" + "a" * 300 + ".py"  # longer than any file name may be: the write itself fails
    plan = plan_overlay(ChangedFiles(tests=[name, "tests/test_b.py"]), {})
    apply_overlay(tmp_path, plan, lambda path: (b"x", "100644"))
    assert plan.notes == [f"`{name}` was not laid over base: File name too long."]
    assert plan.touched == ["tests/test_b.py"] and (tmp_path / "tests" / "test_b.py").read_bytes() == b"x"
