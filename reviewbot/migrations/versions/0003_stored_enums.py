"""Enum columns keep to their members; the published review keeps its next step.

`published_reviews.verdict` / `.outcome` and `pull_states.automerge` were free
VARCHARs; they hold the same strings as before, and a CHECK now refuses any
other, so a typo or a renamed member fails at the write instead of being read
back as "not armed". `published_reviews.next_step` is the review's own next
step, which `@reviewbot status` shows instead of a second, hand-kept table.

Revision ID: 0003
Revises: 0002

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The members as of this revision (a migration must not follow later edits of the enums).
VERDICTS = ("proven", "weak", "fails", "timeout", "flaky", "no_tests", "error")
OUTCOMES = (
    "did not complete",
    "blocked",
    "needs changes",
    "needs real behavior proof",
    "needs maintainer review",
    "passed",
)
AUTOMERGE_STATES = ("off", "armed", "paused", "replaced", "merged")


def _among(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    with op.batch_alter_table("published_reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_step", sa.Text(), nullable=False, server_default=""))
        batch_op.create_check_constraint("ck_published_reviews_verdict", _among("verdict", VERDICTS))
        batch_op.create_check_constraint("ck_published_reviews_outcome", _among("outcome", OUTCOMES))
    with op.batch_alter_table("pull_states", schema=None) as batch_op:
        batch_op.create_check_constraint("ck_pull_states_automerge", _among("automerge", AUTOMERGE_STATES))


def downgrade() -> None:
    with op.batch_alter_table("pull_states", schema=None) as batch_op:
        batch_op.drop_constraint("ck_pull_states_automerge", type_="check")
    with op.batch_alter_table("published_reviews", schema=None) as batch_op:
        batch_op.drop_constraint("ck_published_reviews_outcome", type_="check")
        batch_op.drop_constraint("ck_published_reviews_verdict", type_="check")
        batch_op.drop_column("next_step")
