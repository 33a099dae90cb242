"""Likely related people, from real git repositories built in tmp_path.

Every repository here is made with the git CLI (through GitPython) with explicit
author names, emails and dates, so blame results are exact and known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import git
import pytest

from reviewbot.model import RelatedPerson
from reviewbot.proof.people import MAX_FILES, MAX_RANGES, related_people, sanitize_name

EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
START = datetime(2023, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user or system git config (mailmap.file, hooks, signing) leaks into the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def person(name: str) -> tuple[str, str]:
    """An author with an address derived from the name (the address must never come back)."""
    local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "someone"
    return name, f"{local}@mail.example.invalid"


class Repo:
    """A real repository with a clock: each commit is a day after the previous one."""

    def __init__(self, root: Path):
        self.root = root
        self.repo = git.Repo.init(root, initial_branch="main")
        with self.repo.config_writer() as config:
            config.set_value("commit", "gpgsign", "false")
            config.set_value("user", "name", "Fixture").set_value("user", "email", "fixture@example.invalid")
        self.clock = START
        self.dates: dict[str, str] = {}  # sha -> expected YYYY-MM-DD (UTC)

    def write(self, files: Mapping[str, str | None]) -> None:
        for rel, text in files.items():
            target = self.root / rel
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")

    def commit(
        self,
        author: tuple[str, str],
        files: Mapping[str, str | None],
        *,
        date: str | None = None,
        message: str = "change",
    ) -> str:
        self.write(files)
        self.clock += timedelta(days=1)
        stamp = date or self.clock.isoformat()
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": "Committer Person",
            "GIT_COMMITTER_EMAIL": "committer@example.invalid",
            "GIT_COMMITTER_DATE": stamp,
        }
        self.repo.git.add("-A")
        self.repo.git.commit("-q", "--no-verify", "--allow-empty", "-m", message, env=env)
        sha = self.repo.head.commit.hexsha
        self.dates[sha] = datetime.fromisoformat(stamp).astimezone(UTC).date().isoformat()
        return sha

    def branch(self, name: str) -> None:
        self.repo.git.checkout("-q", "-b", name)

    def checkout(self, name: str) -> None:
        self.repo.git.checkout("-q", name)

    def sha(self, rev: str) -> str:
        return self.repo.commit(rev).hexsha

    def merge_base(self, a: str = "main", b: str = "fix") -> str:
        return self.repo.git.merge_base(a, b)

    def bare_clone(self, dest: Path) -> Path:
        git.Repo.clone_from(str(self.root), str(dest), bare=True)  # `git clone --bare`
        return dest


def text(lines: Iterable[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def numbered(n: int, tag: str = "line") -> list[str]:
    return [f"{tag} {i}" for i in range(1, n + 1)]


def summary(people: list[RelatedPerson]) -> list[tuple[str, int]]:
    return [(p.name, p.lines) for p in people]


def pr(repo: Repo, files: Mapping[str, str | None], author: tuple[str, str] = person("Pat Contributor")) -> str:
    """Branch `fix` off main's tip with one commit; returns the head SHA."""
    repo.branch("fix")
    head = repo.commit(author, files, message="fix the lock")
    repo.checkout("main")
    return head


# -- attribution ------------------------------------------------------------------------


@pytest.fixture
def three_authors(tmp_path: Path) -> tuple[Repo, dict[str, str], str]:
    """f.py: Alice wrote it, Bob rewrote 3-5, Carol 8 (late evening in UTC-5), Dave 10.

    The PR touches lines 2-5 and 8; main moves on after the branch point (Erin
    rewrites line 2) so the merge-base is not main's tip.
    """
    repo = Repo(tmp_path / "work")
    lines = numbered(10)
    shas = {"alice": repo.commit(person("Alice Anders"), {"f.py": text(lines)})}
    lines[2:5] = ["bob 3", "bob 4", "bob 5"]
    shas["bob"] = repo.commit(person("Bob Brown"), {"f.py": text(lines)})
    lines[7] = "carol 8"
    shas["carol"] = repo.commit(person("Carol Chen"), {"f.py": text(lines)}, date="2023-01-04T23:30:00-05:00")
    lines[9] = "dave 10"
    shas["dave"] = repo.commit(person("Dave Dunn"), {"f.py": text(lines)})

    changed = list(lines)
    changed[1:5] = ["pr 2", "pr 3", "pr 4", "pr 5"]
    changed[7] = "pr 8"
    head = pr(repo, {"f.py": text(changed)})
    after = list(lines)
    after[1] = "erin 2"
    repo.commit(person("Erin Evans"), {"f.py": text(after)})
    return repo, shas, head


def test_modified_lines_go_to_whoever_last_changed_them_on_the_merge_base(three_authors) -> None:
    repo, shas, head = three_authors
    people = related_people(repo.root, repo.merge_base(), head)

    # Bob wrote 3 touched lines; Carol and Alice one each, Carol more recently.
    assert summary(people) == [("Bob Brown", 3), ("Carol Chen", 1), ("Alice Anders", 1)]
    by_name = {p.name: p for p in people}
    assert by_name["Bob Brown"].last_commit == shas["bob"]
    assert by_name["Alice Anders"].last_commit == shas["alice"]
    assert len(by_name["Carol Chen"].last_commit) == 40
    # 23:30 at UTC-5 on 2023-01-04 is 2023-01-05 in UTC.
    assert by_name["Carol Chen"].last_date == "2023-01-05"
    assert by_name["Alice Anders"].last_date == repo.dates[shas["alice"]] == "2023-01-02"
    # Dave's line 10 is untouched; Erin's change is after the merge-base; the PR author is nobody's.
    assert not {"Dave Dunn", "Erin Evans", "Pat Contributor"} & set(by_name)


def test_most_recent_commit_is_reported_per_person(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    lines = numbered(4)
    first = repo.commit(person("Gina Gray"), {"g.py": text(lines)})
    lines[3] = "gina again 4"
    second = repo.commit(person("Gina Gray"), {"g.py": text(lines)})
    head = pr(repo, {"g.py": text(["x"] * 4)})

    [gina] = related_people(repo.root, repo.sha("main"), head)
    assert (gina.lines, gina.last_commit, gina.last_date) == (4, second, repo.dates[second])
    assert first != second


def test_a_bare_clone_works_as_git_dir(three_authors, tmp_path: Path) -> None:
    repo, _, head = three_authors
    bare = repo.bare_clone(tmp_path / "mirror.git")
    assert git.Repo(bare).bare

    people = related_people(bare, repo.merge_base(), head)
    assert summary(people) == [("Bob Brown", 3), ("Carol Chen", 1), ("Alice Anders", 1)]
    assert people == related_people(repo.root, repo.merge_base(), head)


# -- which lines count ------------------------------------------------------------------


@pytest.fixture
def five_line_file(tmp_path: Path) -> Repo:
    """insert.py: line i was written by author i."""
    repo = Repo(tmp_path / "work")
    names = ["Ann One", "Ben Two", "Cat Three", "Don Four", "Eve Five"]
    for i, name in enumerate(names, start=1):
        repo.commit(person(name), {"insert.py": text(numbered(i))})
    return repo


@pytest.mark.parametrize(
    ("new_lines", "expected"),
    [
        # after line 2: line 2 (before the insertion point) and line 3 (after it)
        (["line 1", "line 2", "new", "line 3", "line 4", "line 5"], [("Cat Three", 1), ("Ben Two", 1)]),
        # at the top: there is no line 0, so only line 1
        (["new", *numbered(5)], [("Ann One", 1)]),
        # at the end: there is no line 6, so only line 5
        ([*numbered(5), "new a", "new b"], [("Eve Five", 1)]),
    ],
    ids=["middle", "top", "end"],
)
def test_a_pure_insertion_credits_the_lines_around_it(
    five_line_file: Repo, new_lines: list[str], expected: list[tuple[str, int]]
) -> None:
    repo = five_line_file
    head = pr(repo, {"insert.py": text(new_lines)})
    assert summary(related_people(repo.root, repo.sha("main"), head)) == expected


def test_a_deleted_file_counts_all_its_lines_and_an_added_file_none(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    repo.commit(person("Fay Fisher"), {"gone.py": text(numbered(4)), "keep.py": text(numbered(3))})
    repo.commit(person("Hal Hughes"), {"other.py": text(numbered(6))})
    head = pr(repo, {"gone.py": None, "brand_new.py": text(numbered(50)), "tests/test_new.py": "x = 1\n"})

    assert summary(related_people(repo.root, repo.sha("main"), head)) == [("Fay Fisher", 4)]


def test_a_pr_that_only_adds_files_has_no_related_people(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    repo.commit(person("Fay Fisher"), {"existing.py": text(numbered(3))})
    head = pr(repo, {"added.py": text(numbered(10)), "docs/added.md": "# hi\n"})

    assert related_people(repo.root, repo.sha("main"), head) == []


def test_binary_files_and_symlinks_are_skipped_without_failing_the_rest(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    repo.commit(person("Ivy Irwin"), {"blob.bin": "a\0b\nc\n", "target.txt": "t\n"})
    (repo.root / "link").symlink_to("target.txt")
    repo.commit(person("Jon Jones"), {"code.py": text(numbered(2))})
    repo.branch("fix")
    (repo.root / "link").unlink()
    (repo.root / "link").symlink_to("code.py")
    head = repo.commit(person("Pat Contributor"), {"blob.bin": "a\0B\nc\n", "code.py": "changed\nline 2\n"})

    # Ivy wrote the binary and the symlink (both changed): neither is blamed.
    assert summary(related_people(repo.root, repo.sha("main"), head)) == [("Jon Jones", 1)]


# -- who is listed ----------------------------------------------------------------------


def test_bots_and_excluded_names_are_left_out(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    lines: list[str] = []
    for name, count in [("dependabot[bot]", 4), ("Renovate[BOT]", 3), ("Bob Smith", 2), ("Alice Anders", 1)]:
        lines += [f"{name} {i}" for i in range(count)]
        repo.commit(person(name), {"deps.txt": text(lines)})
    head = pr(repo, {"deps.txt": text(f"new {i}" for i in range(len(lines)))})
    base = repo.sha("main")

    assert summary(related_people(repo.root, base, head)) == [("Bob Smith", 2), ("Alice Anders", 1)]
    assert summary(related_people(repo.root, base, head, exclude_names=["  bob   SMITH "])) == [("Alice Anders", 1)]


def test_at_most_limit_people_ordered_by_lines_then_date_then_name(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    lines: list[str] = []
    # Seven authors; "Zed" and "Amy" each write 2 lines on the same day (different hours).
    plan = [
        ("Gus", 6, None),
        ("Fox", 5, None),
        ("Eli", 4, None),
        ("Dot", 3, None),
        ("Zed", 2, "2023-03-01T08:00:00+00:00"),
        ("Amy", 2, "2023-03-01T09:00:00+00:00"),
        ("Bea", 1, None),
    ]
    for name, count, date in plan:
        lines += [f"{name} {i}" for i in range(count)]
        repo.commit(person(name), {"many.py": text(lines)}, date=date)
    head = pr(repo, {"many.py": text(f"rewritten {i}" for i in range(len(lines)))})
    base = repo.sha("main")

    people = related_people(repo.root, base, head)
    assert summary(people) == [("Gus", 6), ("Fox", 5), ("Eli", 4), ("Dot", 3), ("Amy", 2)]
    assert summary(related_people(repo.root, base, head, limit=7))[4:] == [("Amy", 2), ("Zed", 2), ("Bea", 1)]
    assert summary(related_people(repo.root, base, head, limit=2)) == [("Gus", 6), ("Fox", 5)]
    assert related_people(repo.root, base, head, limit=0) == []


@pytest.mark.parametrize("bare", [False, True], ids=["worktree", "bare"])
def test_mailmap_on_the_base_joins_two_spellings_into_one_person(tmp_path: Path, bare: bool) -> None:
    repo = Repo(tmp_path / "work")
    mailmap = "Jane Doe <jane@corp.example.invalid>\nJane Doe <jane@corp.example.invalid> <jdoe@home.example.invalid>\n"
    repo.commit(person("Maintainer"), {".mailmap": mailmap})
    repo.commit(("Jane Doe", "jane@corp.example.invalid"), {"m.py": text(numbered(2))})
    repo.commit(("jdoe", "jdoe@home.example.invalid"), {"m.py": text([*numbered(2), "j 3", "j 4", "j 5"])})
    repo.commit(person("Kim Kent"), {"m.py": text([*numbered(2), "j 3", "j 4", "j 5", "kim 6"])})
    head = pr(repo, {"m.py": text(["pr"] * 6)})
    # After the branch point main renames her: the review uses the base's mailmap, not HEAD's.
    repo.commit(person("Maintainer"), {".mailmap": mailmap.replace("Jane Doe", "Jane Q. Public")})
    git_dir = repo.bare_clone(tmp_path / "mirror.git") if bare else repo.root

    people = related_people(git_dir, repo.merge_base(), head)
    assert summary(people) == [("Jane Doe", 5), ("Kim Kent", 1)]


def test_no_email_address_appears_anywhere_in_the_output(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    authors = [
        ("Olga Ortiz", "olga@corp.example.invalid"),
        ("quinn@users.example.invalid", "quinn@users.example.invalid"),  # name set to the address
        ("Pete (pete@home.example.invalid)", "pete@work.example.invalid"),
    ]
    lines: list[str] = []
    for name, email in authors:
        lines.append(f"by {name}")
        repo.commit((name, email), {"e.py": text(lines)})
    head = pr(repo, {"e.py": text(["x"] * len(lines))})

    people = related_people(repo.root, repo.sha("main"), head)
    dumped = "".join(p.model_dump_json() for p in people)
    assert not EMAIL.search(dumped), dumped
    for _, email in authors:
        assert email not in dumped
    # The address-only name has nothing left to show; Pete keeps his name without the address.
    assert sorted(p.name for p in people) == ["Olga Ortiz", "Pete"]


def test_control_characters_in_a_name_are_removed_and_length_capped(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    hostile = "Mal\x1b[31mlory\x07\tThe\rGreat\u202e  Evil" + "x" * 200
    repo.commit((hostile, "mal@example.invalid"), {"h.py": "one\n"})
    head = pr(repo, {"h.py": "two\n"})

    [mallory] = related_people(repo.root, repo.sha("main"), head)
    assert mallory.name.startswith("Mal[31mlory The Great Evil")
    assert len(mallory.name) == 80
    assert not any(ord(c) < 32 or ord(c) == 127 or c == "\u202e" for c in mallory.name)


def test_sanitize_name_flattens_newlines_and_strips_controls() -> None:
    # git itself drops a newline from an author name, so a newline cannot arrive through blame;
    # the sanitiser must still flatten one (a mailmap or future source could carry it).
    assert sanitize_name("Eve\nMallory\r\n\x00 \u2028Jr.\x7f\u200b") == "Eve Mallory Jr."
    assert sanitize_name("  \t \x1b ") == ""
    assert len(sanitize_name("y" * 500)) == 80


# -- paths and revisions ----------------------------------------------------------------


def test_paths_with_spaces_unicode_quotes_and_a_leading_dash(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    paths = ['src/my dir/süß "lock".py', "-n dash ✓.txt"]
    repo.commit(person("Ümit Åberg"), {paths[0]: text(numbered(3))})
    repo.commit(person("Zoë Ng"), {paths[1]: text(numbered(2))})
    head = pr(repo, {paths[0]: "changed\nline 2\nline 3\n", paths[1]: "a\nb\n"})

    assert summary(related_people(repo.root, repo.sha("main"), head)) == [("Zoë Ng", 2), ("Ümit Åberg", 1)]


def test_unknown_revisions_and_non_repositories_give_no_people(tmp_path: Path, three_authors) -> None:
    repo, _, head = three_authors
    base = repo.merge_base()
    out = tmp_path / "written-by-git.txt"

    assert related_people(repo.root, "0" * 40, head) == []
    assert related_people(repo.root, base, "deadbeef" * 5) == []
    assert related_people(repo.root, "no-such-branch", head) == []
    assert related_people(repo.root, f"--output={out}", head) == []  # an option is not a revision
    assert not out.exists()
    assert related_people(tmp_path / "not-a-repo", base, head) == []


# -- bounds -------------------------------------------------------------------------------


def test_at_most_max_files_are_blamed(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    count = MAX_FILES + 5
    for i in range(count):
        repo.commit((f"Author {i:03d}", f"a{i}@example.invalid"), {f"f{i:03d}.txt": "old\n"})
    head = pr(repo, {f"f{i:03d}.txt": "new\n" for i in range(count)})

    people = related_people(repo.root, repo.sha("main"), head, limit=count)
    assert len(people) == MAX_FILES
    assert {p.name for p in people} == {f"Author {i:03d}" for i in range(MAX_FILES)}  # diff order: by path


def test_at_most_max_ranges_are_blamed(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "work")
    lines = numbered(2 * (MAX_RANGES + 50))
    repo.commit(person("Rita Ranges"), {"wide.txt": text(lines)})
    changed = [f"new {line}" if i % 2 == 0 else line for i, line in enumerate(lines)]  # every other line
    head = pr(repo, {"wide.txt": text(changed)})

    [rita] = related_people(repo.root, repo.sha("main"), head)
    assert rita.lines == MAX_RANGES
