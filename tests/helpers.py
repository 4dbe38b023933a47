"""Small builders shared by tests: stories in a database, SMTP servers on loopback."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select

from carnews.audience.subscriptions import add_subscriber
from carnews.clock import Clock
from carnews.curate.lexicon import Lexicon, load_lexicon
from carnews.demo.servers import MaildirHandler, free_port
from carnews.explain.checks import explain_story
from carnews.explain.facts import Facts, extract_facts
from carnews.storage import Database
from carnews.storage.models import Entry, Source, Story


async def add_stories(
    db: Database, now: datetime, specs: Sequence[tuple[str, list[str]]]
) -> list[int]:
    """Relevant stories with the given (title, diseases), published in the last days."""
    ids = []
    async with db.session() as session:
        for number, (title, diseases) in enumerate(specs, start=1):
            story = Story(
                canonical_key=f"doi:10.1000/test.{number}",
                title=title,
                link=f"https://doi.org/10.1000/test.{number}",
                published_at=now - timedelta(days=number),
                relevant=True,
                score=5.0,
                diseases=diseases,
                therapy="CAR-T",
                evidence="case series",
                patients=5,
                summary=f"Summary of {title}. Five people were treated.",
                what_it_means="A report on 5 people treated the same way.",
                terms_explained=[{"term": "CAR-T", "plain": "Your own immune cells, retrained."}],
                rank_score=10.0 - number,
                created_at=now,
            )
            session.add(story)
            await session.flush()
            ids.append(story.id)
    return ids


# A regulator's notice whose template card reads above the grade limit: two long disease
# names, each explained in brackets. The tests of the safe fallback card use it.
LONG_NAMES_TITLE = ("FDA clears IND for CD19/BCMA CAR-T in autoimmune haemolytic anaemia and"
                    " autoimmune cerebellar ataxia")  # fmt: skip
LONG_NAMES_TEXT = (
    "The FDA has cleared an investigational new drug application allowing a phase 1 study of a"
    " CD19/BCMA dual-targeting CAR T-cell therapy in patients with refractory autoimmune"
    " haemolytic anaemia and autoimmune cerebellar ataxia. The first site is expected to open"
    " in the coming quarter."
)
LUPUS_TITLE = "CD19 CAR T cells put lupus into remission"
LUPUS_TEXT = (
    "Researchers treated five patients with severe systemic lupus erythematosus using "
    "CD19 CAR T cells. All five were in drug-free remission after three months. Side "
    "effects were mild, and no patient had severe cytokine release syndrome."
)


async def add_entry(
    db: Database, now: datetime, key: str, title: str = LUPUS_TITLE, text: str = LUPUS_TEXT
) -> int:
    """A new entry from the source 'news' (made if missing), waiting to be curated."""
    async with db.session() as session:
        source = await session.scalar(select(Source).where(Source.name == "news"))
        if source is None:
            source = Source(name="news", url="https://news.test/feed", created_at=now)
            session.add(source)
        entry = Entry(source=source, guid=key, canonical_key=f"url:https://news.test/{key}",
                      link=f"https://news.test/{key}", title=title, text=text,
                      content_hash=key, fetched_at=now, published_at=now)  # fmt: skip
        session.add(entry)
        await session.flush()
        return entry.id


class RefusingHandler(MaildirHandler):
    """Keeps messages like the demo sink, but answers 550 for addresses with 'bounce'."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if "bounce" in address:
            return "550 5.1.1 No such user"
        if "busy" in address:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@contextmanager
def smtp_server(
    directory: Path, handler: MaildirHandler | None = None, **options: Any
) -> Iterator[int]:
    """aiosmtpd on a free loopback port; ``options`` go to its Controller (TLS, AUTH)."""
    directory.mkdir(parents=True, exist_ok=True)
    handler = handler or RefusingHandler(directory)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


async def subscribe(db: Database, clock: Clock, address: str, diseases: Sequence[str] = ()) -> None:
    """An active subscriber whose consent is already confirmed."""
    await add_subscriber(db, clock, load_lexicon(), email=address, diseases=diseases,
                         confirmed=True, consent_source="test", actor="test")  # fmt: skip


def inbox(directory: Path) -> list[email.message.EmailMessage]:
    """Every message the test SMTP server kept, parsed as a mail client would."""
    found = []
    for path in sorted(directory.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        found.append(message)
    return found


def facts(lexicon: Lexicon, title: str, text: str) -> Facts:
    """What the story card's extractor reads in a title and text, with no feed labels."""
    return extract_facts(title, text, lexicon=lexicon)


def side_effects(lexicon: Lexicon, title: str, text: str, *, every_check: bool = True) -> str:
    """The card's side-effects section, from a card that passed every check (or, with
    ``every_check=False``, at least the check that a reported harm is on the card)."""
    story = explain_story(title, text, lexicon=lexicon)
    if every_check:
        assert all(story.checks.values()), story.checks
    else:
        assert story.checks["harms_reported"]
    return story.card.side_effects or ""
