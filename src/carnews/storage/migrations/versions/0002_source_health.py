"""source health, effective vs configured URL, query, first poll; historic entries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEALTH = sa.Enum("ok", "failing", "gone", name="source_health", native_enum=False)


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("config_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("query", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("health", HEALTH, nullable=False, server_default="ok"))
        batch.add_column(sa.Column("first_fetched_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE sources SET config_url = url")
    with op.batch_alter_table("entries") as batch:
        batch.add_column(
            sa.Column("historic", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("historic")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("first_fetched_at")
        batch.drop_column("health")
        batch.drop_column("query")
        batch.drop_column("config_url")
