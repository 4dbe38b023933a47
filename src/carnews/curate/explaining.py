"""Explaining kept stories: the explainer runs with no transaction open.

The explainer may be an LLM taking a minute a story. On SQLite a transaction that
waited for it would hold the one write lock all that while, and every page and
unsubscribe would wait with it. So ``stories`` judges in one short write and flags each
kept story ``awaiting_explanation``; here each story is explained with no transaction
open and the explanations are stored in short writes of their own, which clear the
flag. A run that stops in between leaves the flag for the next run.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, update

from carnews.explain.extractive import Explanation, GlossaryTerm, explain
from carnews.storage import Database
from carnews.storage.models import Entry, Story
from carnews.text.readability import smog_grade

# (title, text, evidence, patients) -> explanation: offline by default, an LLM if configured.
Explainer = Callable[[str, str, str, int | None], Awaitable[Explanation]]


def extractive_explainer(glossary: tuple[GlossaryTerm, ...]) -> Explainer:
    """The offline default: sentences from the source, framed, graded and glossed."""

    async def explainer(title: str, text: str, evidence: str, patients: int | None) -> Explanation:
        return explain(title, text, evidence=evidence, patients=patients, glossary=glossary)

    return explainer


@dataclass(frozen=True)
class ToExplain:
    """A kept story as judged, with the entry to explain it from."""

    story_id: int
    judged_at: datetime  # the story's updated_at: a later judgement makes this one stale
    story_title: str
    title: str
    text: str
    evidence: str
    patients: int | None

    @classmethod
    def of(cls, story: Story, primary: Entry, text: str) -> ToExplain:
        """``text`` is what curation read of the entry (its landing page's text included)."""
        assert story.updated_at is not None  # set when it was judged
        return cls(story.id, story.updated_at, story.title, primary.title, text,
                   story.evidence, story.patients)  # fmt: skip


STORE_EVERY = 1.0  # seconds: explanations made faster than this are stored together
STORE_BATCH = 2000  # at most this many rows in one UPDATE


async def explain_all(db: Database, explainer: Explainer, stories: list[ToExplain]) -> list[str]:
    """Explain each story with no transaction open; store what is done every second or so.

    A slow explainer (an LLM) has each explanation stored as soon as it is made; a fast
    one (the extractive default) has hundreds stored in one statement.
    """
    warnings: list[str] = []
    done: list[tuple[ToExplain, Explanation]] = []
    last_stored = time.monotonic()
    for story in stories:
        explanation = await explainer(story.title, story.text, story.evidence, story.patients)
        warnings += [f"{story.story_title}: {w}" for w in explanation.warnings]
        done.append((story, explanation))
        if len(done) >= STORE_BATCH or time.monotonic() - last_stored >= STORE_EVERY:
            await _store_explanations(db, done)
            done, last_stored = [], time.monotonic()
    if done:
        await _store_explanations(db, done)
    return warnings


# A plain (Core) UPDATE, so a list of rows makes one executemany.
_STORIES = cast(Table, Story.__table__)
_STORE = (
    update(_STORIES)
    .where(
        _STORIES.c.id == bindparam("b_id"),
        _STORIES.c.awaiting_explanation.is_(True),
        # Judged again since (an entry changed): that run stores its own explanation.
        _STORIES.c.updated_at == bindparam("b_judged_at"),
    )
    .values(awaiting_explanation=False)
)


async def _store_explanations(db: Database, done: list[tuple[ToExplain, Explanation]]) -> None:
    """One short write, one executemany UPDATE, for a batch of explanations."""
    rows = [{"b_id": story.story_id, "b_judged_at": story.judged_at,
             **_explanation_columns(explanation)} for story, explanation in done]  # fmt: skip
    async with db.session() as session:
        await session.execute(_STORE, rows)


def _explanation_columns(explanation: Explanation) -> dict[str, Any]:
    return {
        "summary": explanation.summary,
        "what_it_means": explanation.what_it_means,
        "fk_grade": explanation.fk_grade,
        "smog_grade": smog_grade(explanation.summary),
        "terms_explained": [{"term": t.term, "plain": t.plain} for t in explanation.terms],
        "unexplained_terms": list(explanation.unexplained_terms),
    }
