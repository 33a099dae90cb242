"""Which section each block belongs to, and each known section's raw markdown."""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.review.pr_body.blocks import Block, Code, Heading, Prose


@dataclass
class Region:
    """A stretch of the body under one heading; key None for unknown/no heading."""

    id: int
    key: str | None
    level: int
    body: int
    end: int | None = None


def _next_region(current: Region, heading: Heading, new_id: int) -> Region:
    """Known headings always open a section; an unknown deeper one stays inside the current."""
    if heading.key is not None:
        return Region(new_id, heading.key, heading.level, heading.body)
    if current.key is not None and heading.level > current.level:
        return current
    return Region(new_id, None, heading.level, heading.body)


def place(blocks: list[Block]) -> tuple[list[tuple[Prose | Code, Region]], list[Region]]:
    current = Region(0, None, 0, 0)
    regions: list[Region] = [current]
    placed: list[tuple[Prose | Code, Region]] = []
    for block in blocks:
        if not isinstance(block, Heading):
            placed.append((block, current))
            continue
        following = _next_region(current, block, len(regions))
        if following is not current:
            current.end = block.line
            current = following
            regions.append(current)
    return placed, regions


def section_texts(regions: list[Region], text: str) -> dict[str, str]:
    lines = text.split("\n")
    sections: dict[str, str] = {}
    for region in regions:
        if region.key is None:
            continue
        chunk = "\n".join(lines[region.body : region.end]).strip()
        previous = sections.get(region.key)
        sections[region.key] = "\n\n".join(p for p in (previous, chunk) if p) if previous is not None else chunk
    return sections
