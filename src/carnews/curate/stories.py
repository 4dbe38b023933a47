"""Stories: run curate and explain over stored entries and save the results.

The database side of the curate and explain stages. Entries about the same
thing become one Story (``dedupe`` decides: shared DOI, PMID, NCT number or URL,
or the same title in other words); each story is
judged on its strongest entry, and the kept ones get their story card
(``explaining`` writes it, outside the judging transaction).
Dropped stories are kept too, with their reasons, so an editor can see why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from carnews.clock import Clock
from carnews.curate.classify import Verdict, classify, rank_score
from carnews.curate.dedupe import WINDOW, Candidate, StoryIndex
from carnews.curate.explaining import Explainer, ToExplain, explain_all
from carnews.curate.lexicon import Lexicon
from carnews.explain.extractive import GlossaryTerm
from carnews.gather.landing import with_landing
from carnews.storage import Database
from carnews.storage.models import Entry, Source, Story
from carnews.text.readability import split_sentences

MIN_SENTENCES_TO_EXPLAIN = 4
# Where a study's own record lives: literature databases, trial registries, preprint servers.
RECORD_HOSTS = (
    "pubmed.ncbi.nlm.nih.gov", "ncbi.nlm.nih.gov", "europepmc.org", "clinicaltrials.gov",
    "medrxiv.org", "biorxiv.org", "clinicaltrialsregister.eu", "isrctn.com",
)  # fmt: skip
T = TypeVar("T")


@dataclass(frozen=True)
class CurationReport:
    kept: tuple[tuple[int, str], ...]
    dropped: tuple[tuple[int, str, str], ...]  # id, title, main reason
    merged_entries: int
    warnings: tuple[str, ...] = ()  # e.g. an LLM summary refused and replaced


@dataclass(frozen=True)
class Knowledge:
    """The editor-extendable data the stages read: lexicon, glossary, threshold, and each
    source's own topic (``sources[].topic_diseases``) by source name."""

    lexicon: Lexicon
    glossary: tuple[GlossaryTerm, ...]
    threshold: float
    explainer: Explainer
    topics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


async def curate_new_entries(db: Database, knowledge: Knowledge, clock: Clock) -> CurationReport:
    """Attach every new or changed entry to its story, (re)judge those stories, explain
    the kept ones.

    One short write attaches and judges; the explainer (maybe an LLM taking a minute a
    story) then runs with no transaction open (see ``explaining``). A kept story stays
    ``awaiting_explanation`` until its explanation is stored, and the next run judges
    and explains again any story a stopped run left so.
    """
    now = clock()
    judged = await _judge_new_entries(db, knowledge, now)
    warnings = await explain_all(db, knowledge.explainer, judged.to_explain)
    stories = judged.stories
    kept = tuple((s.id, s.title) for s in stories if s.relevant)
    dropped = tuple((s.id, s.title, _main_reason(s)) for s in stories if not s.relevant)
    return CurationReport(kept, dropped, judged.merged_entries, tuple(warnings))


@dataclass(frozen=True)
class _Judged:
    stories: list[Story]
    to_explain: list[ToExplain]
    merged_entries: int


async def _judge_new_entries(db: Database, knowledge: Knowledge, now: datetime) -> _Judged:
    """One write: new entries join their stories, which are judged with any story an
    earlier run left awaiting its explanation."""
    async with db.session() as session:
        pending = await _pending_entries(session)
        index = await _index_for(session, pending)
        placed, created = _attach(pending, index)
        ids = await _insert_stories(session, created, now)
        for entry, story_id in placed:
            entry.story_id = ids.get(story_id, story_id)
        touched = {ids.get(story_id, story_id) for _, story_id in placed}
        touched.update(await session.scalars(select(Story.id).where(Story.awaiting_explanation)))
        stories: list[Story] = []
        to_explain: list[ToExplain] = []
        # Copies of one study (a DOI's PubMed and journal records) share title and text.
        verdicts: dict[tuple[str, str], Verdict] = {}
        for chunk in _chunks(sorted(touched)):
            for story in await _with_entries(session, chunk):
                if not story.entries:  # its only entry is detached for an update: later
                    continue
                stories.append(story)
                primary = _judge(story, knowledge, now, verdicts)
                if primary is not None:
                    to_explain.append(ToExplain.of(story, primary, _text(primary)))
    return _Judged(stories, to_explain, len(pending) - len(created))


def _attach(
    pending: list[Entry], index: StoryIndex
) -> tuple[list[tuple[Entry, int]], list[tuple[str, str]]]:
    """The story each entry belongs in, and the stories to make (key and title).

    Stories to make are numbered -1, -2, … in the order they are needed: they get an
    id only when inserted, all at once.
    """
    placed: list[tuple[Entry, int]] = []
    created: list[tuple[str, str]] = []
    for entry in pending:
        candidate = _candidate(entry)
        story_id = index.find(candidate)
        if story_id is None:
            created.append((entry.canonical_key, entry.title))
            story_id = -len(created)
        placed.append((entry, story_id))
        index.add(story_id, candidate)
    return placed, created


async def _insert_stories(
    session: AsyncSession, created: list[tuple[str, str]], now: datetime
) -> dict[int, int]:
    """Insert new stories in one statement; their ids by the numbers ``_attach`` gave.

    One row after another in creation order, so ids come out as they did when each
    story was inserted on its own; keys are unique, so they find the ids again.
    """
    if not created:
        return {}
    rows = [{"canonical_key": key, "title": title, "created_at": now} for key, title in created]
    await session.execute(insert(Story), rows)
    by_key: dict[str, int] = {}
    for chunk in _chunks([key for key, _ in created]):
        query = select(Story.canonical_key, Story.id).where(Story.canonical_key.in_(chunk))
        by_key.update((key, story_id) for key, story_id in await session.execute(query))
    return {-1 - number: by_key[key] for number, (key, _) in enumerate(created)}


CHUNK = 2000  # ids per IN (...) query: well within every database's limit on parameters


def _chunks(values: list[T]) -> list[list[T]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


async def _pending_entries(session: AsyncSession) -> list[Entry]:
    # New entries, and updated ones (ingest detaches those from their story).
    query = (
        select(Entry)
        .where(Entry.historic.is_(False), Entry.story_id.is_(None))
        .order_by(Entry.published_at, Entry.id)
    )
    return list((await session.scalars(query)).all())


def _candidate(entry: Entry) -> Candidate:
    return Candidate(entry.doi, entry.pmid, entry.nct, entry.canonical_key, entry.title,
                     _text(entry), entry.published_at)  # fmt: skip


def _text(entry: Entry) -> str:
    """What an entry says: its own text and what its landing page adds (gather.enrich)."""
    return with_landing(entry.title, entry.text, entry.landing_text)


async def _index_for(session: AsyncSession, pending: list[Entry]) -> StoryIndex:
    """Only the stories the pending entries could join: same identifiers, or near in time."""
    index = StoryIndex()
    keys = {e.canonical_key for e in pending}
    # A story keeps its key even while its only entry is detached for an update.
    for known_id, known_key in await session.execute(
        select(Story.id, Story.canonical_key).where(Story.canonical_key.in_(keys))
    ):
        index.by_key[known_key] = known_id
    conditions: list[ColumnElement[bool]] = [
        column.in_(values)
        for column, values in (
            (Entry.doi, {e.doi for e in pending if e.doi}),
            (Entry.pmid, {e.pmid for e in pending if e.pmid}),
            (Entry.nct, {e.nct for e in pending if e.nct}),
            (Entry.canonical_key, keys),
        )
        if values
    ]
    dates = [e.published_at for e in pending if e.published_at is not None]
    if dates:
        conditions.append(Entry.published_at >= min(dates) - WINDOW)
    if not conditions:
        return index
    columns = (Entry.story_id, Entry.doi, Entry.pmid, Entry.nct, Entry.canonical_key,
               Entry.title, Entry.published_at)  # fmt: skip
    query = select(*columns).where(Entry.story_id.is_not(None), or_(*conditions))
    for story_id, doi, pmid, nct, key, title, published in await session.execute(
        query.order_by(Entry.id)
    ):
        if story_id is not None:
            index.add(story_id, Candidate(doi, pmid, nct, key, title, "", published))
    return index


async def _with_entries(session: AsyncSession, story_ids: list[int]) -> list[Story]:
    query = (
        select(Story)
        .where(Story.id.in_(story_ids))
        .options(selectinload(Story.entries).selectinload(Entry.source))
        .order_by(Story.id)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(query)).all())


# What judging a story may change. All of it is marked changed before a story is
# judged, so that every story is written with the same columns and the database gets
# one executemany UPDATE, not one UPDATE per set of columns that changed. A kept story
# keeps its old card and summary until the new ones are stored (the flag keeps it out
# of drafts).
_JUDGED = (
    *("title", "link", "published_at", "relevant", "score", "reasons", "diseases", "therapy"),
    *("target", "evidence", "patients", "rank_score", "updated_at", "summary", "what_it_means"),
    *("terms_explained", "awaiting_explanation", "card", "source_kind"),
)


def _judge(
    story: Story, knowledge: Knowledge, now: datetime, known: dict[tuple[str, str], Verdict]
) -> Entry | None:
    """Classify, tag and rank a story; return the entry to explain it from, if it is kept.

    ``known`` holds verdicts already reached in this run, by title and text.
    """
    for column in _JUDGED:
        flag_modified(story, column)
    verdicts = [(_classify(e, knowledge, known), e) for e in story.entries]
    verdict, best = max(verdicts, key=lambda pair: (pair[0].relevant, pair[0].score))
    relevant = [e for v, e in verdicts if v.relevant]
    primary = _card_source(relevant) or best
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
    story.awaiting_explanation = verdict.relevant
    if not verdict.relevant:
        story.summary, story.what_it_means, story.terms_explained = "", "", []
        story.card, story.source_kind = {}, None
        return None
    return primary


def _classify(entry: Entry, knowledge: Knowledge, known: dict[tuple[str, str], Verdict]) -> Verdict:
    if topics := knowledge.topics.get(entry.source.name, ()):
        # Judged with its source's topic, so not shared with copies from other sources.
        return classify(entry.title, _text(entry), lexicon=knowledge.lexicon,
                        threshold=knowledge.threshold, topic_diseases=topics)  # fmt: skip
    key = (entry.title, _text(entry))
    if key not in known:
        known[key] = classify(
            entry.title, key[1], lexicon=knowledge.lexicon, threshold=knowledge.threshold
        )
    return known[key]


def _card_source(entries: list[Entry]) -> Entry | None:
    """The entry to write a story's card from: the work itself, where carnews has it.

    carnews writes the card in its own plain words from the extracted facts, so the
    source's reading grade does not matter; whose facts they are does. A news item about
    a study retells it ("2 people were treated" beside the paper's 24), so the study's
    own record comes first: a PubMed, Europe PMC or preprint record, or a trial's
    registration (anything that carries a PMID, an NCT number or the service's own labels).
    A one-line teaser says too little, so entries of a few sentences come before
    teasers, and among equals the one that says most.
    """
    if len(entries) <= 1:  # nothing to choose between
        return entries[0] if entries else None

    def preference(entry: Entry) -> tuple[bool, int, int]:
        text = _text(entry)
        says_enough = len(split_sentences(text)) >= MIN_SENTENCES_TO_EXPLAIN
        return (says_enough, _is_the_work_itself(entry), len(text))

    return max(entries, key=preference)


def _is_the_work_itself(entry: Entry) -> int:
    """2: the record itself (the service's labels, or a link to the record's own page);
    1: an item that names the record (a PMID or NCT number in a news story); 0: neither."""
    host = (urlsplit(entry.link or "").hostname or "").lower()
    if entry.source_labels or any(host == h or host.endswith("." + h) for h in RECORD_HOSTS):
        return 2
    return 1 if entry.pmid or entry.nct else 0


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
    """Source names per story as readers see them (``Source.display_name``), for 'seen
    on' lines in the newsletter; a source not synced since it had one shows its name."""
    rows = await session.execute(
        select(Entry.story_id, func.coalesce(Source.display_name, Source.name))
        .join(Source, Entry.source_id == Source.id)
        .where(Entry.story_id.in_(story_ids))
        .order_by(Entry.id)
    )
    found: dict[int, list[str]] = {}
    for story_id, name in rows:
        if story_id is not None and name not in found.setdefault(story_id, []):
            found[story_id].append(name)
    return found
