"""a random unsubscribe token per subscriber, so a link reveals no id and no signing key

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 5000


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("unsubscribe_token", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    subscribers = sa.table("subscribers", sa.column("id"), sa.column("unsubscribe_token"))
    ids = [row[0] for row in connection.execute(sa.select(subscribers.c.id))]
    for start in range(0, len(ids), CHUNK):
        connection.execute(
            subscribers.update()
            .where(subscribers.c.id == sa.bindparam("row_id"))
            .values(unsubscribe_token=sa.bindparam("token")),
            [{"row_id": row_id, "token": secrets.token_urlsafe(32)}
             for row_id in ids[start : start + CHUNK]],
        )  # fmt: skip
    with op.batch_alter_table("subscribers") as batch:
        batch.alter_column("unsubscribe_token", existing_type=sa.String(length=64),
                           nullable=False)  # fmt: skip
        batch.create_unique_constraint("uq_subscribers_unsubscribe_token", ["unsubscribe_token"])


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_constraint("uq_subscribers_unsubscribe_token", type_="unique")
        batch.drop_column("unsubscribe_token")
