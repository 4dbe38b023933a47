"""Stories: run curate and explain over stored entries and save the results.

The database side of the curate and explain stages. Entries that share a
canonical key (DOI, PMID, NCT number, URL) become one Story; each story is
judged on its strongest entry, and the kept ones get a plain-language summary.
Dropped stories are kept too, with their reasons, so an editor can see why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from carnews.clock import Clock
from carnews.curate import Lexicon, Verdict, classify, rank_score
from carnews.explain import GlossaryTerm, explain
from carnews.storage import Database
from carnews.storage.models import Entry, Source, Story


@dataclass(frozen=True)
class CurationReport:
    kept: tuple[tuple[int, str], ...]
    dropped: tuple[tuple[int, str, str], ...]  # id, title, main reason
    merged_entries: int


@dataclass(frozen=True)
class Knowledge:
    """The editor-extendable data the stages read: lexicon, glossary, threshold."""

    lexicon: Lexicon
    glossary: tuple[GlossaryTerm, ...]
    threshold: float


async def curate_new_entries(db: Database, knowledge: Knowledge, clock: Clock) -> CurationReport:
    """Attach every new or changed entry to its story and (re)judge those stories."""
    now = clock()
    kept: list[tuple[int, str]] = []
    dropped: list[tuple[int, str, str]] = []
    async with db.session() as session:
        pending = await _pending_entries(session)
        keys = sorted({entry.canonical_key for entry in pending})
        for key in keys:
            story = await _story_for(session, key, now)
            for entry in pending:
                if entry.canonical_key == key:
                    entry.story = story
            await session.flush()
            await session.refresh(story, ["entries"])
            _judge(story, knowledge, now)
            if story.relevant:
                kept.append((story.id, story.title))
            else:
                dropped.append((story.id, story.title, _main_reason(story)))
        merged = len(pending) - len(keys)
    return CurationReport(tuple(kept), tuple(dropped), merged)


async def _pending_entries(session: AsyncSession) -> list[Entry]:
    # New entries, and updated ones (ingest detaches those from their story).
    query = (
        select(Entry)
        .where(Entry.historic.is_(False), Entry.story_id.is_(None))
        .options(selectinload(Entry.source))
        .order_by(Entry.id)
    )
    return list((await session.scalars(query)).all())


async def _story_for(session: AsyncSession, key: str, now: datetime) -> Story:
    story = await session.scalar(select(Story).where(Story.canonical_key == key))
    if story is None:
        story = Story(canonical_key=key, title="", created_at=now)
        session.add(story)
    return story


def _judge(story: Story, knowledge: Knowledge, now: datetime) -> None:
    verdicts = [
        (classify(e.title, e.text, lexicon=knowledge.lexicon, threshold=knowledge.threshold), e)
        for e in story.entries
    ]
    verdict, best = max(verdicts, key=lambda pair: (pair[0].relevant, pair[0].score))
    # The longest text tells the story best (an abstract beats a one-line news teaser).
    relevant = [e for v, e in verdicts if v.relevant]
    primary = max(relevant or [best], key=lambda e: len(e.text))
    story.title = primary.title
    story.link = primary.link
    published = [e.published_at for e in story.entries if e.published_at is not None]
    story.published_at = min(published) if published else primary.fetched_at
    _apply_verdict(story, verdict)
    weight = max(e.source.weight for e in story.entries)
    story.rank_score = rank_score(
        verdict, published_at=story.published_at, now=now, source_weight=weight
    )
    story.updated_at = now
    if not verdict.relevant:
        story.summary, story.what_it_means, story.terms_explained = "", "", []
        return
    explanation = explain(
        primary.title,
        primary.text,
        evidence=verdict.evidence,
        patients=verdict.patients,
        glossary=knowledge.glossary,
    )
    story.summary = explanation.summary
    story.what_it_means = explanation.what_it_means
    story.fk_grade = explanation.fk_grade
    story.terms_explained = [{"term": t.term, "plain": t.plain} for t in explanation.terms]


def _apply_verdict(story: Story, verdict: Verdict) -> None:
    story.relevant = verdict.relevant
    story.score = verdict.score
    story.reasons = list(verdict.reasons)
    story.diseases = list(verdict.diseases)
    story.therapy = verdict.therapy
    story.target = verdict.target
    story.evidence = verdict.evidence
    story.patients = verdict.patients


def _main_reason(story: Story) -> str:
    negatives = [r for r in story.reasons if "(-" in r or r.startswith("no ")]
    return negatives[0] if negatives else (story.reasons[0] if story.reasons else "score too low")


async def sources_of(session: AsyncSession, story_ids: list[int]) -> dict[int, list[str]]:
    """Source names per story, for 'seen on' lines in the newsletter."""
    rows = await session.execute(
        select(Entry.story_id, Source.name)
        .join(Source, Entry.source_id == Source.id)
        .where(Entry.story_id.in_(story_ids))
        .order_by(Entry.id)
    )
    found: dict[int, list[str]] = {}
    for story_id, name in rows:
        if story_id is not None and name not in found.setdefault(story_id, []):
            found[story_id].append(name)
    return found
