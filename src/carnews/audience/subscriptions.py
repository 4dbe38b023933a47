"""Subscriptions: addresses, consent, disease choices, import/export, unsubscribe.

Addresses are checked for syntax (no DNS look-up: the machine may be offline
and a typo'd domain is the subscriber's to fix) and stored normalised, so
``Ana@Example.ORG`` and ``ana@example.org`` are one subscriber. Unsubscribe
links carry each subscriber's own random token (made when they are added, looked
up in the database), never their id; acting on them is POST-only (RFC 8058),
because link scanners GET every URL in a mail.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO, cast

from sqlalchemy import CursorResult, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.audience.addresses import normalise_address as normalise_address
from carnews.audience.diseases import disease_names, normalise_disease
from carnews.audience.privacy import suppressed_among
from carnews.clock import Clock
from carnews.curate.lexicon import Lexicon
from carnews.errors import NotFoundError, SubscriberError
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import Subscriber, SubscriberStatus

CSV_COLUMNS = ("email", "name", "diseases", "status", "consent_source", "created_at")
# What a token looks like (secrets.token_urlsafe); anything else is not looked up at all.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def normalise_diseases(names: Iterable[str], lexicon: Lexicon) -> list[str]:
    chosen: list[str] = []
    for name in names:
        if not name.strip():
            continue
        known = normalise_disease(name.strip(), lexicon)
        if known is None:
            raise SubscriberError(
                f"unknown disease {name.strip()!r}",
                hint="Choose from: " + ", ".join(disease_names(lexicon)),
                context={"disease": name},
            )
        if known not in chosen:
            chosen.append(known)
    return chosen


def split_diseases(value: str) -> list[str]:
    return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]


async def add_subscriber(
    db: Database,
    clock: Clock,
    lexicon: Lexicon,
    *,
    email: str,
    name: str = "",
    diseases: Sequence[str] = (),
    confirmed: bool = False,
    consent_source: str,
    actor: str,
) -> Subscriber:
    """Add one subscriber: active when consent was already confirmed, else pending."""
    address = normalise_address(email)
    chosen = normalise_diseases(diseases, lexicon)
    now = clock()
    async with db.session() as session:
        if await session.scalar(select(Subscriber.id).where(Subscriber.email == address)):
            raise SubscriberError(
                f"{address} is already on the list",
                hint="'carnews subscribers list' shows it and its status.",
                context={"address": address},
            )
        subscriber = _new_subscriber(address, name, chosen, confirmed, consent_source, now)
        session.add(subscriber)
        await session.flush()
        audit(session, now, actor, "subscriber_add", ("subscriber", subscriber.id))
        return subscriber


def _new_subscriber(
    address: str, name: str, diseases: list[str], confirmed: bool, source: str, now: datetime
) -> Subscriber:
    return Subscriber(**_subscriber_values(address, name, diseases, confirmed, source, now))


def _subscriber_values(
    address: str, name: str, diseases: list[str], confirmed: bool, source: str, now: datetime
) -> dict[str, Any]:
    return {
        "email": address,
        "name": name.strip(),
        "diseases": diseases,
        "status": SubscriberStatus.ACTIVE if confirmed else SubscriberStatus.PENDING,
        "consent_source": source,
        "consent_at": now,
        "created_at": now,
        "confirmed_at": now if confirmed else None,
    }


async def list_subscribers(
    db: Database, status: SubscriberStatus | None = None
) -> list[Subscriber]:
    async with db.read() as session:
        query = select(Subscriber).order_by(Subscriber.id)
        if status is not None:
            query = query.where(Subscriber.status == status)
        return list((await session.scalars(query)).all())


IMPORT_CHUNK = 1000  # rows validated, looked up and inserted together, in one transaction
MAX_REJECTS_KEPT = 1000  # a file of nothing but bad rows must not fill memory with reasons
NAME_LENGTH = 200  # the subscribers.name column


@dataclass
class ImportReport:
    added: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, address, why
    rejected_total: int = 0  # every rejected row; ``rejected`` keeps the first MAX_REJECTS_KEPT

    def reject(self, line: int, address: str, why: str) -> None:
        self.rejected_total += 1
        if len(self.rejected) < MAX_REJECTS_KEPT:
            self.rejected.append((line, address[:NAME_LENGTH], why))


class _UnreadableLine(Exception):
    def __init__(self, line: int, why: str) -> None:
        super().__init__(why)
        self.line, self.why = line, why


Row = tuple[int, str, str, str]  # line, email, name, diseases


def _rows(lines: Iterable[str]) -> Iterator[Row]:
    """The file's rows one at a time (never the whole file), by header name."""
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        columns: dict[str, int] = {}
        for index, title in enumerate(header or []):
            columns.setdefault(title.strip().lower(), index)
        if "email" not in columns:
            raise SubscriberError(
                "the CSV has no 'email' column",
                hint="The first line must name the columns, e.g. email,name,diseases.",
            )
        for fields in reader:
            if any(value.strip() for value in fields):
                email, name, diseases = (_field(fields, columns, c) for c in CSV_COLUMNS[:3])
                yield reader.line_num, email, name, diseases
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit(): not a subscriber row
        raise _UnreadableLine(reader.line_num, str(exc)) from None


def _field(fields: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return fields[index].strip() if index is not None and index < len(fields) else ""


@dataclass(frozen=True)
class Added:
    """One subscriber an import chunk added."""

    id: int
    email: str
    status: SubscriberStatus


# Called inside each chunk's transaction with the rows that chunk added, so work that
# belongs with them (a confirmation mail for each pending one) commits or rolls back
# with them.
ChunkHook = Callable[[AsyncSession, Sequence[Added]], Awaitable[None]]


async def import_csv(
    db: Database,
    clock: Clock,
    lexicon: Lexicon,
    source: str | Iterable[str],
    *,
    confirmed: bool,
    actor: str,
    site_key: str = "",
    on_added: ChunkHook | None = None,
) -> ImportReport:
    """Import rows with at least an ``email`` column; a bad row is reported, the rest go in.

    With ``site_key``, an address that was erased or blocked (``audience.privacy``) is
    rejected rather than silently added back; the CLI always passes it.

    ``source`` is the CSV text or, for a large file, an open text stream: it is read,
    checked and inserted a chunk of rows at a time, each chunk in its own transaction,
    so memory stays flat and other writers get their turn between chunks.
    """
    lines = io.StringIO(source) if isinstance(source, str) else source
    report = ImportReport()
    chunk = _Chunk(db, lexicon, report, clock(), confirmed, actor, on_added, site_key)
    stopped: _UnreadableLine | None = None
    try:
        for row in _rows(lines):
            chunk.rows.append(row)
            if len(chunk.rows) == IMPORT_CHUNK:
                await chunk.flush()
    except _UnreadableLine as exc:
        stopped = exc  # the rows read before it still go in, as the message says
    await chunk.flush()
    if stopped is not None:
        raise SubscriberError(
            f"line {stopped.line} of the CSV cannot be read: {stopped.why}",
            hint=f"Rows before it were imported ({report.added} added); fix the file and import "
            "it again: addresses already on the list are skipped. (A stray quote makes the rest "
            "of a file one huge field.)",
            context={"line": stopped.line},
        )
    return report


def _check_row(row: Row, lexicon: Lexicon) -> tuple[str, str, list[str]]:
    _, email, name, diseases = row
    address = normalise_address(email)
    if len(name) > NAME_LENGTH:
        raise SubscriberError(f"the name is longer than {NAME_LENGTH} characters")
    return address, name, normalise_diseases(split_diseases(diseases), lexicon)


@dataclass
class _Chunk:
    """Rows read but not yet stored; ``flush`` checks and inserts them together."""

    db: Database
    lexicon: Lexicon
    report: ImportReport
    now: datetime
    confirmed: bool
    actor: str
    on_added: ChunkHook | None
    site_key: str = ""  # given: erased and blocked addresses are refused (``privacy``)
    rows: list[Row] = field(default_factory=list)

    async def flush(self) -> None:
        if not self.rows:
            return
        wanted = self._checked()
        rows, self.rows = self.rows, []
        lines = f"{rows[0][0]}-{rows[-1][0]}"
        if not wanted:
            return
        async with self.db.session() as session:
            if self.site_key:
                await _drop_suppressed(session, self.site_key, wanted, rows, self.report)
            added = await _insert_new(session, list(wanted.values()),
                                      named=self.on_added is not None)  # fmt: skip
            count = added if isinstance(added, int) else len(added)
            if count:
                audit(session, self.now, self.actor, "subscriber_import", ("subscribers", "*"),
                      added=count, lines=lines)  # fmt: skip
            if self.on_added is not None and not isinstance(added, int) and added:
                await self.on_added(session, added)
        self.report.added += count
        self.report.unchanged += len(wanted) - count

    def _checked(self) -> dict[str, dict[str, Any]]:
        """The chunk's good rows as column values, each address once; bad rows reported."""
        wanted: dict[str, dict[str, Any]] = {}
        for row in self.rows:
            try:
                address, name, diseases = _check_row(row, self.lexicon)
            except SubscriberError as exc:
                self.report.reject(row[0], row[1], exc.message)
                continue
            if address in wanted:
                self.report.unchanged += 1
                continue
            wanted[address] = _subscriber_values(address, name, diseases, self.confirmed,
                                                 "import", self.now)  # fmt: skip
        return wanted


async def _insert_new(
    session: AsyncSession, rows: list[dict[str, Any]], *, named: bool
) -> list[Added] | int:
    """Insert in bulk; an address already on the list is left as it is.

    ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike) also covers an address that a
    sign-up adds between two chunks. ``named``: RETURNING names the rows that went in;
    else only their number is wanted, which SQLite counts for free (PostgreSQL's driver
    does not count an executemany, so it is always asked by name).
    """
    if not rows:  # every row of the chunk was dropped: an empty execute inserts one blank row
        return [] if named else 0
    table = cast(Table, Subscriber.__table__)  # the Core table: no ORM work per row
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = (postgresql.insert if postgres else sqlite.insert)(table).on_conflict_do_nothing(
        index_elements=[table.c.email]
    )
    if not named and not postgres:
        return cast(CursorResult[Any], await session.execute(statement, rows)).rowcount
    returning = statement.returning(table.c.id, table.c.email, table.c.status)
    added = [Added(*row) for row in (await session.execute(returning, rows)).all()]
    return added if named else len(added)


async def _drop_suppressed(
    session: AsyncSession, site_key: str, wanted: dict[str, dict[str, Any]], chunk: list[Row],
    report: ImportReport,
) -> None:  # fmt: skip
    """Reject the erased and blocked addresses: only their owner may sign up again."""
    refused = await suppressed_among(session, site_key, list(wanted))
    if not refused:
        return
    why = "erased or blocked: only its owner can sign up again, through the form"
    for line, email, _, _ in chunk:
        address = _normalised_or_none(email)
        if address in refused and address in wanted:
            del wanted[address]
            report.reject(line, address, why)


def _normalised_or_none(email: str) -> str | None:
    try:
        return normalise_address(email)
    except SubscriberError:
        return None


async def export_csv(db: Database) -> str:
    out = io.StringIO()
    await write_csv(db, out)
    return out.getvalue()


async def write_csv(db: Database, out: TextIO) -> None:
    """Every subscriber as CSV, read a page at a time so a large list is never all in memory."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    columns = (Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.diseases,
               Subscriber.status, Subscriber.consent_source, Subscriber.created_at)  # fmt: skip
    last = 0
    while True:
        async with db.session() as session:
            query = select(*columns).where(Subscriber.id > last).order_by(Subscriber.id)
            page = (await session.execute(query.limit(IMPORT_CHUNK))).all()
        if not page:
            return
        for _id, email, name, diseases, status, source, created in page:
            writer.writerow([email, name, ";".join(diseases), status.value, source,
                             created.isoformat()])  # fmt: skip
        last = page[-1][0]


async def subscriber_for_token(db: Database, token: str) -> int:
    """The subscriber an unsubscribe link names, or NotFoundError.

    A link that was never issued, or whose subscriber was erased, gets the same answer as
    a malformed one: nothing tells a guesser which tokens exist.
    """
    found = None
    if TOKEN_PATTERN.fullmatch(token):
        # A read: the page answers while a send holds SQLite's one write lock.
        async with db.read() as session:
            found = await session.scalar(
                select(Subscriber.id).where(Subscriber.unsubscribe_token == token)
            )
    if found is None:
        raise NotFoundError(
            "this unsubscribe link is not valid", hint="Use the link from your newsletter email."
        )
    return found


async def unsubscribe(db: Database, clock: Clock, subscriber_id: int, *, via: str) -> Subscriber:
    """Stop all mail to a subscriber; doing it twice is harmless."""
    now = clock()
    async with db.session() as session:
        subscriber = await session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise NotFoundError("this subscription no longer exists")
        if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
            subscriber.status = SubscriberStatus.UNSUBSCRIBED
            subscriber.unsubscribed_at = now
            audit(session, now, via, "unsubscribe", ("subscriber", subscriber_id))
        return subscriber


async def unsubscribe_address(db: Database, clock: Clock, address: str, *, via: str) -> bool:
    """Unsubscribe by address (a mailto: reply, the webhook); False if nobody has it."""
    async with db.read() as session:
        found = await session.scalar(select(Subscriber.id).where(Subscriber.email == address))
    if found is None:
        return False
    await unsubscribe(db, clock, found, via=via)
    return True
