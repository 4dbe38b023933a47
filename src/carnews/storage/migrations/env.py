"""Alembic environment: always run on a connection handed in by carnews.storage.migrate."""

from __future__ import annotations

from alembic import context

from carnews.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "carnews migrations run through carnews.storage.migrate, not the alembic CLI"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
