"""What `parse_pr_body` returns, and the caps that keep every field bounded for any input."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

MAX_BODY_CHARS = 65536
MAX_COMMANDS = 20
MAX_RESULTS = 20
MAX_MEDIA = 20
MAX_COMMAND_CHARS = 500
MAX_RESULT_TEXT = 200
MAX_LABEL = 120
MAX_URL_CHARS = 2048
MAX_HEADING_CHARS = 200

SECTION_KEYS = ("summary", "real_behavior_proof", "test_plan", "not_tested", "risk")

MediaKind = Literal["image", "video", "log", "artifact"]


class Media(BaseModel):
    """A screenshot, video, log or CI artifact the contributor linked as evidence."""

    kind: MediaKind
    url: str
    label: str = ""  # alt text / link text, stripped, at most 120 chars


class ClaimedResult(BaseModel):
    """One "N passed"-style claim, tied to the command it was about when we can tell."""

    text: str  # the line, whitespace-collapsed, at most 200 chars
    passed: int | None = None
    failed: int | None = None
    total: int | None = None
    command: str | None = None  # one of the claimed commands, or None


class PrBody(BaseModel):
    """Everything the review needs from the description to compare claimed vs observed."""

    sections: dict[str, str]  # canonical key (SECTION_KEYS) -> raw markdown, stripped
    commands: list[str]  # Test plan first, then Real behavior proof, then elsewhere
    results: list[ClaimedResult]
    media: list[Media]
    claims_reproduced: bool | None
    truncated: bool = False


def collapse(text: str) -> str:
    return " ".join(text.split())
