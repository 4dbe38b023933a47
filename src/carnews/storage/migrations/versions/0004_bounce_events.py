"""bounce events: hard and soft bounces and complaints from the webhook, DSNs and SMTP

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND = sa.Enum("hard", "soft", "complaint", name="bounce_kind", native_enum=False)
SOURCE = sa.Enum("webhook", "dsn", "smtp", name="bounce_source", native_enum=False)


def upgrade() -> None:
    op.create_table(
        "bounce_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", SOURCE, nullable=False),
        sa.Column("reference", sa.String(length=300), nullable=True),
        sa.Column("diagnostic", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address", "kind", "reference", name="uq_bounce_events_reference"),
    )
    with op.batch_alter_table("bounce_events") as batch:
        batch.create_index("ix_bounce_events_subscriber_id", ["subscriber_id"])


def downgrade() -> None:
    with op.batch_alter_table("bounce_events") as batch:
        batch.drop_index("ix_bounce_events_subscriber_id")
    op.drop_table("bounce_events")
