"""One pass over the placed blocks: the commands, results and prose each section claims."""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewbot.review.pr_body.blocks import Code, Prose
from reviewbot.review.pr_body.commands import (
    CODE_INFOS,
    OUTPUT_INFOS,
    clean_command,
    code_lines,
    inline_command,
    is_runner,
)
from reviewbot.review.pr_body.headings import PROOF_KEYS
from reviewbot.review.pr_body.records import ClaimedResult
from reviewbot.review.pr_body.regions import Region
from reviewbot.review.pr_body.results import TAP_LINE, claimed_result


@dataclass
class Claims:
    """Commands, results and prose gathered in one pass over the placed blocks."""

    buckets: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in (*PROOF_KEYS, "other")})
    results: list[ClaimedResult] = field(default_factory=list)
    prose: dict[str | None, list[str]] = field(default_factory=dict)
    last: dict[int, str] = field(default_factory=dict)  # region id -> latest command there

    def command(self, command: str, region: Region) -> None:
        if region.key == "not_tested":  # listed as *not* run: not a claim to check
            return
        self.buckets[region.key if region.key in PROOF_KEYS else "other"].append(command)
        self.last[region.id] = command

    def result(self, result: ClaimedResult | None, region: Region, same_line: str | None = None) -> None:
        if result is not None:
            result.command = same_line or self.last.get(region.id)
            self.results.append(result)


def _prose_claims(block: Prose, region: Region, claims: Claims) -> None:
    claims.prose.setdefault(region.key, []).append(block.text)
    counted = region.key in PROOF_KEYS or block.in_list
    commands = [c for c in map(inline_command, block.codes) if c] if counted else []
    for command in commands:
        claims.command(command, region)
    same_line = commands[0] if commands and region.key != "not_tested" else None
    claims.result(claimed_result(block.text), region, same_line)


def _flush_tap(tap: list[str], region: Region, claims: Claims) -> None:
    """Consecutive `# tests 3` / `# pass 3` / `# fail 0` lines are one result."""
    if tap:
        claims.result(claimed_result(" ".join(tap)), region)
        tap.clear()


def _code_claims(block: Code, region: Region, claims: Claims) -> None:
    """Commands from shell-ish blocks; results from output lines of console/text blocks."""
    if block.info not in CODE_INFOS:
        return
    scan_output = block.info in OUTPUT_INFOS
    tap: list[str] = []
    for line in code_lines(block.info, block.lines):
        if scan_output and not line.is_command and TAP_LINE.match(line.text):
            tap.append(line.text)
            continue
        _flush_tap(tap, region, claims)
        command = clean_command(line.text) if line.is_command else None
        if command and (region.key in PROOF_KEYS or is_runner(command)):
            claims.command(command, region)
        elif scan_output and not line.is_command:
            claims.result(claimed_result(line.text), region)
    _flush_tap(tap, region, claims)


def collect_claims(placed: list[tuple[Prose | Code, Region]]) -> Claims:
    claims = Claims()
    for block, region in placed:
        if isinstance(block, Prose):
            _prose_claims(block, region, claims)
        else:
            _code_claims(block, region, claims)
    return claims
