"""sign-up: confirmation links, sign-up rate limits, suppressed addresses, consent IP

A confirmation link is stored as the SHA-256 of its token (the mail holds the token),
with its expiry and the moment it was used, so a link works once and for three days.
Sign-up attempts are counted per keyed hash of an IP or address, never the plain text.
An erased or blocked address leaves only a keyed hash, so an import cannot re-add it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "confirmations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash", name="uq_confirmations_token_hash"),
    )
    op.create_index("ix_confirmations_subscriber_id", "confirmations", ["subscriber_id"])
    op.create_table(
        "signup_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signup_attempts_kind_key_at", "signup_attempts", ["kind", "key_hash", "at"])
    op.create_table(
        "suppressed_addresses",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address_hash"),
    )
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("consent_ip", sa.String(length=45), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("consent_ip")
    op.drop_table("suppressed_addresses")
    op.drop_index("ix_signup_attempts_kind_key_at", table_name="signup_attempts")
    op.drop_table("signup_attempts")
    op.drop_index("ix_confirmations_subscriber_id", table_name="confirmations")
    op.drop_table("confirmations")
