"""entry identifiers for merging stories; SMOG grade and unexplained jargon on stories

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("doi", sa.String(300), nullable=True))
        batch.add_column(sa.Column("pmid", sa.String(20), nullable=True))
        batch.add_column(sa.Column("nct", sa.String(20), nullable=True))
        batch.create_index("ix_entries_doi", ["doi"])
        batch.create_index("ix_entries_pmid", ["pmid"])
        batch.create_index("ix_entries_nct", ["nct"])
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("smog_grade", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("unexplained_terms", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("unexplained_terms")
        batch.drop_column("smog_grade")
    with op.batch_alter_table("entries") as batch:
        batch.drop_index("ix_entries_nct")
        batch.drop_index("ix_entries_pmid")
        batch.drop_index("ix_entries_doi")
        batch.drop_column("nct")
        batch.drop_column("pmid")
        batch.drop_column("doi")
