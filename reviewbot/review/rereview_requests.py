"""Who asked for a re-review, and what they asked the reviewer to look at: kept when requests coalesce.

A review job's payload carries its requesters and their focus notes. When the queue lets a
newer request (or a push's review of a newer head) replace a waiting or running one, the
newer job inherits every requester and every focus note, so no one who asked is forgotten
and each is told once the review is done. Pure: payload dicts in, payload dicts out.

Payload form: `requested_by` a list of logins, `focus` a list of `[login, text]` pairs.
Rows queued before requests were merged hold `requested_by` as one string and `focus` as
the text of that one requester; both forms are read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MAX_REQUESTERS = 20  # a mention line stays one line; GitHub notifies at most 50 people per comment anyway
MAX_FOCUS_NOTES = 10


@dataclass(frozen=True)
class RereviewRequests:
    requested_by: tuple[str, ...] = ()
    focus: tuple[tuple[str, str], ...] = ()  # (login, text), oldest first

    @classmethod
    def from_payload(cls, payload: dict[str, Any] | None) -> RereviewRequests:
        payload = payload or {}
        raw = payload.get("requested_by", [])
        logins = [raw] if isinstance(raw, str) else [str(login) for login in raw] if isinstance(raw, list) else []
        logins = [login for login in logins if login]
        notes = payload.get("focus", [])
        if isinstance(notes, str):  # the old form: the one requester's text
            focus = [(logins[0] if logins else "", notes)] if notes.strip() else []
        else:
            focus = [
                (str(pair[0]), str(pair[1]))
                for pair in notes or []
                if isinstance(pair, list | tuple) and len(pair) == 2 and str(pair[1]).strip()
            ]
        return cls(_unique(logins), tuple(focus))

    def merged(self, newer: RereviewRequests) -> RereviewRequests:
        """Every requester once (first asked first), every distinct focus note, the newest kept when too many."""
        focus = [note for note in (*self.focus, *newer.focus)]
        distinct = list(dict.fromkeys(focus))
        return RereviewRequests(
            _unique([*self.requested_by, *newer.requested_by])[-MAX_REQUESTERS:], tuple(distinct[-MAX_FOCUS_NOTES:])
        )

    def to_payload(self) -> dict[str, Any]:
        return {"requested_by": list(self.requested_by), "focus": [list(note) for note in self.focus]}

    def focus_text(self) -> str:
        """The reviewer's focus: one note as written; several each headed by who wrote it."""
        if len(self.focus) == 1:
            return self.focus[0][1]
        return "\n".join(f"{login or 'someone'}: {text}" for login, text in self.focus)


def _unique(logins: Iterable[str]) -> tuple[str, ...]:
    """Logins once each, case-insensitively (as GitHub compares them), in first-seen order."""
    seen: dict[str, str] = {}
    for login in logins:
        seen.setdefault(login.lower(), login)
    return tuple(seen.values())


def carry_over(
    newer: dict[str, Any], replaced: list[dict[str, Any]], trackers_from: list[dict[str, Any]]
) -> dict[str, Any]:
    """The payload of a job that replaces `replaced` (oldest first): their requests merged into its own.

    The progress tracker follows the job that runs: a newer job without one of its own takes the
    newest tracker of `trackers_from` (the replaced jobs that never started, so nobody else edits it).
    """
    requests = RereviewRequests()
    for payload in replaced:
        requests = requests.merged(RereviewRequests.from_payload(payload))
    requests = requests.merged(RereviewRequests.from_payload(newer))
    if not requests.requested_by and not requests.focus:
        return newer
    out = {**newer, **requests.to_payload()}
    if not out.get("status_comment_id"):
        tracker = next((p["status_comment_id"] for p in reversed(trackers_from) if p.get("status_comment_id")), None)
        if tracker is not None:
            out["status_comment_id"] = tracker
    return out
