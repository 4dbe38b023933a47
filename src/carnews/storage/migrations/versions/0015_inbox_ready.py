"""source display names; monthly digests as editions of their own kind

``sources.display_name`` is the name readers see ("from PubMed"), kept from the config at
every sync. A monthly digest is an edition (``kind = 'digest'``) so it goes through the
same review gate and delivery ledger; ``digest_month`` ('2026-11') is unique, so a month
never gets two digests however often the job runs.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("display_name", sa.String(200), nullable=True))
    with op.batch_alter_table("editions") as batch:
        batch.add_column(
            sa.Column(
                "kind",
                sa.Enum("edition", "digest", name="edition_kind", native_enum=False),
                nullable=False,
                server_default="edition",
            )
        )
        batch.add_column(sa.Column("digest_month", sa.String(7), nullable=True))
        batch.create_unique_constraint("uq_editions_digest_month", ["digest_month"])


def downgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.drop_constraint("uq_editions_digest_month", type_="unique")
        batch.drop_column("digest_month")
        batch.drop_column("kind")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("display_name")
