"""Readers see sources by their display names, never by config names like 'pubmed-local'."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from carnews.clock import Clock
from carnews.curate.stories import sources_of
from carnews.gather.sources import display_name, sync_sources, tidy_name
from carnews.settings import SourceSettings
from carnews.storage import Database
from carnews.storage.models import Entry, Source, Story


@pytest.mark.parametrize(
    ("config", "shown"),
    [
        (SourceSettings(name="pubmed-local", url="https://x.test", kind="pubmed"), "PubMed"),
        (SourceSettings(name="trials-lupus", url="https://x.test", kind="clinicaltrials"),
         "ClinicalTrials.gov"),
        (SourceSettings(name="lancet-rheumatology", url="https://x.test"), "Lancet rheumatology"),
        (SourceSettings(name="medrxiv-all", url="https://x.test"), "medRxiv all"),
        # A name already written for people is kept, not split at its dot.
        (SourceSettings(name="ClinicalTrials.gov", url="https://x.test"), "ClinicalTrials.gov"),
        (SourceSettings(name="Cell Therapy News", url="https://x.test"), "Cell Therapy News"),
        (SourceSettings(name="ard", url="https://x.test",
                        display_name="  Annals of the\nRheumatic Diseases "),
         "Annals of the Rheumatic Diseases"),
    ],
)  # fmt: skip
def test_display_names(config: SourceSettings, shown: str) -> None:
    assert display_name(config) == shown


def test_a_name_with_nothing_to_tidy_is_kept() -> None:
    assert tidy_name("---") == "---"


@pytest.mark.both_databases
async def test_the_newsletter_names_sources_as_configured(db: Database, clock: Clock) -> None:
    configured = [
        SourceSettings(name="pubmed-local", url="https://x.test/a", kind="pubmed"),
        SourceSettings(name="news-site", url="https://x.test/b", display_name="Lupus Today"),
    ]
    await sync_sources(db, configured, clock())
    async with db.session() as session:
        sources = {s.name: s for s in (await session.scalars(select(Source))).all()}
        story = Story(canonical_key="k", title="t", created_at=clock())
        session.add(story)
        await session.flush()
        for number, name in enumerate(sources, start=1):
            session.add(Entry(source_id=sources[name].id, story_id=story.id, guid=str(number),
                              canonical_key=f"k{number}", title="t", content_hash=str(number),
                              fetched_at=clock()))  # fmt: skip
        await session.flush()
        assert await sources_of(session, [story.id]) == {story.id: ["PubMed", "Lupus Today"]}
