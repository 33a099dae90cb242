"""The docs' rule tables are the code's, and the README stays short with no dead links.

The README is the front page; the tables live in docs/ (one file per topic), so each
check reads the file that holds its table: a change to either side shows up here.
"""

from __future__ import annotations

import re
from pathlib import Path

from reviewbot.review import lock_scan, ranks

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
README_MAX_BYTES = 12 * 1024


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_rank_rule_table_is_the_one_in_the_code() -> None:
    assert ranks.rules_markdown() in _text(DOCS / "ranks-and-lock-scan.md")


def test_lock_scan_rule_table_is_the_one_in_the_code() -> None:
    assert lock_scan.rules_markdown() in _text(DOCS / "ranks-and-lock-scan.md")


def test_command_permission_table_is_the_one_in_the_code() -> None:
    from reviewbot.bot.permissions import table_markdown

    assert table_markdown() in _text(DOCS / "automerge-and-replacements.md")


def test_every_command_alias_is_documented() -> None:
    from reviewbot.review.commands import ALIASES

    commands = _text(DOCS / "automerge-and-replacements.md")
    assert all(f"`{alias}`" in commands for alias in ALIASES)


def test_readme_stays_a_front_page() -> None:
    """Details go to docs/; a README past 12 KiB has started growing them back."""
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail into docs/"


_FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def _prose(markdown: str) -> str:
    """The text outside fenced blocks and code spans, where a link or heading is one."""
    return _CODE_SPAN.sub("", _FENCE.sub("", markdown))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation but `-` dropped, spaces to `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor, with GitHub's `-1`, `-2` suffixes for repeated headings."""
    seen: dict[str, int] = {}
    found = set()
    for heading in _HEADING.findall(_FENCE.sub("", _text(path))):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def dead_links(path: Path, root: Path = ROOT) -> list[str]:
    """Relative links of a markdown file whose file, or whose `#anchor` heading, does not exist."""
    dead = []
    for target in _LINK.findall(_prose(_text(path))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # https:, mailto: ...
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            dead.append(f"{path.relative_to(root)}: {target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            dead.append(f"{path.relative_to(root)}: {target} (no such heading)")
    return dead


def test_slug_follows_github() -> None:
    assert slug("Repository config: `.github/reviewbot.yml`") == "repository-config-githubreviewbotyml"
    assert slug("More than one machine: PostgreSQL") == "more-than-one-machine-postgresql"
    assert slug("The setup step's network") == "the-setup-steps-network"
    assert slug("Model-assisted review (optional)") == "model-assisted-review-optional"


def test_dead_links_are_found(tmp_path: Path) -> None:
    """The checker itself: a missing file and a missing heading are reported, code is not read."""
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other\n\n## Real heading\n", encoding="utf-8")
    page.write_text(
        "[a](other.md#real-heading) [b](gone.md) [c](other.md#gone) `[d](gone2.md)`\n"
        "```\n[e](gone3.md)\n```\n[f](#here)\n\n## Here\n",
        encoding="utf-8",
    )
    assert dead_links(page, root=tmp_path) == [
        "page.md: gone.md (no such file)",
        "page.md: other.md#gone (no such heading)",
    ]


def test_every_relative_link_in_readme_and_docs_exists() -> None:
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    assert len(pages) > 2
    assert [dead for page in pages for dead in dead_links(page)] == []


def test_dependencies_and_why_stays_reachable_from_readme() -> None:
    assert "docs/architecture.md#dependencies-and-why" in _text(ROOT / "README.md")
    assert "dependencies-and-why" in anchors(DOCS / "architecture.md")


def test_every_test_security_md_names_exists() -> None:
    """SECURITY.md points at tests for its claims; a renamed or deleted test must show up here."""
    security = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`(tests/[\w/]+\.py)", security))
    assert paths and all((ROOT / path).is_file() for path in paths)
    sources = "\n".join((ROOT / path).read_text(encoding="utf-8") for path in paths)
    names = set(re.findall(r"(?:::|`)(test_\w+)`", security))
    assert names and [name for name in names if f"def {name}(" not in sources] == []
