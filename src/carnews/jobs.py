"""The stages composed into the jobs the CLI, the scheduler and the demo run.

Each job is idempotent: gathering twice stores nothing twice, drafting takes
only stories no edition has yet, sending resumes from the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import httpx
from sqlalchemy import select

from carnews.clock import Clock
from carnews.curate.lexicon import load_lexicon
from carnews.curate.stories import (
    CurationReport,
    Explainer,
    Knowledge,
    curate_new_entries,
    extractive_explainer,
)
from carnews.editions.review import DraftResult, draft_edition
from carnews.explain.extractive import Explanation, GlossaryTerm, load_glossary
from carnews.explain.llm import LlmConfig, explain_with_llm
from carnews.gather.ingest import SourceReport, ingest
from carnews.settings import ExplainSettings, Settings
from carnews.storage import Database
from carnews.storage.models import Edition, EditionState


@lru_cache(maxsize=4)
def knowledge(threshold: float, lexicon_file: str = "", glossary_file: str = "") -> Knowledge:
    """Lexicon and glossary are read once per process: they are data files, not state.

    The editor's own files, when named, extend the built-in ones.
    """
    glossary = load_glossary(Path(glossary_file) if glossary_file else None)
    lexicon = load_lexicon(Path(lexicon_file) if lexicon_file else None)
    return Knowledge(lexicon, glossary, threshold, extractive_explainer(glossary))


def knowledge_for(settings: Settings) -> Knowledge:
    return knowledge(settings.curate.threshold, settings.curate.lexicon_file,
                     settings.explain.glossary_file)  # fmt: skip


def llm_explainer(
    client: httpx.AsyncClient, settings: ExplainSettings, glossary: tuple[GlossaryTerm, ...]
) -> Explainer:
    """The optional LLM backend; it falls back to the extractive summary on any doubt."""
    config = LlmConfig.from_settings(settings)

    async def explainer(title: str, text: str, evidence: str, patients: int | None) -> Explanation:
        return await explain_with_llm(client, config, title=title, text=text, evidence=evidence,
                                      patients=patients, glossary=glossary)  # fmt: skip

    return explainer


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
    known = knowledge_for(settings)
    if settings.explain.backend != "llm":
        curation = await curate_new_entries(db, known, clock)
        return GatherReport(sources, curation)
    async with httpx.AsyncClient(transport=transport) as client:
        explainer = llm_explainer(client, settings.explain, known.glossary)
        curation = await curate_new_entries(db, replace(known, explainer=explainer), clock)
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
