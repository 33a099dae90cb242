"""Per-PR state that maintainers set with commands, and the record of commands already carried out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reviewbot.review.pr_state import AutomergeState
from reviewbot.store.db import ProcessedCommandRow, PullStateRow


@dataclass(frozen=True)
class PullState:
    repo: str
    pr_number: int
    paused: bool = False
    paused_by: str = ""
    automerge: AutomergeState = AutomergeState.OFF
    armed_by: str = ""
    armed_head: str = ""
    automerge_log: tuple[tuple[str, ...], ...] = ()
    fixed_head: str = ""


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8", errors="replace")).hexdigest()


class PullStates:
    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, repo: str, pr_number: int) -> PullState:
        with Session(self.engine) as session:
            row = session.get(PullStateRow, (repo, pr_number))
            if row is None:
                return PullState(repo, pr_number)
            return PullState(
                repo,
                pr_number,
                row.paused,
                row.paused_by,
                row.automerge,
                row.armed_by,
                row.armed_head,
                tuple(tuple(entry) for entry in row.automerge_log or []),
                row.fixed_head,
            )

    def update(self, repo: str, pr_number: int, **fields: object) -> PullState:
        try:
            self._update(repo, pr_number, fields)
        except IntegrityError:  # another worker inserted this PR's row first: update it instead
            self._update(repo, pr_number, fields)
        return self.get(repo, pr_number)

    def _update(self, repo: str, pr_number: int, fields: dict[str, object]) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get(PullStateRow, (repo, pr_number))
            if row is None:
                row = PullStateRow(repo=repo, pr_number=pr_number)
                session.add(row)
            for name, value in fields.items():
                setattr(row, name, value)

    def armed(self, repo: str) -> list[int]:
        """PR numbers in `repo` with automerge armed: what a status event or a reconcile advances."""
        with Session(self.engine) as session:
            rows = (
                session.query(PullStateRow.pr_number)
                .filter(PullStateRow.repo == repo, PullStateRow.automerge == AutomergeState.ARMED)
                .all()
            )
        return [number for (number,) in rows]

    def log_automerge(self, repo: str, pr_number: int, row: tuple[str, str, str, str]) -> PullState:
        state = self.get(repo, pr_number)
        return self.update(repo, pr_number, automerge_log=[*map(list, state.automerge_log), list(row)][-30:])

    def processed(self, comment_id: int, body: str) -> bool:
        with Session(self.engine) as session:
            return session.get(ProcessedCommandRow, (comment_id, body_hash(body))) is not None

    def mark_processed(self, comment_id: int, body: str, repo: str, command: str) -> bool:
        """True the first time; False when this comment with this body was already carried out."""
        try:
            with Session(self.engine) as session, session.begin():
                session.add(
                    ProcessedCommandRow(comment_id=comment_id, body_hash=body_hash(body), repo=repo, command=command)
                )
            return True
        except IntegrityError:
            return False
