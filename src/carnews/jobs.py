"""The stages composed into the jobs the CLI, the worker, the scheduler and the demo run.

Each job is idempotent: gathering twice stores nothing twice, drafting takes
only stories no edition has yet, sending resumes from the ledger. Every policy about
sending (the approval gate, test mode, publishing once an edition is sent) lives in
``send_due``, the one door every entry point goes through; a monthly digest is an edition
too (``draft_digest`` drafts it), so it goes through the same door.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import httpx
from sqlalchemy import select

from carnews.audience.diseases import disease_catalogue, disease_names, normalise_disease
from carnews.clock import Clock
from carnews.curate.explaining import card_explainer, llm_card_explainer
from carnews.curate.lexicon import Lexicon, load_lexicon
from carnews.curate.stories import CurationReport, Knowledge, curate_new_entries
from carnews.editions import notify
from carnews.editions.digest import DigestResult, Month, wants_digest
from carnews.editions.digest import draft_digest as draft_month_digest
from carnews.editions.publish import PublishReport, publish
from carnews.editions.review import DraftResult, draft_edition
from carnews.editions.workflow import ensure_due
from carnews.errors import CarnewsError, ConfigError
from carnews.explain.extractive import load_glossary
from carnews.explain.llm import LlmConfig
from carnews.gather.enrich import EnrichReport, enrich_thin_entries
from carnews.gather.ingest import SourceReport, ingest
from carnews.mail.deliver import Progress, SendReport, Sleep, finish_if_done, send_edition
from carnews.mail.testsend import TestSendReport, send_test_mode
from carnews.settings import Settings, SourceSettings
from carnews.storage import Database
from carnews.storage.models import AuditEvent, Edition, EditionState

log = logging.getLogger("carnews.jobs")


@lru_cache(maxsize=4)
def knowledge(threshold: float, lexicon_file: str = "", glossary_file: str = "") -> Knowledge:
    """Lexicon and glossary are read once per process: they are data files, not state.

    The editor's own files, when named, extend the built-in ones.
    """
    glossary = load_glossary(Path(glossary_file) if glossary_file else None)
    lexicon = load_lexicon(Path(lexicon_file) if lexicon_file else None)
    return Knowledge(lexicon, glossary, threshold, card_explainer(lexicon))


def knowledge_for(settings: Settings) -> Knowledge:
    known = knowledge(settings.curate.threshold, settings.curate.lexicon_file,
                      settings.explain.glossary_file)  # fmt: skip
    topics = source_topics(settings.sources, known.lexicon)
    return replace(known, topics=topics) if topics else known


def source_topics(
    sources: Sequence[SourceSettings], lexicon: Lexicon
) -> dict[str, tuple[str, ...]]:
    """Each source's ``topic_diseases`` as the lexicon names them ("SLE" is lupus), by
    source name; a name the lexicon does not know stops start-up, as any bad setting does."""
    topics: dict[str, tuple[str, ...]] = {}
    for number, source in enumerate(sources):
        names = [(name, normalise_disease(name, lexicon)) for name in source.topic_diseases]
        if unknown := [name for name, known in names if known is None]:
            key = f"sources[{number}].topic_diseases"
            raise ConfigError(
                f"{key} = {', '.join(map(repr, unknown))} (source {source.name!r}) is not a "
                "disease carnews knows",
                hint="Name diseases as subscribers choose them, e.g. "
                + ", ".join(disease_names(lexicon)[:5])
                + "; an editor's lexicon (curate.lexicon_file) can add one.",
                context={"key": key, "value": ", ".join(unknown)},
            )
        if names:
            topics[source.name] = tuple(dict.fromkeys(known for _, known in names if known))
    return topics


@dataclass(frozen=True)
class GatherReport:
    sources: list[SourceReport]
    curation: CurationReport
    enrichment: EnrichReport | None = None  # None: fetch.enrich_thin_entries is off


async def gather(
    db: Database,
    settings: Settings,
    clock: Clock,
    *,
    force: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    on_source_done: Callable[[SourceReport], None] | None = None,
) -> GatherReport:
    """Fetch due sources, read thin entries' landing pages, then curate and explain
    whatever is new."""
    sources = await ingest(
        db, settings, clock, force=force, transport=transport, on_source_done=on_source_done
    )
    known = knowledge_for(settings)
    enrichment = None
    if settings.fetch.enrich_thin_entries:
        enrichment = await enrich_thin_entries(
            db, settings.fetch, known.lexicon, clock, transport=transport
        )
    if settings.explain.backend != "llm":
        curation = await curate_new_entries(db, known, clock)
        return GatherReport(sources, curation, enrichment)
    async with httpx.AsyncClient(transport=transport) as client:
        config = LlmConfig.from_settings(settings.explain)
        explainer = llm_card_explainer(client, config, known.lexicon)
        curation = await curate_new_entries(db, replace(known, explainer=explainer), clock)
    return GatherReport(sources, curation, enrichment)


async def draft(db: Database, settings: Settings, clock: Clock, *, actor: str) -> DraftResult:
    """Draft an edition and tell the editors it is ready for review (with a link)."""
    result = await draft_edition(
        db,
        clock,
        lookback_days=settings.edition.lookback_days,
        max_stories=settings.edition.max_stories,
        title=settings.site.title,
        actor=actor,
    )
    if result.edition_id is not None:
        await notify.draft_ready(db, settings, clock, result.edition_id)
    return result


async def draft_digest(
    db: Database, settings: Settings, clock: Clock, *, month: Month | None = None, actor: str,
    only_if_wanted: bool = False,
) -> DigestResult | None:  # fmt: skip
    """The monthly digest of ``month`` (default: the last month that is over), drafted
    once and left in review: it is sent like any edition, once an editor approves it.

    The scheduler passes ``only_if_wanted`` and drafts nothing while no reader has chosen
    the digest (None then), so no editor is asked to review a mail nobody gets.
    """
    if only_if_wanted and not await wants_digest(db):
        return None
    return await draft_month_digest(db, clock, month or Month.before(clock()),
                                    title=settings.site.title, actor=actor)  # fmt: skip


async def approved_edition_ids(db: Database, clock: Clock) -> list[int]:
    """Editions an editor approved (or whose sending was interrupted): ready to send."""
    async with db.read() as session:
        query = select(Edition.id).where(
            Edition.state.in_([EditionState.APPROVED, EditionState.SENDING]),
            # One scheduled for later waits; send_due refuses it before then anyway.
            Edition.send_at.is_(None) | (Edition.send_at <= clock()),
        )
        return list((await session.scalars(query.order_by(Edition.id))).all())


@dataclass(frozen=True)
class SendOutcome:
    """What one send did: a real send (``report``) or a test-mode send (``test_mode``)."""

    edition_id: int
    report: SendReport | None = None
    test_mode: TestSendReport | None = None
    published: bool = False


async def send_due(
    db: Database,
    settings: Settings,
    clock: Clock,
    edition_id: int,
    *,
    actor: str,
    resume: bool = False,
    on_progress: Progress | None = None,
    sleep: Sleep = asyncio.sleep,
    repeat_test_mode: bool = True,
) -> SendOutcome:
    """Send one approved edition, or divert it to the test address in test mode.

    The approval gate is checked by both paths, and so is the edition's send time: one
    scheduled for later is refused until then. A finished send mails the editors a
    report. In test mode nothing is written to the ledger and the edition stays
    approved. Automatic passes (worker, scheduler) pass
    ``repeat_test_mode=False`` so the test address gets each approved edition once, not
    once per pass. A finished send publishes the feeds and archive.
    """
    before = await _ensure_due(db, clock, edition_id)
    if settings.mail.test_mode_address:
        if not repeat_test_mode and await _test_mode_sent(db, edition_id):
            return SendOutcome(edition_id)
        report = await send_test_mode(db, settings, clock, edition_id, actor=actor)
        return SendOutcome(edition_id, test_mode=report)
    sent = await send_edition(db, settings, clock, edition_id, actor=actor, resume=resume,
                              on_progress=on_progress, sleep=sleep)  # fmt: skip
    published = await _after_send(db, settings, clock, sent, before)
    return SendOutcome(edition_id, report=sent, published=published)


async def _ensure_due(db: Database, clock: Clock, edition_id: int) -> EditionState | None:
    """Refuse an approved edition before its send time; return its state."""
    async with db.read() as session:
        edition = await session.get(Edition, edition_id)
        if edition is not None and edition.state == EditionState.APPROVED:
            ensure_due(edition, clock())
        return edition.state if edition is not None else None


async def settle(
    db: Database, settings: Settings, clock: Clock, edition_id: int, *, actor: str
) -> SendReport:
    """Report the ledger; an edition whose last rows were just resolved is marked sent and
    published, as if its send had finished."""
    before = await _state(db, edition_id)
    report = await finish_if_done(db, clock, edition_id, actor)
    await _after_send(db, settings, clock, report, before)
    return report


async def _state(db: Database, edition_id: int) -> EditionState | None:
    async with db.read() as session:
        edition = await session.get(Edition, edition_id)
        return edition.state if edition is not None else None


async def _after_send(
    db: Database, settings: Settings, clock: Clock, report: SendReport,
    before: EditionState | None,
) -> bool:  # fmt: skip
    """What follows a finished send, whichever step finished it (a send pass, or settling
    its last rows): the editors' report, once, as the edition becomes sent, and the site
    published. Return whether it finished."""
    if not report.finished:
        return False
    if before != EditionState.SENT and await _state(db, report.edition_id) == EditionState.SENT:
        await notify.send_report(db, settings, clock, report.edition_id)
    await publish_site(db, settings)
    return True


async def publish_site(
    db: Database, settings: Settings, directory: Path | None = None
) -> PublishReport:
    """Feeds and archive of every sent edition, and each disease's, to ``directory`` or
    ``publish.dir``."""
    return await publish(db, settings.site, directory or settings.publish.dir,
                         author=settings.mail.from_name or settings.site.title,
                         templates_dir=settings.templates.dir,
                         diseases=disease_catalogue(settings.curate.lexicon_file))  # fmt: skip


async def send_all_due(
    db: Database,
    settings: Settings,
    clock: Clock,
    *,
    actor: str,
    on_error: Callable[[int, CarnewsError], None] | None = None,
) -> list[SendOutcome]:
    """One pass over every approved (or interrupted) edition, for the worker and scheduler.

    An edition that fails is logged and left for the next pass: the ledger keeps its place.
    """
    outcomes = []
    for edition_id in await approved_edition_ids(db, clock):
        try:
            outcome = await send_due(db, settings, clock, edition_id, actor=actor,
                                     repeat_test_mode=False)  # fmt: skip
        except CarnewsError as exc:
            log.warning("edition %d not sent: %s", edition_id, exc.message)
            if on_error is not None:
                on_error(edition_id, exc)
            continue
        outcomes.append(outcome)
    return outcomes


async def _test_mode_sent(db: Database, edition_id: int) -> bool:
    """Whether test mode already sent this edition since it was (last) approved."""
    async with db.read() as session:
        edition = await session.get_one(Edition, edition_id)
        query = select(AuditEvent.id).where(
            AuditEvent.action == "test_mode_send",
            AuditEvent.object_type == "edition",
            AuditEvent.object_id == str(edition_id),
        )
        if edition.approved_at is not None:
            query = query.where(AuditEvent.at >= edition.approved_at)
        return await session.scalar(query.limit(1)) is not None
