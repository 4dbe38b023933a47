"""operations: fetch outcome counters per source and the lease's last renewal

``/metrics`` and ``carnews status`` read the database, so every process (web, worker,
scheduler) reports the same truth: each source counts its polls by outcome (ok,
not_modified, error), and a lease records when its holder last renewed it (the
scheduler's heartbeat, whose age ``/healthz`` judges). An index on the deliveries' state
and send time makes a scrape's last send a seek and its count by state an index scan.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = ("fetches_ok", "fetches_not_modified", "fetches_failed")


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        for name in COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("leases") as batch:
        batch.add_column(sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_deliveries_state_sent_at", "deliveries", ["state", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_state_sent_at", table_name="deliveries")
    with op.batch_alter_table("leases") as batch:
        batch.drop_column("renewed_at")
    with op.batch_alter_table("sources") as batch:
        for name in reversed(COUNTERS):
            batch.drop_column(name)
