"""Explaining kept stories: each gets its checked story card, with no transaction open.

The explainer may be an LLM taking a minute a story. On SQLite a transaction that
waited for it would hold the one write lock all that while, and every page and
unsubscribe would wait with it. So ``stories`` judges in one short write and flags each
kept story ``awaiting_explanation``; here each story is explained with no transaction
open and the explanations are stored in short writes of their own, which clear the
flag. A run that stops in between leaves the flag for the next run.

What is stored is the card that passed the checks (:mod:`carnews.explain.checks`), or
the safe fallback card flagged for the editor; never the source's raw abstract. The
story's older columns (summary, what it means, grades, terms) are written from the
same card, so every reader of them sees what the card says.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import httpx
from sqlalchemy import Table, bindparam, update

from carnews.curate.lexicon import Lexicon
from carnews.explain.card import unexplained_terms
from carnews.explain.checks import Story as CheckedStory
from carnews.explain.checks import explain_story
from carnews.explain.llm import LlmConfig
from carnews.explain.llmcard import explain_story_with_llm
from carnews.explain.plain import TERMS
from carnews.storage import Database
from carnews.storage.models import Entry, Story
from carnews.text.readability import smog_grade

# The source kinds a source's own kind settles, whatever its text says.
_KIND_OF_SOURCE = {"clinicaltrials": "trial registry"}


@dataclass(frozen=True)
class ToExplain:
    """A kept story as judged, with the entry to explain it from and that entry's own
    labels (PubMed publication types, ClinicalTrials.gov phases, the kind of source)."""

    story_id: int
    judged_at: datetime  # the story's updated_at: a later judgement makes this one stale
    story_title: str
    title: str
    text: str
    link: str
    source_kind: str | None = None
    publication_types: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()

    @classmethod
    def of(cls, story: Story, primary: Entry, text: str) -> ToExplain:
        """``text`` is what curation read of the entry (its landing page's text included)."""
        assert story.updated_at is not None  # set when it was judged
        labels = primary.source_labels or {}
        kind = labels.get("source_kind") or _KIND_OF_SOURCE.get(primary.source.kind)
        return cls(story.id, story.updated_at, story.title, primary.title, text,
                   primary.link or "", kind, _strings(labels.get("publication_types")),
                   _strings(labels.get("phases")))  # fmt: skip


def _strings(value: object) -> tuple[str, ...]:
    """A stored list of labels; anything else (an older row, a hand edit) is no label."""
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


# A kept story in, its checked card out: offline by default, an LLM's if configured.
Explainer = Callable[[ToExplain], Awaitable[CheckedStory]]


def card_explainer(lexicon: Lexicon) -> Explainer:
    """The offline default: the card carnews's templates write from the extracted facts."""

    async def explainer(story: ToExplain) -> CheckedStory:
        return explain_story(story.title, story.text, lexicon=lexicon, link=story.link,
                             source_kind=story.source_kind, phases=story.phases,
                             publication_types=story.publication_types)  # fmt: skip

    return explainer


def llm_card_explainer(client: httpx.AsyncClient, config: LlmConfig, lexicon: Lexicon) -> Explainer:
    """The optional LLM rewrite of the card, held to the same checks (else the template's)."""

    async def explainer(story: ToExplain) -> CheckedStory:
        return await explain_story_with_llm(
            client, config, story.title, story.text, lexicon=lexicon, link=story.link,
            source_kind=story.source_kind, phases=story.phases,
            publication_types=story.publication_types,
        )  # fmt: skip

    return explainer


STORE_EVERY = 1.0  # seconds: explanations made faster than this are stored together
STORE_BATCH = 2000  # at most this many rows in one UPDATE


async def explain_all(db: Database, explainer: Explainer, stories: list[ToExplain]) -> list[str]:
    """Explain each story with no transaction open; store what is done every second or so.

    A slow explainer (an LLM) has each card stored as soon as it is made; a fast one
    (the template default) has hundreds stored in one statement. A card that failed
    its checks is stored as the safe fallback card, and named in the warnings.
    """
    warnings: list[str] = []
    done: list[tuple[ToExplain, CheckedStory]] = []
    last_stored = time.monotonic()
    for story in stories:
        checked = await explainer(story)
        warnings += [f"{story.story_title}: {w}" for w in _warnings(checked)]
        done.append((story, checked))
        if len(done) >= STORE_BATCH or time.monotonic() - last_stored >= STORE_EVERY:
            await _store_explanations(db, done)
            done, last_stored = [], time.monotonic()
    if done:
        await _store_explanations(db, done)
    return warnings


def _warnings(checked: CheckedStory) -> list[str]:
    found = list(checked.warnings)
    if checked.needs_editor:
        failed = ", ".join(name for name, passed in checked.checks.items() if not passed)
        found.append(f"the card failed {failed}; a safe card waits for an editor's summary")
    return found


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


async def _store_explanations(db: Database, done: list[tuple[ToExplain, CheckedStory]]) -> None:
    """One short write, one executemany UPDATE, for a batch of explanations."""
    rows = [{"b_id": story.story_id, "b_judged_at": story.judged_at,
             **card_columns(checked)} for story, checked in done]  # fmt: skip
    async with db.session() as session:
        await session.execute(_STORE, rows)


def card_columns(checked: CheckedStory) -> dict[str, Any]:
    """The story's columns as the card says them: summary is the card's summary."""
    card = checked.card
    return {
        "card": card.to_dict(),
        "source_kind": checked.facts.source_kind,
        "summary": card.summary,
        "what_it_means": card.what_it_means,
        "fk_grade": checked.grade,
        "smog_grade": smog_grade(card.summary),
        "terms_explained": [{"term": t, "plain": TERMS.get(t, "")} for t in card.terms_explained],
        "unexplained_terms": list(unexplained_terms(card)),
    }
