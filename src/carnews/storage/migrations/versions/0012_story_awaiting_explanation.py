"""a flag on a kept story whose explanation is still to be written

Curation now judges stories in one short transaction and stores each explanation in
another, so the explainer (an LLM may take a minute) runs outside any transaction. The
flag marks a story in between: the next run explains it if this one stopped.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(
            sa.Column(
                "awaiting_explanation", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.create_index("ix_stories_awaiting_explanation", ["awaiting_explanation"])


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.drop_index("ix_stories_awaiting_explanation")
        batch.drop_column("awaiting_explanation")
