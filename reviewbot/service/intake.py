"""From a delivery's raw bytes and headers to a payload the routing may trust, or a 4xx that says why.

Pure, and shared by `/webhook` and `reviewbot replay` so both accept exactly the same
deliveries under exactly the same id rules. Everything here runs before the payload
reaches a model or the database, and each check exists because its absence was a 500:

- nesting deeper than `MAX_DEPTH` is refused before `json.loads` recurses into it;
- a lone surrogate cannot be encoded to UTF-8 (SQLite binds, PostgreSQL) and a NUL
  truncates strings in C code and PostgreSQL text; GitHub never sends either, so a
  payload carrying one anywhere is refused, naming the field;
- event names and delivery ids become primary-key and column values: bounded, printable.

GitHub sends `application/json` for Apps and, by default, `application/x-www-form-urlencoded`
with the JSON in a `payload` field for repository webhooks; the signature covers the raw
body either way, so it is checked before this runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

MAX_DEPTH = 64  # GitHub's payloads nest about 8 deep
MAX_EVENT_CHARS = 60  # deliveries.event
MAX_DELIVERY_CHARS = 80  # deliveries.delivery_id
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"

_EVENT = re.compile(rf"[a-z0-9_.-]{{1,{MAX_EVENT_CHARS}}}", re.IGNORECASE)
_DELIVERY = re.compile(rf"[\x21-\x7e]{{1,{MAX_DELIVERY_CHARS}}}")  # printable ASCII, no space
_NOT_STRUCTURE = bytes(range(256)).translate(None, b'[]{}"')  # every byte but brackets and quotes
_ESCAPE = re.compile(rb"\\.", re.DOTALL)  # a backslash and the byte it escapes (`\\\\` and `\\"` included)
# Escapes that may decode to a surrogate or a NUL; only when one is present is the parsed tree walked.
_SUSPECT = re.compile(rb"\\u(?:[dD][89a-fA-F][0-9a-fA-F]{2}|0000)")


class IntakeError(ValueError):
    """A delivery that cannot be accepted: `status` is the HTTP answer, the message says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Delivery:
    event: str
    delivery_id: str
    payload: dict[str, Any]


def check_event(event: str) -> str:
    event = event.strip()
    if not event:
        raise IntakeError(400, "X-GitHub-Event header is missing")
    if not _EVENT.fullmatch(event):
        raise IntakeError(
            400,
            f"X-GitHub-Event header is not an event name (letters, digits, `_.-`, at most "
            f"{MAX_EVENT_CHARS} characters)",
        )
    return event


def check_delivery_id(delivery: str) -> str:
    delivery = delivery.strip()
    if not _DELIVERY.fullmatch(delivery):
        raise IntakeError(
            400,
            f"X-GitHub-Delivery header is missing or not printable ASCII of at most {MAX_DELIVERY_CHARS} characters",
        )
    return delivery


def json_body(body: bytes, content_type: str) -> bytes:
    """The JSON text of a body sent as `content_type` (JSON itself, or a form's `payload` field)."""
    media = content_type.split(";")[0].strip().lower()
    if media == JSON_TYPE:
        return body
    if media != FORM_TYPE:
        raise IntakeError(400, f"content type must be {JSON_TYPE} or {FORM_TYPE}, not {media or 'none'!r}")
    try:
        fields = parse_qs(
            body.decode("ascii"), keep_blank_values=True, strict_parsing=True, errors="strict", max_num_fields=20
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise IntakeError(400, f"form body is not URL-encoded: {str(exc)[:100]}") from None
    values = fields.get("payload", [])
    if len(values) != 1:
        raise IntakeError(400, "form body must carry exactly one `payload` field")
    return values[0].encode("utf-8", "surrogatepass")


def parse_payload(text: bytes) -> dict[str, Any]:
    """The JSON object, bounded in depth, with no lone surrogate and no NUL in any key or value."""
    depth = json_depth(text)
    if depth > MAX_DEPTH:
        raise IntakeError(400, f"body nests {depth} deep; at most {MAX_DEPTH} is accepted")
    try:
        payload = json.loads(text)
    except RecursionError:  # belt and braces: json_depth should have caught it
        raise IntakeError(400, f"body nests deeper than {MAX_DEPTH}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise IntakeError(400, f"body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(payload, dict):
        raise IntakeError(400, "body must be a JSON object")
    if _SUSPECT.search(text):
        bad = find_bad_text(payload)
        if bad is not None:
            path, what = bad
            raise IntakeError(400, f"`{path[:200]}` contains {what}")
    return payload


def read_delivery(event: str, delivery_id: str, content_type: str, body: bytes) -> Delivery:
    """The checks of `/webhook` after the signature, in its order."""
    event = check_event(event)
    delivery_id = check_delivery_id(delivery_id)
    return Delivery(event, delivery_id, parse_payload(json_body(body, content_type)))


def json_depth(text: bytes) -> int:
    """How deep the JSON text nests (an upper bound when within MAX_DEPTH); strings skipped, no recursion.

    Everything but the byte-level passes runs over the brackets alone: every escape (`\\x`) is dropped
    first, in one pass that pairs backslashes left to right, so every remaining `"` opens or closes a
    string and the text between pairs of them is string content, cut out by one split. Three C-speed
    passes over the body: a delivery pays about as much for this as for a third of `json.loads`.
    """
    reduced = _ESCAPE.sub(b"", text).translate(None, _NOT_STRUCTURE)
    brackets = b"".join(reduced.split(b'"')[::2])
    if len(brackets) <= MAX_DEPTH:
        return MAX_DEPTH  # cannot nest deeper than it has brackets
    depth = deepest = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return deepest


def find_bad_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first key or string holding a lone surrogate or a NUL, as (`a.b[2].c`, what); iterative."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                return where or "(body)", problem
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = _text_problem(key)
                child_path = f"{where}.{key}" if where else key
                if problem:
                    return (f"{where}.(key)" if where else "(key)"), problem
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{index}]", child) for index, child in enumerate(item))
    return None


def _text_problem(text: str) -> str:
    if "\x00" in text:
        return "a NUL character"
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return "a lone surrogate (not Unicode text)"
    return ""
