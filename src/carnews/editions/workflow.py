"""The editor's changes to an edition: wording, order, stories, intro, subject, fate, send time.

Each change runs in one transaction through ``_change``, which enforces the two rules of
the review gate: only an edition not yet sending can change, and a change to an approved
edition withdraws its approval and tells the editors (``editions.notify``), whichever door
the change came through. Approving (``approve``) asks for every line of the review
``CHECKLIST``, from the web form and the command line alike, and audits the lines
confirmed. Every change is audited; text edits carry what the text was before and after.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.clock import Clock
from carnews.editions import review
from carnews.editions.review import (
    EDITABLE,
    content_hash,
    load_edition,
    require_state,
    stories_in_editions,
)
from carnews.errors import EditionStateError, FormError, NotFoundError
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import Edition, EditionState, EditionStory, Story

# Sections of the card an editor writes as one text each ('unknowns' is one per line).
CARD_SECTIONS = ("what_was_tested", "who_took_part", "what_happened", "side_effects",
                 "unknowns", "what_it_means", "quote_intro", "quote")  # fmt: skip
FIELDS = ("headline", "summary", *CARD_SECTIONS)
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TEXT = 5000  # a section longer than this is a paste gone wrong, not a summary
# What an approver confirms of the draft before approving it, by name (the form's field,
# the command line's --checked) and as the line a person reads.
CHECKLIST = {
    "main_message": "The main message of each story is clear",
    "harms": "Harms and side effects are stated",
    "unknowns": "What we don't know is stated",
    "no_advice": "Nothing advises anyone to change their treatment",
}


@dataclass(frozen=True)
class Change:
    edition_id: int
    changed: bool  # whether what a reader sees changed
    withdrawn: bool = False  # an approval was withdrawn by it: the editors are told
    what: str = ""  # the change in a few words, for the editors' mail


Mutation = Callable[[AsyncSession, Edition], Any]


async def approve(
    db: Database, clock: Clock, edition_id: int, approver: str, checked: Collection[str]
) -> str:
    """Approve the edition once its approver has confirmed every line of the checklist;
    return the approved content hash. The audit records the lines confirmed."""
    unknown = sorted(set(checked) - set(CHECKLIST))
    if unknown:
        raise FormError(f"{', '.join(unknown)} is not a line of the checklist",
                        hint="The lines are: " + ", ".join(CHECKLIST))  # fmt: skip
    missing = [label for name, label in CHECKLIST.items() if name not in checked]
    if missing:
        raise FormError(
            "confirm every line of the checklist before approving: " + "; ".join(missing),
            hint="Check the draft against each line, then confirm it (on the review page, "
            "tick it; on the command line, --checked NAME or --confirm-checklist).",
        )
    return await review.approve(db, clock, edition_id, approver, checklist=list(CHECKLIST))


async def _change(
    db: Database, settings: Settings, clock: Clock, edition_id: int, actor: str, what: str,
    mutate: Mutation,
) -> Change:  # fmt: skip
    """Make the change; an approval it withdrew is told to the editors once it is saved
    (a note that cannot go out is logged and undoes nothing)."""
    change = await _save(db, clock, edition_id, actor, what, mutate)
    if change.withdrawn:
        # Imported here: notify brings the mail stack, which the CLI's start-up (this
        # module is imported for every command) should not pay for.
        from carnews.editions import notify

        await notify.approval_withdrawn(db, settings, clock, edition_id, actor, what)
    return change


async def _save(
    db: Database, clock: Clock, edition_id: int, actor: str, what: str, mutate: Mutation
) -> Change:
    now = clock()
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        require_state(edition, EDITABLE, what)
        before = content_hash(edition)
        details: list[dict[str, Any]] = await mutate(session, edition) or []
        await session.flush()
        if content_hash(edition) == before:
            return Change(edition_id, False)
        withdrawn = edition.state == EditionState.APPROVED
        if withdrawn:
            _unapprove(edition)
            audit(session, now, actor, "approval_withdrawn", ("edition", edition_id), reason=what)
        for detail in details:
            audit(session, now, actor, detail.pop("action"), ("edition", edition_id), **detail)
        return Change(edition_id, True, withdrawn, what)


def _unapprove(edition: Edition) -> None:
    edition.state = EditionState.IN_REVIEW
    edition.approved_by = edition.approved_at = edition.approved_hash = None


def clean_text(field: str, value: str, *, required: bool = False) -> str:
    """An editor's text as stored: line ends normalised, no control characters but line
    breaks and tabs (PostgreSQL refuses NUL, and XML, so the feed, refuses the others)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text).strip()
    if len(text) > MAX_TEXT:
        raise FormError(f"{field} is {len(text)} characters; the most is {MAX_TEXT}")
    if required and not text:
        raise FormError(f"{field} cannot be empty")
    return text


def _item(edition: Edition, story_id: int) -> EditionStory:
    for item in edition.items:
        if item.story_id == story_id:
            return item
    raise NotFoundError(
        f"edition {edition.id} has no story {story_id}",
        hint=f"Its stories are {sorted(i.story_id for i in edition.items)}.",
    )


def _set_field(item: EditionStory, field: str, text: str) -> tuple[Any, Any]:
    """Write one field; return (before, after) as stored."""
    if field not in FIELDS:
        raise FormError(f"{field!r} is not a part of a story", hint="One of: " + ", ".join(FIELDS))
    card = dict(item.card)  # a new dict: the JSON column notices only a new value
    if field == "headline":
        before, item.headline = item.headline, clean_text(field, text, required=True)
        if card:
            card["headline"] = item.headline
            item.card = card
        return before, item.headline
    if field == "summary":
        before, item.summary = item.summary, clean_text(field, text)
        return before, item.summary
    if field == "what_it_means":
        before, item.what_it_means = item.what_it_means, clean_text(field, text)
        if card:
            card["what_it_means"] = item.what_it_means
            item.card = card
        return before, item.what_it_means
    if not card:
        raise FormError(f"story {item.story_id} has no card yet, so it has no {field}")
    after: Any = clean_text(field, text)
    if field == "unknowns":
        after = [line.strip() for line in after.split("\n") if line.strip()]
    elif field == "side_effects" and not after:
        after = None  # the card's "the source says nothing about safety"
    previous = card.get(field)
    card[field] = after
    item.card = card
    return previous, after


async def edit_story(
    db: Database, settings: Settings, clock: Clock, edition_id: int, story_id: int,
    texts: Mapping[str, str], *, actor: str,
) -> Change:  # fmt: skip
    """Set any of a story's fields (see FIELDS); fields whose text is unchanged are left."""

    async def mutate(session: AsyncSession, edition: Edition) -> list[dict[str, Any]]:
        item = _item(edition, story_id)
        details = []
        for field, text in texts.items():
            before, after = _set_field(item, field, text)
            if before != after:
                details.append({"action": "edit", "story": story_id, "field": field,
                                "before": before, "after": after})  # fmt: skip
        return details

    return await _change(db, settings, clock, edition_id, actor, f"edit story {story_id}", mutate)


async def move_story(
    db: Database,
    settings: Settings,
    clock: Clock,
    edition_id: int,
    story_id: int,
    by: int,
    *,
    actor: str,
) -> Change:
    """Move a story ``by`` places (negative: up), stopping at either end."""

    async def mutate(session: AsyncSession, edition: Edition) -> list[dict[str, Any]]:
        items = sorted(edition.items, key=lambda i: i.position)
        item = _item(edition, story_id)
        old = items.index(item)
        new = max(0, min(len(items) - 1, old + by))
        items.insert(new, items.pop(old))
        for position, each in enumerate(items, start=1):
            each.position = position
        return [{"action": "move", "story": story_id, "before": old + 1, "after": new + 1}]

    return await _change(db, settings, clock, edition_id, actor, f"move story {story_id}", mutate)


async def drop_story(
    db: Database, settings: Settings, clock: Clock, edition_id: int, story_id: int, *, actor: str
) -> Change:
    async def mutate(session: AsyncSession, edition: Edition) -> list[dict[str, Any]]:
        item = _item(edition, story_id)
        edition.items.remove(item)
        for position, each in enumerate(sorted(edition.items, key=lambda i: i.position), 1):
            each.position = position
        return [{"action": "drop", "story": story_id, "headline": item.headline}]

    return await _change(db, settings, clock, edition_id, actor, f"remove story {story_id}", mutate)


async def add_story(
    db: Database, settings: Settings, clock: Clock, edition_id: int, story_id: int, *, actor: str
) -> Change:
    """Add a story at the end, with its own wording and card as this edition's copy.

    Any story may be added, one carnews dropped as not relevant too: the editor decides.
    """

    async def mutate(session: AsyncSession, edition: Edition) -> list[dict[str, Any]]:
        story = await session.get(Story, story_id)
        if story is None:
            raise NotFoundError(f"there is no story {story_id}")
        if any(item.story_id == story_id for item in edition.items):
            raise FormError(f"story {story_id} is already in edition {edition.id}")
        last = max((item.position for item in edition.items), default=0)
        edition.items.append(
            EditionStory(story_id=story_id, position=last + 1, headline=story.title,
                         summary=story.summary, what_it_means=story.what_it_means,
                         card=dict(story.card or {}))
        )  # fmt: skip
        return [{"action": "add", "story": story_id, "relevant": story.relevant}]

    return await _change(db, settings, clock, edition_id, actor, f"add story {story_id}", mutate)


async def set_intro(
    db: Database, settings: Settings, clock: Clock, edition_id: int, text: str, *, actor: str
) -> Change:
    async def mutate(session: AsyncSession, edition: Edition) -> list[dict[str, Any]]:
        before, edition.intro = edition.intro, clean_text("the intro", text)
        return [{"action": "intro", "before": before, "after": edition.intro}]

    return await _change(db, settings, clock, edition_id, actor, "change the intro", mutate)


async def set_subject(
    db: Database, settings: Settings, clock: Clock, edition_id: int, text: str, *, actor: str
) -> Change:
    """The subject is the edition's title: the email's subject and the archive's heading."""

    async def mutate(session: AsyncSession, edition: Edition) -> list[dict[str, Any]]:
        subject = " ".join(clean_text("the subject", text, required=True).split())
        if len(subject) > 200:
            raise FormError("a subject of over 200 characters is cut off by mail programs")
        before, edition.title = edition.title, subject
        return [{"action": "subject", "before": before, "after": subject}]

    return await _change(db, settings, clock, edition_id, actor, "change the subject", mutate)


async def withdraw(db: Database, clock: Clock, edition_id: int, *, actor: str) -> None:
    """Take an approval back: the edition is in review again and cannot be sent."""
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        require_state(edition, (EditionState.APPROVED,), "withdraw the approval of")
        _unapprove(edition)
        audit(session, clock(), actor, "withdraw", ("edition", edition_id))


async def discard(db: Database, clock: Clock, edition_id: int, *, actor: str) -> None:
    """Throw a draft away: kept for the record and never sent; its stories are free
    again for the next draft."""
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        require_state(edition, EDITABLE, "discard")
        before = edition.state
        edition.state = EditionState.DISCARDED
        edition.approved_by = edition.approved_at = edition.approved_hash = None
        audit(session, clock(), actor, "discard", ("edition", edition_id), before=before.value)


async def schedule(
    db: Database, clock: Clock, edition_id: int, send_at: datetime | None, *, actor: str
) -> None:
    """Hold the edition back until ``send_at`` (None: send as soon as it is approved).

    Scheduling does not approve: an edition goes out at that time only if it is approved
    then, and the send gate still checks its content.
    """
    now = clock()
    if send_at is not None and send_at.tzinfo is None:
        raise FormError("the send time needs a time zone", hint="Give it in UTC, e.g. 09:00Z.")
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        require_state(edition, EDITABLE, "schedule")
        before, edition.send_at = edition.send_at, send_at
        audit(session, now, actor, "schedule", ("edition", edition_id),
              before=before.isoformat() if before else None,
              after=send_at.isoformat() if send_at else None)  # fmt: skip


def ensure_due(edition: Edition, now: datetime) -> None:
    """Refuse to send an edition before its scheduled time."""
    if edition.send_at is not None and edition.send_at > now:
        raise EditionStateError(
            f"edition {edition.id} is scheduled for {edition.send_at:%Y-%m-%d %H:%M} UTC",
            hint=f"Wait, or send it now: carnews edition schedule {edition.id} --now",
            context={"edition": edition.id},
        )


async def candidate_stories(
    session: AsyncSession, edition: Edition, since: datetime, limit: int = 40
) -> list[Story]:
    """Stories an editor may add: recent ones not in this edition, relevant ones first.

    Relevant stories already in another edition are left out; dropped ones are offered
    with their reasons, so an editor can overrule carnews.
    """
    here = [item.story_id for item in edition.items]
    in_any = stories_in_editions()
    query = (
        select(Story)
        .where(Story.created_at >= since, Story.id.not_in(here) if here else Story.id.is_not(None))
        .where(Story.relevant.is_(False) | Story.id.not_in(in_any))
        .order_by(Story.relevant.desc(), Story.rank_score.desc(), Story.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())
