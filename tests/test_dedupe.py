"""One study seen in four source styles becomes one story; other studies stay apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from carnews.clock import Clock
from carnews.curate.dedupe import Candidate, StoryIndex, markers
from carnews.curate.stories import curate_new_entries
from carnews.jobs import knowledge
from carnews.storage import Database
from carnews.storage.models import Entry, Source, Story

DAY = datetime(2026, 11, 10, tzinfo=UTC)
PAPER = "CD19 CAR T cells in refractory systemic sclerosis: an open-label phase 1 trial"
ABSTRACT = (
    "Twelve patients with diffuse cutaneous systemic sclerosis received CD19 CAR T cells "
    "after lymphodepletion. Skin scores improved in 10 of 12 patients at 6 months."
)


def candidate(title: str, text: str = "", *, days: int = 0, **ids: str) -> Candidate:
    return Candidate(
        ids.get("doi"),
        ids.get("pmid"),
        ids.get("nct"),
        ids.get("key", f"url:{title}"),
        title,
        text,
        DAY + timedelta(days=days),
    )


def test_identifiers_then_titles_then_quoted_titles() -> None:
    index = StoryIndex()
    index.add(1, candidate(PAPER, doi="10.1000/ssc.1", pmid="41000001"))
    assert index.find(candidate("Other words", pmid="41000001")) == 1
    assert index.find(candidate("Other words", doi="10.1000/ssc.1")) == 1
    reworded = "Open-label phase 1 trial: CD19 CAR T cells in refractory systemic sclerosis"
    assert index.find(candidate(reworded, days=3)) == 1
    press = candidate(
        "Hospital team reports skin gains after cell therapy",
        f"The paper, '{PAPER}', appears today.",
        days=2,
    )
    assert index.find(press) == 1


def test_similar_titles_of_other_studies_stay_apart() -> None:
    index = StoryIndex()
    index.add(1, candidate(PAPER))
    for other in (
        PAPER.replace("phase 1", "phase 2"),
        PAPER.replace("CD19", "BCMA"),
        "CD19 CAR T cells in refractory lupus nephritis: an open-label phase 1 trial",
    ):
        assert index.find(candidate(other)) is None, other
    later = candidate(PAPER, days=90, key="url:https://later.test/")
    assert index.find(later) is None, "outside the time window"
    assert markers("Phase 1 of CD19 CAR-T in SLE") == {"1", "CD19", "CAR-T", "SLE"}


async def _source(db: Database, name: str, now: datetime) -> int:
    async with db.session() as session:
        source = Source(name=name, url=f"https://{name}.test/feed", config_url="", created_at=now)
        session.add(source)
        await session.flush()
        return source.id


async def _entry(
    db: Database, source_id: int, title: str, text: str, days: int, **ids: str
) -> None:
    async with db.session() as session:
        session.add(
            Entry(
                source_id=source_id,
                guid=f"{source_id}:{title}",
                title=title,
                text=text,
                clean_html=f"<p>{text}</p>",
                content_hash="x",
                fetched_at=DAY,
                published_at=DAY + timedelta(days=days),
                doi=ids.get("doi"),
                pmid=ids.get("pmid"),
                nct=ids.get("nct"),
                canonical_key=ids.get("key", f"url:https://x.test/{source_id}"),
            )
        )


async def test_four_source_styles_become_one_story(db: Database, clock: Clock) -> None:
    now = clock()
    pubmed, journal, press, news, trials = [
        await _source(db, name, now) for name in ("pubmed", "journal", "press", "news", "trials")
    ]
    await _entry(
        db,
        pubmed,
        PAPER + ".",
        ABSTRACT,
        0,
        doi="10.1000/ssc.1",
        pmid="41000001",
        key="doi:10.1000/ssc.1",
    )
    await _entry(db, journal, PAPER, ABSTRACT, 1, doi="10.1000/ssc.1", key="doi:10.1000/ssc.1")
    await _entry(
        db,
        press,
        "University hospital: CAR-T cells soften skin in scleroderma",
        f"Results of '{PAPER}' were published today. " + ABSTRACT,
        1,
    )
    await _entry(
        db,
        news,
        "Open-label phase 1 trial: CD19 CAR T cells in refractory systemic sclerosis",
        "Patients with systemic sclerosis improved after CAR-T.",
        2,
    )
    await _entry(
        db,
        trials,
        "CD19 CAR-T for systemic sclerosis (SSc-CART)",
        "Recruiting.",
        0,
        nct="NCT07000001",
        key="nct:NCT07000001",
    )
    report = await curate_new_entries(db, knowledge(2.0), clock)
    async with db.session() as session:
        groups = {
            story_id: sorted(name for name, in_story in rows if in_story == story_id)
            for rows in [
                list(
                    await session.execute(
                        select(Source.name, Entry.story_id).join(
                            Entry, Entry.source_id == Source.id
                        )
                    )
                )
            ]
            for _, story_id in rows
        }
        stories = (await session.scalars(select(Story))).all()
    assert sorted(groups.values()) == [["journal", "news", "press", "pubmed"], ["trials"]]
    assert len(stories) == 2 and report.merged_entries == 3
