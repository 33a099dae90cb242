"""The proof pages: one stored proof per reviewed head, and its sandbox logs.

Revision ID: 0002
Revises: 0001

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proof_logs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("original_bytes", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("proof_logs", schema=None) as batch_op:
        batch_op.create_index("ux_proof_logs_page", ["page_id", "position"], unique=True)

    op.create_table(
        "proof_pages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=False),
        sa.Column("head_sha", sa.String(length=64), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("pr_url", sa.String(length=500), nullable=False),
        sa.Column("comment_url", sa.String(length=500), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("rank", sa.String(length=8), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("logs_pruned", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("proof_pages", schema=None) as batch_op:
        batch_op.create_index("ix_proof_pages_published", ["published_at"], unique=False)
        batch_op.create_index("ux_proof_pages_head", ["repo", "pr_number", "head_sha"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("proof_pages", schema=None) as batch_op:
        batch_op.drop_index("ux_proof_pages_head")
        batch_op.drop_index("ix_proof_pages_published")

    op.drop_table("proof_pages")
    with op.batch_alter_table("proof_logs", schema=None) as batch_op:
        batch_op.drop_index("ux_proof_logs_page")

    op.drop_table("proof_logs")
