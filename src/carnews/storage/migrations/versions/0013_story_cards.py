"""story cards: the source's own labels on entries, the card on stories and edition items

PubMed publication types and ClinicalTrials.gov phases are kept at ingest because they
decide a study type better than any text rule. The story card (plain sections, quote,
checks) is stored whole as JSON on the story; each edition item keeps its own copy, which
is what an editor edits, so a later re-explanation never rewrites an approved edition.
A subscriber's frequency ("edition" or "monthly" digest) is their choice on sign-up.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("source_labels", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("card", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("source_kind", sa.String(40), nullable=True))
    with op.batch_alter_table("edition_stories") as batch:
        batch.add_column(sa.Column("card", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(
            sa.Column("frequency", sa.String(20), nullable=False, server_default="edition")
        )


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("frequency")
    with op.batch_alter_table("edition_stories") as batch:
        batch.drop_column("card")
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("source_kind")
        batch.drop_column("card")
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("source_labels")
