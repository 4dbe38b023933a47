"""The stages composed into the jobs the CLI, the scheduler and the demo run.

Each job is idempotent: gathering twice stores nothing twice, drafting takes
only stories no edition has yet, sending resumes from the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import httpx
from sqlalchemy import select

from carnews.clock import Clock
from carnews.curate import load_lexicon
from carnews.edition import DraftResult, draft_edition
from carnews.explain import load_glossary
from carnews.ingest import SourceReport, ingest
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import Edition, EditionState
from carnews.stories import CurationReport, Knowledge, curate_new_entries


@lru_cache(maxsize=4)
def knowledge(threshold: float) -> Knowledge:
    """Lexicon and glossary are read once per process: they are data files, not state."""
    return Knowledge(lexicon=load_lexicon(), glossary=load_glossary(), threshold=threshold)


@dataclass(frozen=True)
class GatherReport:
    sources: list[SourceReport]
    curation: CurationReport


async def gather(
    db: Database,
    settings: Settings,
    clock: Clock,
    *,
    force: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    on_source_done: Callable[[SourceReport], None] | None = None,
) -> GatherReport:
    """Fetch due sources, then curate and explain whatever is new."""
    sources = await ingest(
        db, settings, clock, force=force, transport=transport, on_source_done=on_source_done
    )
    curation = await curate_new_entries(db, knowledge(settings.curate.threshold), clock)
    return GatherReport(sources, curation)


async def draft(db: Database, settings: Settings, clock: Clock, *, actor: str) -> DraftResult:
    return await draft_edition(
        db,
        clock,
        lookback_days=settings.edition.lookback_days,
        max_stories=settings.edition.max_stories,
        title=settings.site.title,
        actor=actor,
    )


async def approved_edition_ids(db: Database) -> list[int]:
    """Editions an editor approved (or whose sending was interrupted): ready to send."""
    async with db.session() as session:
        query = select(Edition.id).where(
            Edition.state.in_([EditionState.APPROVED, EditionState.SENDING])
        )
        return list((await session.scalars(query.order_by(Edition.id))).all())
