"""what a thin entry's landing page says, where it came from; robots.txt files as read

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("landing_text", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("landing_source", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("landing_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("landing_checked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "robots_files",
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("origin"),
    )


def downgrade() -> None:
    op.drop_table("robots_files")
    with op.batch_alter_table("entries") as batch:
        for column in ("landing_checked_at", "landing_url", "landing_source", "landing_text"):
            batch.drop_column(column)
