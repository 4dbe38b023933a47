"""Edition: assemble the draft and enforce the review gate.

States: draft → in_review → approved → sending → sent, or discarded. Approval records
who, when and a hash of exactly what was approved (the subject, the intro, each story's
wording and card, and their order). Any edit afterwards withdraws the approval, and
``ensure_sendable`` refuses an edition whose content no longer matches its
approved hash: the gate is code, not a convention.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from carnews.clock import Clock
from carnews.errors import EditionStateError, NotFoundError
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import Edition, EditionState, EditionStory, Story

EDITABLE = (EditionState.DRAFT, EditionState.IN_REVIEW, EditionState.APPROVED)


def stories_in_editions() -> Select[int]:
    """Ids of stories some edition holds; a discarded draft's stories are free again."""
    kept = Edition.state != EditionState.DISCARDED
    held = select(EditionStory.story_id).join(Edition, EditionStory.edition_id == Edition.id)
    return held.where(kept)


async def load_edition(session: AsyncSession, edition_id: int) -> Edition:
    edition = await session.scalar(
        select(Edition)
        .where(Edition.id == edition_id)
        .options(selectinload(Edition.items).selectinload(EditionStory.story))
    )
    if edition is None:
        raise NotFoundError(f"there is no edition {edition_id}", context={"edition": edition_id})
    return edition


def content_hash(edition: Edition) -> str:
    """A hash of everything a reader will see; approval is bound to it.

    The title is the email's subject; the card is the edition's own copy of each story's
    sections, which the email and the archive show.
    """
    payload = {
        "title": edition.title,
        "intro": edition.intro,
        "items": [
            [item.story_id, item.headline, item.summary, item.what_it_means, item.card]
            for item in sorted(edition.items, key=lambda item: item.position)
        ],
    }
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


@dataclass(frozen=True)
class DraftResult:
    edition_id: int | None
    story_count: int
    reason: str
    # Relevant stories no edition carries that this draft left out, and why: so an
    # operator who saw 'fetch' keep 20 knows where the other 18 went.
    outside_window: int = 0  # published before the lookback window (or undated, or future)
    over_limit: int = 0  # in the window, but beyond edition.max_stories


async def draft_edition(
    db: Database, clock: Clock, *, lookback_days: int, max_stories: int, title: str, actor: str
) -> DraftResult:
    """Create a draft from relevant stories of the period that no edition carries yet."""
    now = clock()
    start = now - timedelta(days=lookback_days)
    # A story still being explained would go out with no (or an old) summary.
    unused = (Story.relevant.is_(True), Story.id.not_in(stories_in_editions()),
              Story.awaiting_explanation.is_(False))  # fmt: skip
    window = (Story.published_at >= start, Story.published_at <= now)
    async with db.session() as session:
        candidates = (
            await session.scalars(
                select(Story).where(*unused, *window)
                .order_by(Story.rank_score.desc(), Story.id).limit(max_stories)
            )
        ).all()  # fmt: skip
        in_window = await _count(session, *unused, *window)
        outside = await _count(session, *unused) - in_window
        if not candidates:
            reason = f"no new relevant stories since {start:%Y-%m-%d}"
            return DraftResult(None, 0, reason, outside_window=outside)
        edition = Edition(
            title=await _distinct_title(session, f"{title} — {now:%-d %B %Y}"),
            period_start=start,
            period_end=now,
            created_at=now,
            state=EditionState.DRAFT,
        )
        edition.items = [
            edition_item(story, position) for position, story in enumerate(candidates, start=1)
        ]
        session.add(edition)
        await session.flush()
        audit(session, now, actor, "draft", ("edition", edition.id), stories=len(candidates))
        return DraftResult(edition.id, len(candidates), "drafted", outside_window=outside,
                           over_limit=in_window - len(candidates))  # fmt: skip


def edition_item(story: Story, position: int) -> EditionStory:
    """A story's place in an edition, with the edition's own copy of its card: the card's
    plain headline, not the source's title (that stays the link text)."""
    card = dict(story.card or {})
    return EditionStory(
        story_id=story.id,
        position=position,
        headline=card.get("headline") or story.title,
        summary=story.summary,
        what_it_means=story.what_it_means,
        card=card,
    )


async def _count(session: AsyncSession, *where: ColumnElement[bool]) -> int:
    return int(await session.scalar(select(func.count()).select_from(Story).where(*where)) or 0)


async def _distinct_title(session: AsyncSession, base: str) -> str:
    """``base``, or ``base (2)``, ``(3)``…: two drafts of one day must not look the same."""
    same = await session.scalar(
        select(func.count()).select_from(Edition).where(
            or_(Edition.title == base, Edition.title.startswith(f"{base} (", autoescape=True))
        )
    )  # fmt: skip
    return f"{base} ({same + 1})" if same else base


async def submit_for_review(db: Database, clock: Clock, edition_id: int, actor: str) -> None:
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        require_state(edition, (EditionState.DRAFT,), "submit for review")
        edition.state = EditionState.IN_REVIEW
        audit(session, clock(), actor, "submit", ("edition", edition_id))


async def approve(
    db: Database, clock: Clock, edition_id: int, approver: str, *, checklist: Sequence[str] = ()
) -> str:
    """Approve what the edition holds now; return the approved content hash.

    The doors call ``workflow.approve``, which asks for the review checklist first and
    passes the lines confirmed, kept in the audit (``checklist``)."""
    if not approver.strip():
        raise EditionStateError("approval needs the approver's name", hint="Pass --by NAME.")
    # The name is stored (200 characters), audited and shown wherever the edition is.
    if len(approver.strip()) > 200 or any(ch < " " or ch == "\x7f" for ch in approver):
        raise EditionStateError(
            f"the approver's name {approver!r} is not a name: it is over 200 characters or "
            "holds a line break or another control character",
            hint="Pass --by with the editor's name on one line, e.g. --by 'Dr Jane Editor'.",
        )
    now = clock()
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        require_state(edition, (EditionState.DRAFT, EditionState.IN_REVIEW), "approve")
        if not edition.items:
            raise EditionStateError(f"edition {edition_id} has no stories to approve")
        edition.state = EditionState.APPROVED
        edition.approved_by = approver.strip()
        edition.approved_at = now
        edition.approved_hash = content_hash(edition)
        audit(
            session,
            now,
            approver,
            "approve",
            ("edition", edition_id),
            hash=edition.approved_hash,
            **({"checklist": list(checklist)} if checklist else {}),
        )
        return edition.approved_hash


async def edit(
    db: Database,
    clock: Clock,
    edition_id: int,
    actor: str,
    *,
    intro: str | None = None,
    order: list[int] | None = None,
    drop: list[int] | None = None,
    wording: dict[int, tuple[str, str]] | None = None,
) -> None:
    """Change an edition; any change to an approved edition withdraws the approval.

    ``order`` lists story ids in their new order; ``drop`` removes story ids;
    ``wording`` maps a story id to a new (headline, summary).
    """
    now = clock()
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        require_state(edition, EDITABLE, "edit")
        before = content_hash(edition)
        if intro is not None:
            edition.intro = intro
        _apply_item_changes(edition, order or [], drop or [], wording or {})
        await session.flush()
        if content_hash(edition) == before:
            return
        if edition.state == EditionState.APPROVED:
            edition.state = EditionState.IN_REVIEW
            edition.approved_by = edition.approved_at = edition.approved_hash = None
            audit(session, now, actor, "approval_withdrawn", ("edition", edition_id))
        audit(session, now, actor, "edit", ("edition", edition_id))


def _apply_item_changes(
    edition: Edition, order: list[int], drop: list[int], wording: dict[int, tuple[str, str]]
) -> None:
    by_story = {item.story_id: item for item in edition.items}
    unknown = (set(order) | set(drop) | set(wording)) - set(by_story)
    if unknown:
        raise NotFoundError(
            f"edition {edition.id} has no stories {sorted(unknown)}",
            hint=f"Its stories are {sorted(by_story)}.",
        )
    for story_id, (headline, summary) in wording.items():
        _reword(by_story[story_id], headline, summary)
    edition.items = [item for item in edition.items if item.story_id not in drop]
    ranked = order + [i.story_id for i in edition.items if i.story_id not in order]
    position = {story_id: index for index, story_id in enumerate(ranked, start=1)}
    for item in edition.items:
        item.position = position[item.story_id]


def _reword(item: EditionStory, headline: str, summary: str) -> None:
    """The editor's wording, in the item and in its card, which is what readers see: a new
    summary takes the place of the card's three summary sections."""
    if item.card:
        card = dict(item.card)  # a new dict: the JSON column notices only a new value
        card["headline"] = headline
        if summary != item.summary:
            card.update(what_was_tested=summary, who_took_part="", what_happened="")
        item.card = card
    item.headline, item.summary = headline, summary


def ensure_sendable(edition: Edition) -> None:
    """The review gate: only an approved edition, unchanged since approval, may go out."""
    if edition.state not in (EditionState.APPROVED, EditionState.SENDING):
        raise EditionStateError(
            f"edition {edition.id} is {edition.state.value}, not approved",
            context={"edition": edition.id},
        )
    if edition.approved_hash != content_hash(edition):
        raise EditionStateError(
            f"edition {edition.id} changed after it was approved",
            hint="Review it again and approve the current content.",
            context={"edition": edition.id},
        )


def require_state(edition: Edition, states: tuple[EditionState, ...], what: str) -> None:
    if edition.state not in states:
        allowed = ", ".join(state.value for state in states)
        raise EditionStateError(
            f"cannot {what} edition {edition.id}: it is {edition.state.value}",
            hint=f"Only an edition that is {allowed} can be changed that way.",
            context={"edition": edition.id},
        )


async def list_editions(db: Database) -> list[Edition]:
    async with db.read() as session:
        query = select(Edition).options(selectinload(Edition.items)).order_by(Edition.id.desc())
        return list((await session.scalars(query)).all())
